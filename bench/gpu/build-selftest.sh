#!/usr/bin/env bash
# Builds build-gpu/cuda-selftest: the CUDA kernels (kernels/cuda/*.cu) linked with the self-test
# (bench/gpu/selftest/), statically against the CUDA runtime, so it runs on the GPU machine without
# Node.js. Run here (no GPU needed) or, as a fallback, on the GPU machine (check.sh does that when the
# binary is missing and nvcc is there).
#
#   bench/gpu/build-selftest.sh             sm_90a only (the H100/H200; "a": gemm v3's wgmma needs the
#                                           arch-specific target, and sm_90a code runs on sm_90 devices only)
#   SELFTEST_ARCHS="80 90a" bench/gpu/...   several architectures
#   SELFTEST_JOBS=4 bench/gpu/...           parallel nvcc jobs (default: nproc)
# Warnings are errors (the same flags CI would use for the addon's CUDA sources).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null || { echo "build-selftest: nvcc not found" >&2; exit 1; }
ARCHS="${SELFTEST_ARCHS:-90a}"
JOBS="${SELFTEST_JOBS:-$(nproc)}"
OBJ="build-gpu/selftest-obj"
mkdir -p "$OBJ"

GENCODE=()
# SASS for every architecture; PTX too except for arch-specific targets ("90a": its PTX runs on sm_90 only,
# where the SASS already is)
for a in $ARCHS; do
  if [[ "$a" == *a ]]; then GENCODE+=("--generate-code=arch=compute_${a},code=sm_${a}")
  else GENCODE+=("--generate-code=arch=compute_${a},code=[compute_${a},sm_${a}]"); fi
done
# --compress-mode=size: the fatbins ~6× smaller than the default compression (what travels is ≤ 64 MiB in all)
FLAGS=(-O3 -DNDEBUG -std=c++17 --expt-relaxed-constexpr -lineinfo --compress-mode=size "${GENCODE[@]}" -I kernels/include -I bench/gpu/selftest
       -DSANA_LAB_WITH_CUDA=1 "-DSANA_LAB_CUDA_VERSION=\"selftest\"" -Werror all-warnings -Xcompiler -Wall,-Wextra,-Wno-unused-parameter)

SOURCES=(kernels/cuda/*.cu bench/gpu/selftest/*.cu)
echo "[build-selftest] nvcc $("$NVCC" --version | tail -1 | sed 's/^.*release //') for sm_${ARCHS// /,sm_}, ${#SOURCES[@]} files, $JOBS jobs" >&2
start=$(date +%s)
printf '%s\n' "${SOURCES[@]}" | xargs -P "$JOBS" -I{} bash -c '
  src="$1"; shift
  obj="'"$OBJ"'/$(basename "$src").o"
  t0=$(date +%s.%N)
  "'"$NVCC"'" "$@" -c "$src" -o "$obj" || exit 255
  printf "[build-selftest] %-40s %6.1f s\n" "$src" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
' _ {} "${FLAGS[@]}"
# libstdc++/libgcc linked in statically: the binary then needs only glibc ≥ 2.34 on the GPU machine
"$NVCC" "${GENCODE[@]}" -o build-gpu/cuda-selftest "$OBJ"/*.o -lpthread -Xcompiler -static-libstdc++,-static-libgcc
echo "[build-selftest] build-gpu/cuda-selftest ($(du -h build-gpu/cuda-selftest | cut -f1)) in $(( $(date +%s) - start )) s" >&2
