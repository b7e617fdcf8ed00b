#!/usr/bin/env python3
"""Short comparison table: this library's CUDA kernels (cuda-selftest --bench JSON) against the
PyTorch-eager baselines of the same run (pytorch_baselines.py JSON), matched on (op, model, res, batch).

For each case: the fastest CUDA version and its median, torch's median, the speed-up, and for the
bandwidth-bound ops the fraction of the measured copy bandwidth (bytes = inputs read once + output
written once, bf16). Prints a fixed-width table; never fails on missing files or fields.

    python3 bench/gpu/compare.py CUDA_BENCH.json BASELINES.json
"""
import json
import sys

# Issue #7 targets (ratio to PyTorch eager in the same run)
TARGETS = {"linear-attention": 3.0, "mix-ffn": 1.3, "dcae-resblock": 1.3, "gemm": 0.7}
DIT_C = {"0.6b": 1152, "1.6b": 2240}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001
        print(f"compare: cannot read {path}: {e}")
        return None


def min_bytes(r):
    """Minimal HBM bytes (bf16) of the bandwidth-bound ops, None for the others."""
    s = r.get("shape", {})
    if r["op"] == "linear-attention":
        return 4 * s["B"] * s["N"] * s["C"] * 2
    if r["op"] == "layernorm-modulate":
        return 2 * s["B"] * s["N"] * s["C"] * 2
    if r["op"] == "rmsnorm2d":
        return 2 * s["H"] * s["W"] * s["C"] * 2
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 0
    cuda, torch = load(sys.argv[1]), load(sys.argv[2])
    if not cuda:
        return 0
    ceil = cuda.get("ceilings") or {}
    bw = ceil.get("copy_GBps")
    best = {}
    for r in cuda.get("records", []):
        if "median_ms" not in r:
            continue
        key = (r["op"], r["model"], r["res"], r["batch"])
        if key not in best or r["median_ms"] < best[key]["median_ms"]:
            best[key] = r
    base = {}
    for r in (torch or {}).get("records", []):
        if "median_ms" in r:
            base[(r["op"], r["model"], r["res"], r["batch"])] = r
    if ceil:
        print(f"ceilings ({ceil.get('device', '?')}): copy {ceil.get('copy_GBps', 0):.0f} GB/s, "
              f"bf16 gemm {ceil.get('bf16_gemm_TFLOPs', 0):.0f} TFLOP/s (this library, {ceil.get('bf16_gemm_size')}³)")
    tc = (torch or {}).get("ceilings") or {}
    if tc:
        print(f"torch ceilings: copy {tc.get('copy_GBps', 0):.0f} GB/s, bf16 gemm {tc.get('bf16_gemm_TFLOPs', 0):.0f} TFLOP/s")
    print(f"{'op':<22} {'model':<5} {'res':>5} {'B':>2} {'cuda v':>6} {'cuda ms':>9} {'torch ms':>9} {'speed-up':>8} {'target':>7} {'%copyBW':>8}")
    for key in sorted(best, key=lambda k: (k[0], k[1], k[2], k[3])):
        r = best[key]
        t = base.get(key)
        speed = t["median_ms"] / r["median_ms"] if t else None
        target = TARGETS.get(key[0])
        mb = min_bytes(r)
        frac = (mb / (r["median_ms"] * 1e-3) / 1e9) / bw if (mb and bw) else None
        print(f"{key[0]:<22} {key[1]:<5} {key[2]:>5} {key[3]:>2} {('v%d' % r['version']):>6} {r['median_ms']:>9.3f} "
              f"{(t['median_ms'] if t else float('nan')):>9.3f} {(speed if speed else float('nan')):>8.2f} "
              f"{(('%.1fx' % target) if target else '-'):>7} {(('%.0f%%' % (100 * frac)) if frac else '-'):>8}")
    missing = [k for k in base if k not in best]
    if missing:
        print(f"{len(missing)} baseline case(s) without a CUDA record (e.g. {missing[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
