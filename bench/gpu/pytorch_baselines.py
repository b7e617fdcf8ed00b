#!/usr/bin/env python3
"""PyTorch-eager baselines and device ceilings for the sana-kernel-lab benchmark shapes.

Runs on the GPU machine (python3 with PyTorch, no Node needed) and, for a smoke test, on a CPU.
Writes one JSON file: the environment, the measured ceilings (device-to-device copy bandwidth counting
bytes read + written; large bf16 / f32 / tf32 matrix products on random data) and one record per
(op, model, resolution, batch, dtype) in the lab's record format. FLOP and byte counts are left to the
TypeScript cost model (bench/), which fills them in when the records are ingested, so the arithmetic
lives in one place.

Timing (GPU): warm-up, then for each repetition an L2 flush (writing a buffer of 2x the L2 size),
CUDA events around the call, the median and p20/p80 of the repetitions. Inputs are random, never zeros.

    python3 bench/gpu/pytorch_baselines.py --out OUT.json [--res 256,512,1024,2048,4096]
        [--models 0.6b,1.6b,dcae] [--batch 2] [--dtype bf16] [--budget-s 300] [--device cuda|cpu]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

# The ops, written the way diffusers runs them, and their input builders live in one module shared
# with the lab's `torch` bench backend (bench/torch/sana_torch_ops.py): one definition of the baseline.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
import sana_torch_ops as T  # noqa: E402
from torch_timing import l2_flush_buffer, time_calls  # noqa: E402

# Model dimensions (shared/notes/sana-architecture.md; NVlabs/Sana configs).
DIT = {
    "0.6b": dict(C=1152, layers=28, heads_x=16, ffn=2880, caption=2304),
    "1.6b": dict(C=2240, layers=20, heads_x=20, ffn=5600, caption=2304),
}
TEXT_TOKENS = 300
# DC-AE f32c32 decoder: (stage, channels, downscale, block type), deepest first.
DCAE_STAGES = [(5, 1024, 32, "evit"), (4, 1024, 16, "evit"), (3, 512, 8, "evit"),
               (2, 512, 4, "res"), (1, 256, 2, "res"), (0, 128, 1, "res")]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Timer:
    """Median device time of fn() (bench/torch/torch_timing.py: L2 flush before every CUDA repetition), within a budget."""

    def __init__(self, device, budget_s):
        self.device = device
        self.deadline = time.time() + budget_s
        self.flush = l2_flush_buffer(device)

    def out_of_time(self):
        return time.time() > self.deadline

    def time(self, fn, reps=20, warmup=3, max_s=10.0):
        times = sorted(time_calls(fn, self.device, self.flush, min_samples=min(3, reps), max_samples=reps, max_time_s=max_s, warmup=warmup))
        q = lambda p: times[min(len(times) - 1, int(round(p * (len(times) - 1))))]
        return dict(median_ms=statistics.median(times), p20_ms=q(0.2), p80_ms=q(0.8), reps=len(times))


def randn(*shape, dtype, device, std=1.0):
    return (torch.randn(*shape, device=device, dtype=torch.float32) * std).to(dtype)




# ---------------------------------------------------------------- ceilings
def ceilings(dev, timer, dtype_note):
    out = {}
    if dev.type == "cuda":
        n = 1 << 30  # 1 GiB copy: bytes read + written = 2 GiB
        a = torch.empty(n, dtype=torch.uint8, device=dev).random_(0, 255)
        b = torch.empty_like(a)
        t = timer.time(lambda: b.copy_(a), reps=20)
        out["copy_GBps"] = 2 * n / (t["median_ms"] * 1e-3) / 1e9
        del a, b
        sizes = {"bf16": (torch.bfloat16, 8192), "f32": (torch.float32, 4096), "tf32": (torch.float32, 8192)}
    else:
        n = 1 << 27
        a = torch.rand(n // 4, device=dev)
        b = torch.empty_like(a)
        t = timer.time(lambda: b.copy_(a), reps=10)
        out["copy_GBps"] = 2 * n / (t["median_ms"] * 1e-3) / 1e9
        sizes = {"f32": (torch.float32, 1024)}
    for name, (dt, m) in sizes.items():
        if dev.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
        x = randn(m, m, dtype=dt, device=dev)
        y = randn(m, m, dtype=dt, device=dev)
        t = timer.time(lambda: x @ y, reps=10)
        out[f"{name}_gemm_TFLOPs"] = 2 * m ** 3 / (t["median_ms"] * 1e-3) / 1e12
        out[f"{name}_gemm_size"] = m
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
    return out


# ---------------------------------------------------------------- the sweep
def sweep(args, dev, dtype, timer):
    records = []
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu"

    def record(op, model, res, B, tokens, fn, shape, reps=20):
        if timer.out_of_time():
            records.append(dict(op=op, backend="pytorch-eager", version=0, model=model, res=res, tokens=tokens,
                                batch=B, dtype=args.dtype, skipped="budget", shape=shape, device=device_name))
            return
        try:
            with torch.no_grad():
                t = timer.time(fn, reps=reps)
            records.append(dict(op=op, backend="pytorch-eager", version=0, model=model, res=res, tokens=tokens,
                                batch=B, dtype=args.dtype, shape=shape, device=device_name, **t))
            log(f"  {op:<22} {model:<5} {res:>5}  {t['median_ms']:9.3f} ms  (p20 {t['p20_ms']:.3f}, p80 {t['p80_ms']:.3f}, n={t['reps']})")
        except torch.cuda.OutOfMemoryError if hasattr(torch.cuda, "OutOfMemoryError") else RuntimeError as e:
            records.append(dict(op=op, backend="pytorch-eager", version=0, model=model, res=res, tokens=tokens,
                                batch=B, dtype=args.dtype, skipped=f"error: {str(e).splitlines()[0]}", shape=shape, device=device_name))
            log(f"  {op:<22} {model:<5} {res:>5}  skipped: {str(e).splitlines()[0]}")
        if dev.type == "cuda":
            torch.cuda.empty_cache()

    B = args.batch
    for res in args.res:
        h = w_ = res // 32
        N = h * w_
        for model in [m for m in args.models if m in DIT]:
            m = DIT[model]
            C, heads_x = m["C"], m["heads_x"]
            log(f"[{model} {res}x{res}] tokens {N}, batch {B}")
            cases = [
                ("gemm", dict(M=B * N, N=3 * C, K=C, bias=False, activation="none")),
                ("linear-attention", dict(B=B, N=N, C=C, heads=C // 32, headDim=32)),
                ("linear-attention-block", dict(B=B, N=N, C=C, heads=C // 32, headDim=32)),
                ("cross-attention", dict(B=B, N=N, C=C, L=TEXT_TOKENS, heads=heads_x, headDim=C // heads_x)),
                ("mix-ffn", dict(B=B, N=N, C=C, h=h, w=w_, hidden=m["ffn"])),
                ("layernorm-modulate", dict(B=B, N=N, C=C)),
                ("dit-block", dict(B=B, N=N, C=C, h=h, w=w_, heads=C // 32, headDim=32, hidden=m["ffn"], L=TEXT_TOKENS,
                                   crossHeads=heads_x, crossHeadDim=C // heads_x)),
            ]
            for op, dims in cases:
                fn = T.BUILDERS[op](dims, dtype, dev)
                record(op, model, res, B, N, fn, dict(dims, layers=m["layers"]) if op == "dit-block" else dims)
                del fn
        if "dcae" in args.models:
            log(f"[dcae {res}x{res}] decoder stages, batch 1")
            channels = {stage: c for stage, c, _, _ in DCAE_STAGES}
            for stage, c, down, kind in DCAE_STAGES:
                hh = res // down
                fm = dict(B=1, C=c, H=hh, W=hh)
                cases = [("conv3x3", dict(B=1, Cin=c, Cout=c, H=hh, W=hh, stride=1, bias=True)), ("rmsnorm2d", fm)]
                cases += [("lite-mla", fm), ("dcae-evit-block", fm)] if kind == "evit" else [("dcae-resblock", fm)]
                if stage <= 2:  # the up block into the stage (the self-test times these): H, W are its input's
                    cases.append(("dcae-upsample", dict(B=1, Cin=channels[stage + 1], Cout=c, H=hh // 2, W=hh // 2)))
                for op, dims in cases:
                    fn = T.BUILDERS[op](dims, dtype, dev)
                    record(op, "dcae", res, 1, hh * hh, fn, dict(dims, stage=stage), reps=10)
                    del fn
    return records


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--res", default="256,512,1024,2048,4096")
    p.add_argument("--models", default="0.6b,1.6b,dcae")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32"])
    p.add_argument("--budget-s", type=float, default=300.0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    args.res = [int(r) for r in args.res.split(",")]
    args.models = args.models.split(",")
    for r in args.res:
        if r % 32 != 0:
            p.error(f"--res {r}: resolutions must be multiples of 32")
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[args.dtype]
    dev = torch.device(args.device)
    torch.manual_seed(0)
    timer = Timer(dev, args.budget_s)
    env = dict(torch=torch.__version__, python=platform.python_version(), device_type=dev.type,
               date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), threads=torch.get_num_threads())
    if dev.type == "cuda":
        prop = torch.cuda.get_device_properties(dev)
        env.update(device=prop.name, sm_count=prop.multi_processor_count, l2_bytes=prop.L2_cache_size,
                   memory_bytes=prop.total_memory, cuda=torch.version.cuda, cc=f"{prop.major}.{prop.minor}")
    else:
        env.update(device=platform.processor() or "cpu")
    log(f"[baselines] {env['device']} torch {env['torch']} dtype {args.dtype} res {args.res} models {args.models}")
    ceil = ceilings(dev, timer, args.dtype)
    log("[ceilings] " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in ceil.items()))
    records = sweep(args, dev, dtype, timer)
    with open(args.out, "w") as f:
        json.dump(dict(kind="pytorch-baselines", environment=env, ceilings=ceil, records=records), f, indent=1)
    done = [r for r in records if "median_ms" in r]
    log(f"[baselines] {len(done)} timed, {len(records) - len(done)} skipped -> {args.out}")


if __name__ == "__main__":
    main()
