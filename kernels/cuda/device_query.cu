// CUDA device discovery. Must never crash without a GPU or driver: with the static runtime,
// cudaGetDeviceCount returns cudaErrorInsufficientDriver (35) or cudaErrorNoDevice (100) there.
#include <cuda_runtime.h>

#include "sana/device_info.h"

namespace sana {

CudaInfo query_cuda() {
  CudaInfo info;
  info.compiled = true;
#ifdef SANA_LAB_CUDA_VERSION
  info.runtime_version = SANA_LAB_CUDA_VERSION;
#endif
#ifdef SANA_LAB_CUDA_ARCHS
  info.archs = SANA_LAB_CUDA_ARCHS;
#endif
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess) info.driver_version = driver;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.error_code = static_cast<int>(err);
    info.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(err) + " (" +
                  std::to_string(static_cast<int>(err)) + "): " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return info;
  }
  if (count == 0) {
    info.reason = "no CUDA device found";
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    CudaDevice d;
    d.index = i;
    d.name = p.name;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.total_memory = static_cast<int64_t>(p.totalGlobalMem);
    d.sm_count = p.multiProcessorCount;
    info.devices.push_back(d);
  }
  info.available = !info.devices.empty();
  if (!info.available) info.reason = "cudaGetDeviceProperties failed for every device";
  return info;
}

}  // namespace sana
