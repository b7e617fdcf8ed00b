#!/usr/bin/env bash
# Everything the host emulator can say about the CUDA kernels, in one command (CI runs it; ~12 min on
# 2 cores: the self-test ~3 (and ~2.5 again as programmatic dependents), the mutants ~7, the builds, the Node parity): the GPU self-test's parity of every op × version × dtype, the mutants it must reject, and
# the Node cuda backend (op parity and whole-model parity) on an addon built for the emulator.
#   npm run test:emu
#   SANA_EMU_ASAN=subset (default) | full | 0   the AddressSanitizer build's run (global-memory bounds,
#                                                as compute-sanitizer memcheck): the quicker ops | all (~15 min) | none
#   SANA_EMU_ORDERS=1                            also run the self-test with each block's threads resumed in
#                                                reverse and in shuffled order (~2 min more)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
step() { echo "[emu] $*"; }
t0=$(date +%s)

step "build: the kernels and the GPU self-test for the emulator (kernels/emu/build.sh)"
bash kernels/emu/build.sh
step "self-test parity (every op, version and dtype against float64 references; bench/gpu/selftest)"
build-emu/cuda-selftest-emu --parity --json build-emu/selftest-parity.json | tail -n 3
if [ "${SANA_EMU_ORDERS:-0}" != 0 ]; then  # ~2 min more; the emulator README lists the last full run
  for order in reverse shuffle; do
    step "self-test parity again with the threads of each block resumed in $order order (SANA_EMU_ORDER=$order)"
    SANA_EMU_ORDER=$order SANA_EMU_SEED="${SANA_EMU_SEED:-$(date +%s)}" build-emu/cuda-selftest-emu --parity | tail -n 1
  done
fi
step "the wgmma composites again with every gemm v3 in clusters of two (SANA_LAB_GEMM_CLUSTER=2)"
SANA_LAB_GEMM_CLUSTER=2 build-emu/cuda-selftest-emu --parity --only dit-block,linear-attention-block,mix-ffn,cross-attention,dcae-resblock,dcae-upsample | tail -n 2
step "the whole self-test again with every converted kernel a programmatic dependent (SANA_LAB_PDL=1: each waits for the kernel ahead, which completes as late as it can)"
SANA_LAB_PDL=1 build-emu/cuda-selftest-emu --parity | tail -n 2
step "a driver that refuses the PDL attribute (SANA_EMU_REFUSE_PDL=1): the launch goes ahead plainly, PDL off with one warning"
SANA_EMU_REFUSE_PDL=1 SANA_LAB_PDL=1 build-emu/cuda-selftest-emu --parity --only layernorm-modulate >build-emu/pdl-refused.log 2>&1 \
  || { tail -n 20 build-emu/pdl-refused.log; exit 1; }
grep -q "as a programmatic dependent (SANA_LAB_PDL=1: cudaErrorNotSupported) and ran it plainly" build-emu/pdl-refused.log \
  && grep -q "programmatic dependent launches (PDL): 0 (mode off)" build-emu/pdl-refused.log \
  || { echo "[emu] a refused PDL attribute should switch PDL off with a warning and run plainly"; tail -n 5 build-emu/pdl-refused.log; exit 1; }
tail -n 1 build-emu/pdl-refused.log
step "mutants: deliberately broken kernels the checks must fail (kernels/emu/mutants.mjs)"
node kernels/emu/mutants.mjs
ASAN_MODE="${SANA_EMU_ASAN:-subset}"
if [ "$ASAN_MODE" != 0 ]; then
  step "AddressSanitizer build of the emulator (build-emu-asan/): out-of-bounds global memory is reported"
  SANA_EMU_BUILD_DIR=build-emu-asan SANA_EMU_CXXFLAGS="-O1 -g -fsanitize=address -fno-omit-frame-pointer" bash kernels/emu/build.sh
  # (dcae-upsample left the subset when its v3 cases, wgmma emulated under ASan, took it to ~300 s; full runs it)
  ASAN_OPS=(--only layernorm-modulate,rmsnorm,mix-ffn,dcae-head,sampler-update,errors)
  [ "$ASAN_MODE" = full ] && ASAN_OPS=()
  step "self-test parity under AddressSanitizer (${ASAN_MODE}; SANA_EMU_ASAN=full runs every op), as programmatic dependents (SANA_LAB_PDL=1: device memory poisoned until each kernel's wait)"
  SANA_LAB_PDL=1 ASAN_OPTIONS=detect_leaks=0 build-emu-asan/cuda-selftest-emu --parity "${ASAN_OPS[@]}" | tail -n 2
  node kernels/emu/mutants.mjs --asan --build-dir build-emu-asan
fi
step "the addon with the emulated cuda backend (SANA_LAB_CUDA_EMU=1 → build-emu-addon/)"
SANA_LAB_CUDA_EMU=1 SANA_LAB_BUILD_DIR=build-emu-addon node bindings/build-native.mjs >build-emu/addon-build.log 2>&1 \
  || { tail -n 40 build-emu/addon-build.log; exit 1; }
