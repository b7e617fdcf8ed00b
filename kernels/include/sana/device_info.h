// What the addon can report about the machine, independent of JS.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sana {

struct CudaDevice {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int64_t total_memory = 0;
  int sm_count = 0;
};

struct CudaInfo {
  bool compiled = false;      // CUDA kernels are part of this addon
  bool available = false;     // a usable device and driver were found
  std::string reason;         // why not available (the CUDA error text), empty when available
  int error_code = 0;         // cudaGetDeviceCount's error code (35 = insufficient driver, 100 = no device)
  std::string runtime_version;  // the CUDA toolkit the addon was compiled with
  std::string archs;            // the CUDA architectures it was built for, as configured (e.g. "80 90a-real")
  int driver_version = 0;     // cudaDriverGetVersion, 0 when there is no driver
  std::vector<CudaDevice> devices;
};

// Defined in kernels/cuda/device_query.cu, or in kernels/cpu/no_cuda.cpp for CPU-only builds.
CudaInfo query_cuda();

// Hardware threads the CPU backend uses by default.
int cpu_default_threads();
std::string cpu_model_name();

}  // namespace sana
