#!/usr/bin/env bash
# The one-call GPU check. Run THERE (the GPU machine: nvcc, python3 with PyTorch, compute-sanitizer;
# no Node.js, no network), from the repository root, with $OUT set by the device tool:
#
#   bash bench/gpu/check.sh
#
# Prepared HERE beforehand (see bench/gpu/README.md): bench/gpu/prepare.sh (build-gpu/node.xz),
# bench/gpu/build-selftest.sh (build-gpu/cuda-selftest), the addon and dist/ by the lead; carry
# build-gpu/node.xz, build-gpu/node_modules.tar.xz, build-gpu/cuda-selftest, build/Release/sana_lab.node, dist.
#
# Steps, each with its own time limit, clipped so the whole script ends within SANA_GPU_CHECK_TOTAL_S
# (default 500 s; the H200 run of 2026-11-28 took 260 s with racecheck cut short); a failed
# or timed-out step never stops the next one. Logs go to a work folder that is tarred into
# $OUT/logs.tar.gz at the end (the device tool returns at most 8 files from $OUT; all 8 are used):
#   env          nvidia-smi (+ $OUT/nvidia-smi.txt)
#   node         unpack build-gpu/node.xz (xz, or python3's lzma) → build-gpu/node-bin/node
#   modules      unpack build-gpu/node_modules.tar.xz → node_modules/ (the npm packages dist/ imports)
#   selftest     build-gpu/cuda-selftest (rebuilt here with nvcc only if missing)
#   parity       cuda-selftest --parity: every op × version × dtype vs float64 (→ $OUT/cuda_parity.json)
#   node-parity  sana-lab parity --backend cuda: every op × version × dtype through the JS op API vs the
#                TS reference, outputs poisoned with 0xFF (→ $OUT/parity.json)
#   node-oom     bench/gpu/node-oom.mjs: device out of memory is a clear JS error, the backend survives
#   node-graph   bench/gpu/node-graph.mjs: a captured CUDA graph replays ops bit for bit with new inputs;
#                a capture broken by a read-back is a clear error and the backend survives
#   big          cuda-selftest --big: 2³²-element tensors, 64-bit indexing
#   memcheck     compute-sanitizer --tool memcheck over cuda-selftest --parity, one process per op
#   bench        cuda-selftest --bench: ceilings + ops × versions at SANA shapes (→ $OUT/cuda_bench.json)
#   baselines    python3 bench/gpu/pytorch_baselines.py (→ $OUT/baselines.json)
#   node-bench   sana-lab bench --backend cuda,torch (torch = the baseline, same run), Sana-0.6B at
#                1024² and 4096², bf16, batch 1 and 2, CUDA-event timing, device ceilings (→ $OUT/node_bench.json)
#   node-memcheck compute-sanitizer memcheck over a small sana-lab parity run on the cuda backend
#   racecheck    compute-sanitizer --tool racecheck over cuda-selftest --parity, one process per op
#                (≤ 75 s each, 240 s in all: conv3x3 alone took 41 s under racecheck on the H200), in the
#                time left (the lowest priority: it ran out of time on the H200)
# Node runs with SANA_LAB_ADDON unset (the addon is build/Release/sana_lab.node, JS from dist/).
# Then $OUT/summary.txt: the step table and the CUDA-vs-torch comparison (bench/gpu/compare.py).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=bench/gpu/steps.sh
source "$ROOT/bench/gpu/steps.sh"
start_run check "${SANA_GPU_CHECK_TOTAL_S:-500}" "$ROOT/build-gpu/out"
SELFTEST="$ROOT/build-gpu/cuda-selftest"
unset SANA_LAB_ADDON  # Node loads build/Release/sana_lab.node (carried)

# ---------------------------------------------------------------- env
run_step env 20 bash -c 'nvidia-smi; echo; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu --format=csv; echo; nvcc --version | tail -2; python3 -c "import torch; print(\"torch\", torch.__version__, torch.version.cuda)"; command -v compute-sanitizer'
cp "$WORK/env.log" "$OUT/nvidia-smi.txt" 2>/dev/null
note "$(grep -m1 -Eo 'NVIDIA [A-Z0-9][^,|]*[0-9]' "$WORK/env.log" | head -1)"

# ---------------------------------------------------------------- node
unpack_node

# ---------------------------------------------------------------- CUDA self-test
# A binary that cannot start here (missing, or a loader/glibc mismatch: usage errors exit 3) is rebuilt
# with this machine's nvcc.
if [ -x "$SELFTEST" ]; then "$SELFTEST" --probe >/dev/null 2>&1; probe=$?; else probe=127; fi
if [ "$probe" -ne 3 ] && command -v nvcc >/dev/null; then
  run_step selftest-build 240 env SELFTEST_JOBS="$(nproc)" bash bench/gpu/build-selftest.sh
