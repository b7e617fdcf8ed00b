// Kernel versions per backend and op: the `version` option every op takes (0 = the backend's default)
// and runtime.opVersions(backend). Static data: the cuda list is available without a GPU.
//   cpu:  one version per op (1), except linear-attention: 1 = the unfused composition, 2 = the fused
//         kernel (the numbering of bench/catalogue.ts).
//   cuda: cuda::op_versions(), the numbered versions of each kernels/cuda/<op>.cu file header.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "sana/ops.h"

namespace sana::binding {

struct VersionEntry {
  int version;
  std::string summary;  // the idea, one line
  std::string needs;    // what it supports beyond the op's own rules ("" = everything)
};

struct OpVersionList {
  std::string op;  // the catalogue / CLI name, e.g. "linear-attention"
  std::vector<VersionEntry> versions;
};

// The versions of every op on `backend` ("cpu", or "cuda" in a CUDA build); throws an Error naming
// `fn` for another name or a cuda list asked of a CPU-only build.
std::vector<OpVersionList> backend_versions(Napi::Env env, const std::string& backend, const std::string& fn);

// Throws a RangeError "<op>: no version N on the <backend> backend (versions: …; 0 = the default)"
// unless `version` is 0 or one of the op's versions on `be`.
void check_version(Napi::Env env, const std::string& op, const OpTable& be, int version);

}  // namespace sana::binding
