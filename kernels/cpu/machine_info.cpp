// CPU facts for `sana-lab info` and benchmark records; the CUDA stub for CPU-only builds.
#include <fstream>
#include <string>
#include <thread>

#include "sana/device_info.h"

namespace sana {

int cpu_default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

#ifndef SANA_LAB_WITH_CUDA
CudaInfo query_cuda() {
  CudaInfo info;
  info.compiled = false;
  info.reason = "CUDA kernels not compiled into this addon (no nvcc at build time, or SANA_LAB_CUDA=0)";
  return info;
}
#endif

}  // namespace sana