fi
# Each op in its own process: a fault that ends one process's CUDA context costs only that op's checks.
# gemm runs its Hopper wgmma version (v3, never run before) last, after v1/v2.
SELFTEST_OPS="gemm linear-attention linear-attention-block mix-ffn cross-attention layernorm-modulate rmsnorm conv3x3 dcae-resblock dit-block lite-mla dcae-upsample dcae-head dcae-evit-block sampler-update errors"
if [ -x "$SELFTEST" ]; then
  run_each_op parity 150 "$SELFTEST_OPS" 45 "$SELFTEST" --parity --only {op} --json "$WORK/cuda_parity.{op}.json"
  note "$(python3 bench/gpu/merge_json.py "$OUT/cuda_parity.json" $(for op in $SELFTEST_OPS; do echo "$WORK/cuda_parity.$op.json"; done) 2>&1 | tee -a "$WORK/parity.log" | tail -1)"
  # The wgmma composites again with every gemm v3 in clusters of two (SANA_LAB_GEMM_CLUSTER=2: opt-in until
  # timed; models.sh's -cluster profiles run the model so). Its JSON stays with the logs.
  run_step parity-cluster 60 env SANA_LAB_GEMM_CLUSTER=2 "$SELFTEST" --parity --only dit-block,linear-attention-block,mix-ffn,cross-attention,dcae-resblock,dcae-upsample \
    --json "$WORK/cuda_parity_cluster.json"
  note "$(checks_note parity-cluster); $(grep -Eo '[0-9]+ of them in clusters' "$WORK/parity-cluster.log" | tail -1)"
  # The DiT's ops again with every kernel launched as a programmatic dependent (SANA_LAB_PDL=1: opt-in until
  # timed; models.sh's -pdl profiles run the step so): each waits for the kernel ahead before touching memory.
  run_step parity-pdl 60 env SANA_LAB_PDL=1 "$SELFTEST" --parity --only dit-block,linear-attention-block,mix-ffn,cross-attention,layernorm-modulate,linear-attention,gemm,sampler-update \
    --json "$WORK/cuda_parity_pdl.json"
  note "$(checks_note parity-pdl); $(grep -Eo 'programmatic dependent launches \(PDL\): [0-9]+' "$WORK/parity-pdl.log" | tail -1)"
else
  NAMES+=(selftest) STATES+=(missing) SECS+=(0) NOTES+=("no build-gpu/cuda-selftest and no nvcc to build it")
fi

# ---------------------------------------------------------------- the lab's parity through Node
# Every cuda op × version × dtype through the op API (the addon the lab ships), vs the TS reference.
NODE_OPS="$("$NODE" -e 'import("./dist/bench/catalogue.js").then((m) => console.log(m.OP_NAMES.join(" ")))' 2>/dev/null)"
if node_ready && [ -n "$NODE_OPS" ]; then
  run_each_op node-parity 150 "$NODE_OPS" 45 "${LAB[@]}" parity --backend cuda --ops {op} --quiet --json "$WORK/parity.{op}.json"
  note "$(python3 bench/gpu/merge_json.py "$OUT/parity.json" $(for op in $NODE_OPS; do echo "$WORK/parity.$op.json"; done) 2>&1 | tee -a "$WORK/node-parity.log" | tail -1)"
  run_step node-oom 40 "$NODE" bench/gpu/node-oom.mjs
  note "$(tail -1 "$WORK/node-oom.log" | cut -c1-160)"
  run_step node-graph 30 "$NODE" bench/gpu/node-graph.mjs
  note "$(tail -1 "$WORK/node-graph.log" | cut -c1-160)"
else
  node_missing node-parity
fi

if [ -x "$SELFTEST" ]; then
  run_step big 90 "$SELFTEST" --big --json "$WORK/cuda_big.json"
  note "$(checks_note big)"
  if command -v compute-sanitizer >/dev/null; then
    run_each_op memcheck 150 "$SELFTEST_OPS" 40 compute-sanitizer --tool memcheck --leak-check no --report-api-errors no --error-exitcode 9 "$SELFTEST" --parity --only {op} --seed 11
    note "$(sanitizer_note memcheck memcheck "$SELFTEST_OPS")"
  fi
  # 90 s: since the H200 run (162 records in 41 s) the bench grew by the candidate versions, gemm v3's tile
  # widths, clusters and probes, split-K at 512² and dit-block with PDL; 1024² (where PDL and the small-M
  # gemms matter) comes after 4096², so a short budget would drop it first.
  run_step bench 120 "$SELFTEST" --bench --budget-s 90 --res 4096,1024 --batch 2 --json "$OUT/cuda_bench.json"
  note "$(grep -c '"median_ms"' "$OUT/cuda_bench.json" 2>/dev/null || echo 0) timed records"
fi

# ---------------------------------------------------------------- PyTorch baselines
# Right after the bench: the torch side of every ratio the issue's targets are stated in. Keep ~150 s for
# node-bench (35 s on the H200), node-memcheck (3 s) and racecheck (whatever is left; the lowest priority).
left=$((DEADLINE - $(date +%s) - 150))
budget=150
[ "$left" -lt "$budget" ] && budget=$left
if [ "$budget" -ge 30 ]; then
  run_step baselines $((budget + 60)) python3 bench/gpu/pytorch_baselines.py --out "$OUT/baselines.json" --budget-s "$budget" --res 4096,1024
  note "$(grep -Eo '[0-9]+ timed, [0-9]+ skipped' "$WORK/baselines.log" | tail -1)"