[ -f dist/cli/main.js ] || npm run build:ts
export SANA_LAB_ADDON="$ROOT/build-emu-addon/Release/sana_lab.node"
step "sana-lab parity --backend cuda (the op parity suite through N-API, queued streams included)"
node dist/cli/main.js parity --backend cuda --json build-emu/node-parity.json | tail -n 2
step "the same for the wgmma-backed ops with SANA_LAB_GEMM_CLUSTER=2 (gemm v3 in clusters of two, read by the addon)"
SANA_LAB_GEMM_CLUSTER=2 node dist/cli/main.js parity --backend cuda --ops gemm,conv3x3,dcae-resblock,dcae-upsample,mix-ffn,linear-attention-block,dit-block \
  --json build-emu/node-parity-cluster.json | tail -n 1
step "whole-model parity on cuda (bench/gpu/model-parity.mjs: DiT both block modes, DC-AE decoder, f32 and bf16)"
node bench/gpu/model-parity.mjs --backend cuda --json build-emu/model-parity.json | tail -n 1
step "sana-lab profile --backend cuda runs its per-op-synchronised steps and its queued steps as CUDA graph replays (Sana-0.6B 256², 1 block; the times are the emulator's, not a GPU's)"
node dist/cli/main.js profile --backend cuda --model 0.6b --res 256 --blocks 1 --text-len 16 --steps 1 --warmup 0 --repeat 1 --dtype bf16 \
  --cuda-graph --json build-emu/profile.json >build-emu/profile.log 2>&1 || { tail -n 30 build-emu/profile.log; exit 1; }
grep -m1 "queued dispatch" build-emu/profile.log
grep -m1 "host enqueue of the queued step (measured, 1 blocks, one CUDA graph launch)" build-emu/profile.log \
  || { echo "[emu] profile --cuda-graph should time CUDA graph replays"; tail -n 5 build-emu/profile.log; exit 1; }
grep -A1 "kernels of the queued step" build-emu/profile.log | tail -n 1 | grep -q " / .* ms " \
  || { echo "[emu] profile should list the queued step's kernels (the kernel timeline)"; tail -n 20 build-emu/profile.log; exit 1; }
grep -q "roofline floor: not computed — the cuda backend is the host emulator" build-emu/profile.log \
  || { echo "[emu] profile on the emulator should skip the roofline floor (no device ceilings)"; tail -n 5 build-emu/profile.log; exit 1; }
step "sana-lab profile with SANA_LAB_PDL=1: the step's kernels launch as programmatic dependents, inside CUDA graphs too"
SANA_LAB_PDL=1 node dist/cli/main.js profile --backend cuda --model 0.6b --res 256 --blocks 1 --text-len 16 --steps 1 --warmup 0 --repeat 1 --dtype bf16 \
  --cuda-graph --no-roofline --json build-emu/profile-pdl.json >build-emu/profile-pdl.log 2>&1 || { tail -n 30 build-emu/profile-pdl.log; exit 1; }
grep -E "programmatic dependent launches in this run: [1-9]" build-emu/profile-pdl.log \
  || { echo "[emu] profile with SANA_LAB_PDL=1 should launch kernels as programmatic dependents"; grep -i programmatic build-emu/profile-pdl.log; exit 1; }
step "SANA_LAB_CUDA_DEFAULTS reaches the ops' default calls (cross-attention=1: the step's kernel list shows xattn_v1)"
SANA_LAB_CUDA_DEFAULTS=cross-attention=1 node dist/cli/main.js profile --backend cuda --model 0.6b --res 64 --blocks 1 --text-len 16 --steps 1 \
  --warmup 0 --repeat 1 --dtype bf16 --block-mode ops --no-roofline >build-emu/profile-defaults.log 2>&1 || { tail -n 30 build-emu/profile-defaults.log; exit 1; }
grep -q "cross-attention / xattn_v1 " build-emu/profile-defaults.log \
  || { echo "[emu] SANA_LAB_CUDA_DEFAULTS=cross-attention=1 should run cross-attention v1"; grep -A14 "kernels of the queued" build-emu/profile-defaults.log; exit 1; }
step "CUDA graphs through the op API (bench/gpu/node-graph.mjs: capture, replay with new inputs, broken captures)"
node bench/gpu/node-graph.mjs | tail -n 1
step "the same and the PDL profile on the library's own blocking stream (SANA_LAB_STREAM=own) instead of the legacy default stream"
SANA_LAB_STREAM=own node bench/gpu/node-graph.mjs | tail -n 1
SANA_LAB_STREAM=own SANA_LAB_PDL=1 node dist/cli/main.js profile --backend cuda --model 0.6b --res 256 --blocks 1 --text-len 16 --steps 1 --warmup 0 \
  --repeat 1 --dtype bf16 --cuda-graph --no-roofline >build-emu/profile-own-stream.log 2>&1 || { tail -n 30 build-emu/profile-own-stream.log; exit 1; }
grep -E "programmatic dependent launches in this run: [1-9]" build-emu/profile-own-stream.log \
  || { echo "[emu] profile on the own stream with SANA_LAB_PDL=1 should launch kernels as programmatic dependents"; exit 1; }
step "device out of memory through the op API (bench/gpu/node-oom.mjs, emulated device of 2 GiB)"
SANA_EMU_MEM_GB=2 node bench/gpu/node-oom.mjs | tail -n 1
step "done in $(( $(date +%s) - t0 )) s: these are emulated runs (correctness only, no timings); GPU results come from bench/gpu/check.sh"
