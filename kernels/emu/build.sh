#!/usr/bin/env bash
# Builds build-emu/cuda-selftest-emu: the CUDA kernels (kernels/cuda/*.cu) and the GPU self-test
# (bench/gpu/selftest/) compiled with the host C++ compiler against the emulator (kernels/emu/), so
# the self-test's parity checks run the real kernel code on a machine without a GPU.
#
#   kernels/emu/build.sh                 → build-emu/cuda-selftest-emu
#   SANA_EMU_BUILD_DIR=DIR  SANA_EMU_JOBS=N  SANA_EMU_CXXFLAGS="-O0 -g -fsanitize=address"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CXX="${CXX:-g++}"
OUT="${SANA_EMU_BUILD_DIR:-build-emu}"
JOBS="${SANA_EMU_JOBS:-$(nproc)}"
# The CUDA headers (types, cuda_bf16.h's host conversions); nothing of the CUDA runtime is linked.
CUDA_INC=""
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" "$(dirname "$(readlink -f "$(command -v nvcc 2>/dev/null || echo /nonexistent)")")/.." /usr/local/cuda; do
  if [ -n "$d" ] && [ -f "$d/include/cuda.h" ]; then CUDA_INC="$d/include"; break; fi
done
[ -n "$CUDA_INC" ] || { echo "emu build: cuda.h not found (set CUDA_HOME)" >&2; exit 1; }
mkdir -p "$OUT/src" "$OUT/obj"

SOURCES=()
for f in kernels/cuda/*.cu bench/gpu/selftest/*.cu; do
  dst="$OUT/src/$(basename "$f" .cu).cpp"
  node kernels/emu/translate.mjs "$f" "$dst"
  SOURCES+=("$dst")
done
# The emulator's own sources are plain C++ (no prelude).
EMU_SOURCES=(kernels/emu/emu_core.cpp kernels/emu/emu_ptx.cpp kernels/emu/emu_runtime.cpp kernels/emu/ptx_mma.cpp kernels/emu/ptx_sm90.cpp)

# -Wno-unknown-pragmas: `#pragma unroll`; -Wno-unused-parameter as in the CUDA build; -fno-strict-aliasing:
# kernels read and write through reinterpret_cast views (float4 over bf16, …) as device code may.
FLAGS=(-std=c++17 ${SANA_EMU_CXXFLAGS:--O2} -fno-strict-aliasing -I kernels/emu -I kernels/include -I bench/gpu/selftest -I "$CUDA_INC"
       -DSANA_LAB_WITH_CUDA=1 "-DSANA_LAB_CUDA_VERSION=\"emu\"" -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-unused-parameter -Wno-psabi)
echo "[emu build] $CXX, $(( ${#SOURCES[@]} + ${#EMU_SOURCES[@]} )) files, $JOBS jobs → $OUT/cuda-selftest-emu" >&2
start=$(date +%s)
printf '%q\n' "${FLAGS[@]}" > "$OUT/flags.rsp"  # a gcc response file (shell-quoted arguments)
{ for f in "${SOURCES[@]}"; do echo "P $f"; done; for f in "${EMU_SOURCES[@]}"; do echo "E $f"; done; } | xargs -n 2 -P "$JOBS" bash -c '
  kind="$1"; src="$2"
  obj="'"$OUT"'/obj/$(basename "$src" .cpp).o"
  pre=(); [ "$kind" = P ] && pre=(-include kernels/emu/cuda_emu.h)
  "'"$CXX"'" "${pre[@]}" @"'"$OUT"'/flags.rsp" -c "$src" -o "$obj" || exit 255
' _
"$CXX" ${SANA_EMU_CXXFLAGS:-} -o "$OUT/cuda-selftest-emu" "$OUT"/obj/*.o -lpthread
echo "[emu build] done in $(( $(date +%s) - start )) s" >&2