else
  NAMES+=(baselines) STATES+=(skipped) SECS+=(0) NOTES+=("no time left")
fi

# ---------------------------------------------------------------- the lab's benchmarks through Node
# bench records (sana-lab-bench/1) with CUDA-event medians, every cuda version, roofline % on the
# device ceilings; short sampling (≥ 8 timed runs or 0.1 s per case) to fit the time limit. The torch
# backend (PyTorch eager in a Python worker, CUDA events + L2 flush too) is the baseline of the same run.
if node_ready; then
  run_step node-bench 140 "${LAB[@]}" bench --backend cuda,torch --baseline torch --model 0.6b --res 1024,4096 --batch 1,2 --dtype bf16 \
    --min-samples 8 --max-time-s 0.1 --quiet --json "$OUT/node_bench.json"
  note "$(grep -Eo 'wrote [0-9]+ records.*' "$WORK/node-bench.log" | tail -1)"
else
  node_missing node-bench
fi

# ---------------------------------------------------------------- memcheck through Node
# The binding path (device allocation, host copies, 0xFF poisoning, the versioned entries) under
# compute-sanitizer: a small parity run, one shape per op, both dtypes. node is the target process.
if node_ready && command -v compute-sanitizer >/dev/null; then
  run_step node-memcheck 90 compute-sanitizer --tool memcheck --target-processes all --leak-check no --report-api-errors no --error-exitcode 9 \
    "${LAB[@]}" parity --backend cuda --ops gemm,linear-attention,linear-attention-block,mix-ffn,layernorm-modulate,rmsnorm,conv3x3 \
    --max-shapes 1 --no-self-check --quiet --json "$WORK/node_memcheck_parity.json"
  note "$(grep -Eo 'ERROR SUMMARY: [0-9]+ errors?' "$WORK/node-memcheck.log" | tail -1) $(grep -Eo '[0-9]+ of [0-9]+ checks pass' "$WORK/node-memcheck.log" | tail -1)"
elif ! node_ready; then
  node_missing node-memcheck
fi

# ---------------------------------------------------------------- racecheck
if [ -x "$SELFTEST" ] && command -v compute-sanitizer >/dev/null; then
  # Under racecheck the ops take 1-41 s each (H200, 2026-11-28: conv3x3 41, cross-attention 22, lite-mla 19;
  # ~185 s for all 15 with the tool's start-up): 75 s per op, 240 s in all.
  run_each_op racecheck 240 "$SELFTEST_OPS" 75 compute-sanitizer --tool racecheck --error-exitcode 9 "$SELFTEST" --parity --only {op} --seed 12
  note "$(sanitizer_note racecheck racecheck "$SELFTEST_OPS")"
fi

# ---------------------------------------------------------------- summary
{
  echo "sana-kernel-lab GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - START)) s"
  summary_table
  if [ -f "$OUT/cuda_parity.json" ]; then
    echo
    echo "failed parity checks:"
    python3 -c "
import json
d = json.load(open('$OUT/cuda_parity.json'))
bad = [c for c in d['checks'] if not c['pass']]
for c in bad[:25]:
    print('  %-22s v%d %-4s %-44s rel=%s %s' % (c['op'], c['version'], c['dtype'], c['case'][:44], c['rel'], c['detail'][:100]))
    w = c.get('where')
    if w: print('      %d of %d elements off (first %d, last %d, worst %d: out %s ref %s)' % (w['bad'], w['size'], w['first'], w['last'], w['worst'], w['worst_out'], w['worst_ref']))
print('  (none)' if not bad else '  %d in all' % len(bad))
" 2>&1
  fi
  if [ -f "$OUT/parity.json" ]; then
    echo
    echo "failed or skipped Node parity checks (sana-lab parity --backend cuda):"
    python3 -c "
import json
d = json.load(open('$OUT/parity.json'))
for e in d.get('merge_errors', [])[:25]: print('  unreadable %s: %s' % (e['file'].split('/')[-1], e['error'][:100]))
d.setdefault('records', [])
bad = [r for r in d['records'] if not r['pass']]
for r in bad[:25]: print('  FAIL %-22s v%s %-4s %-30s rel=%s %s' % (r['op'], r.get('version'), r['dtype'], r['shape'][:30], r['rel'], (r.get('note') or '')[:100]))
for s in d.get('skipped', [])[:25]: print('  skip %-22s %-4s %s' % (s['op'], s['dtype'], s['reason'][:120]))
print('  %d checks, %d failed, %d skipped' % (len(d['records']), len(bad), len(d.get('skipped', []))))
" 2>&1
  fi
  if [ -f "$OUT/cuda_bench.json" ]; then
    echo
    python3 bench/gpu/compare.py "$OUT/cuda_bench.json" "$OUT/baselines.json" 2>&1
  fi
} >"$WORK/summary.txt"
cp "$WORK/summary.txt" "$OUT/summary.txt"
tar -czf "$OUT/logs.tar.gz" -C "$WORK" . 2>/dev/null
echo
cat "$WORK/summary.txt"
