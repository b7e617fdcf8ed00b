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
import math
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

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
    """Median device time of fn() with an L2 flush before every repetition."""

    def __init__(self, device, budget_s):
        self.device = device
        self.deadline = time.time() + budget_s
        self.flush = None
        if device.type == "cuda":
            l2 = torch.cuda.get_device_properties(device).L2_cache_size
            self.flush = torch.empty(max(2 * l2, 64 << 20), dtype=torch.uint8, device=device)

    def out_of_time(self):
        return time.time() > self.deadline

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def time(self, fn, reps=20, warmup=3, max_s=10.0):
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        t_start = time.time()
        for _ in range(reps):
            if self.device.type == "cuda":
                self.flush.random_(0, 255)  # random bytes: a write the cache cannot skip
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
            if time.time() - t_start > max_s and len(times) >= 3:
                break
        times.sort()
        q = lambda p: times[min(len(times) - 1, int(round(p * (len(times) - 1))))]
        return dict(median_ms=statistics.median(times), p20_ms=q(0.2), p80_ms=q(0.8), reps=len(times))


def randn(*shape, dtype, device, std=1.0):
    return (torch.randn(*shape, device=device, dtype=torch.float32) * std).to(dtype)


# ---------------------------------------------------------------- ops, as diffusers computes them
def linear_attention(q, k, v, eps=1e-15):
    """SANA ReLU linear attention on token-major (B, N, C), heads of 32, fp32 state (diffusers)."""
    B, N, C = q.shape
    h = C // 32
    q = F.relu(q).view(B, N, h, 32).permute(0, 2, 3, 1).float()  # B h d N
    k = F.relu(k).view(B, N, h, 32).permute(0, 2, 1, 3).float()  # B h N d
    v = v.view(B, N, h, 32).permute(0, 2, 3, 1).float()
    v = F.pad(v, (0, 0, 0, 1), value=1.0)  # B h (d+1) N : the ones row yields the denominator
    vk = torch.matmul(v, k)  # B h (d+1) d
    o = torch.matmul(vk, q)  # B h (d+1) N
    o = o[:, :, :-1] / (o[:, :, -1:] + eps)
    return o.permute(0, 3, 1, 2).reshape(B, N, C)


def cross_attention(q, k, v, mask_bias, heads):
    B, N, C = q.shape
    L = k.shape[1]
    d = C // heads
    qh = q.view(B, N, heads, d).transpose(1, 2)
    kh = k.view(B, L, heads, d).transpose(1, 2)
    vh = v.view(B, L, heads, d).transpose(1, 2)
    if hasattr(F, "scaled_dot_product_attention"):
        o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask_bias)
    else:
        a = torch.softmax((qh @ kh.transpose(-1, -2)) / math.sqrt(d) + mask_bias, dim=-1)
        o = a @ vh
    return o.transpose(1, 2).reshape(B, N, C)


def mix_ffn(x, hw, w):
    """GLUMBConv on (B, N, C) tokens as diffusers: NCHW 1x1 conv + SiLU, depthwise 3x3, GLU, 1x1 conv."""
    B, N, C = x.shape
    H, W = hw
    y = x.transpose(1, 2).reshape(B, C, H, W)
    y = F.silu(F.conv2d(y, w["inv"], w["inv_b"]))
    y = F.conv2d(y, w["dw"], w["dw_b"], padding=1, groups=y.shape[1])
    y, gate = y.chunk(2, dim=1)
    y = y * F.silu(gate)
    y = F.conv2d(y, w["pt"])
    return y.flatten(2).transpose(1, 2)


def layernorm_modulate(x, shift, scale):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6) * (1 + scale) + shift


def dit_block(x, y, mask_bias, hw, w, heads_x):
    B, N, C = x.shape
    mod = (w["sst"][None] + w["t"].view(B, 6, C)).chunk(6, dim=1)
    shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod
    h = layernorm_modulate(x, shift_msa, scale_msa)
    q, k, v = F.linear(h, w["qkv"]).chunk(3, dim=-1)
    a = linear_attention(q, k, v).to(x.dtype)
    x = x + gate_msa * F.linear(a, w["o"], w["o_b"])
    q = F.linear(x, w["xq"], w["xq_b"])
    k, v = F.linear(y, w["xkv"], w["xkv_b"]).chunk(2, dim=-1)
    x = x + F.linear(cross_attention(q, k, v, mask_bias, heads_x), w["xo"], w["xo_b"])
    h = layernorm_modulate(x, shift_mlp, scale_mlp)
    return x + gate_mlp * mix_ffn(h, hw, w)


def rmsnorm2d(x, weight, bias, eps=1e-5):
    xf = x.float()
    r = torch.rsqrt(xf.pow(2).mean(dim=1, keepdim=True) + eps)
    return (xf * r * weight[None, :, None, None] + bias[None, :, None, None]).to(x.dtype)


def lite_mla(x, w, eps=1e-15):
    B, c, H, W = x.shape
    heads = c // 32
    qkv = F.conv2d(x, w["qkv"])
    agg = F.conv2d(F.conv2d(qkv, w["dw5"], padding=2, groups=3 * c), w["grp"], groups=3 * heads)
    m = torch.cat([qkv, agg], dim=1).view(B, -1, 96, H * W)  # 2*heads heads of [q k v] (head-major)
    q, k, v = m[:, :, 0:32], m[:, :, 32:64], m[:, :, 64:96]
    q, k = F.relu(q).float(), F.relu(k).float()
    v = F.pad(v.float(), (0, 0, 0, 1), value=1.0)
    o = torch.matmul(torch.matmul(v, k.transpose(-1, -2)), q)
    o = (o[:, :, :-1] / (o[:, :, -1:] + eps)).to(x.dtype).reshape(B, 2 * c, H, W)
    return rmsnorm2d(F.conv2d(o, w["proj"]), w["nw"], w["nb"])


def dcae_resblock(x, w):
    y = F.silu(F.conv2d(x, w["c1"], w["c1_b"], padding=1))
    return x + rmsnorm2d(F.conv2d(y, w["c2"], padding=1), w["nw"], w["nb"])


# ---------------------------------------------------------------- weights (random, real dimensions)
def dit_weights(m, B, dtype, dev):
    C, ffn, cap = m["C"], m["ffn"], m["caption"]
    s = lambda fan: 1.0 / math.sqrt(fan)
    return dict(
        sst=randn(6, C, dtype=dtype, device=dev, std=0.1), t=randn(B, 6 * C, dtype=dtype, device=dev, std=0.1),
        qkv=randn(3 * C, C, dtype=dtype, device=dev, std=s(C)),
        o=randn(C, C, dtype=dtype, device=dev, std=s(C)), o_b=randn(C, dtype=dtype, device=dev, std=0.02),
        xq=randn(C, C, dtype=dtype, device=dev, std=s(C)), xq_b=randn(C, dtype=dtype, device=dev, std=0.02),
        xkv=randn(2 * C, C, dtype=dtype, device=dev, std=s(C)), xkv_b=randn(2 * C, dtype=dtype, device=dev, std=0.02),
        xo=randn(C, C, dtype=dtype, device=dev, std=s(C)), xo_b=randn(C, dtype=dtype, device=dev, std=0.02),
        inv=randn(2 * ffn, C, 1, 1, dtype=dtype, device=dev, std=s(C)), inv_b=randn(2 * ffn, dtype=dtype, device=dev, std=0.02),
        dw=randn(2 * ffn, 1, 3, 3, dtype=dtype, device=dev, std=1 / 3), dw_b=randn(2 * ffn, dtype=dtype, device=dev, std=0.02),
        pt=randn(C, ffn, 1, 1, dtype=dtype, device=dev, std=s(ffn)),
    )


def dcae_weights(c, dtype, dev):
    s = lambda fan: 1.0 / math.sqrt(fan)
    heads = c // 32
    return dict(
        c1=randn(c, c, 3, 3, dtype=dtype, device=dev, std=s(9 * c)), c1_b=randn(c, dtype=dtype, device=dev, std=0.02),
        c2=randn(c, c, 3, 3, dtype=dtype, device=dev, std=s(9 * c)),
        nw=1 + randn(c, dtype=torch.float32, device=dev, std=0.1), nb=randn(c, dtype=torch.float32, device=dev, std=0.1),
        qkv=randn(3 * c, c, 1, 1, dtype=dtype, device=dev, std=s(c)),
        dw5=randn(3 * c, 1, 5, 5, dtype=dtype, device=dev, std=0.2),
        grp=randn(3 * c, 32, 1, 1, dtype=dtype, device=dev, std=s(32)),
        proj=randn(c, 2 * c, 1, 1, dtype=dtype, device=dev, std=s(2 * c)),
        _heads=heads,
    )


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
            C = m["C"]
            log(f"[{model} {res}x{res}] tokens {N}, batch {B}")
            wts = dit_weights(m, B, dtype, dev)
            x = randn(B, N, C, dtype=dtype, device=dev)
            y = randn(B, TEXT_TOKENS, C, dtype=dtype, device=dev)
            mask = torch.ones(B, TEXT_TOKENS, device=dev)
            mask[:, TEXT_TOKENS // 2:] = 0  # half the caption masked, as short prompts are
            mask_bias = ((1 - mask) * -10000.0).to(dtype)[:, None, None, :]
            q, k, v = (randn(B, N, C, dtype=dtype, device=dev) for _ in range(3))
            record("gemm", model, res, B, N, lambda: F.linear(x, wts["qkv"]), dict(M=B * N, N=3 * C, K=C))
            record("linear-attention", model, res, B, N, lambda: linear_attention(q, k, v), dict(B=B, N=N, C=C))
            record("cross-attention", model, res, B, N, lambda: cross_attention(q, y, y, mask_bias, m["heads_x"]),
                   dict(B=B, N=N, C=C, L=TEXT_TOKENS, heads=m["heads_x"]))
            record("mix-ffn", model, res, B, N, lambda: mix_ffn(x, (h, w_), wts), dict(B=B, H=h, W=w_, C=C, hidden=m["ffn"]))
            shift, scale = (randn(B, 1, C, dtype=dtype, device=dev, std=0.1) for _ in range(2))
            record("layernorm-modulate", model, res, B, N, lambda: layernorm_modulate(x, shift, scale), dict(B=B, N=N, C=C))
            record("dit-block", model, res, B, N, lambda: dit_block(x, y, mask_bias, (h, w_), wts, m["heads_x"]),
                   dict(B=B, N=N, C=C, layers=m["layers"]))
            del wts, x, y, q, k, v
        if "dcae" in args.models:
            log(f"[dcae {res}x{res}] decoder stages, batch 1")
            for stage, c, down, kind in DCAE_STAGES:
                hh = res // down
                wts = dcae_weights(c, dtype, dev)
                xs = randn(1, c, hh, hh, dtype=dtype, device=dev)
                tag = f"{res}"
                record("conv3x3", "dcae", res, 1, hh * hh, lambda: F.conv2d(xs, wts["c1"], wts["c1_b"], padding=1),
                       dict(stage=stage, C=c, H=hh, W=hh), reps=10)
                record("rmsnorm2d", "dcae", res, 1, hh * hh, lambda: rmsnorm2d(xs, wts["nw"], wts["nb"]),
                       dict(stage=stage, C=c, H=hh, W=hh), reps=10)
                if kind == "evit":
                    record("lite-mla", "dcae", res, 1, hh * hh, lambda: lite_mla(xs, wts), dict(stage=stage, C=c, H=hh, W=hh), reps=10)
                else:
                    record("dcae-resblock", "dcae", res, 1, hh * hh, lambda: dcae_resblock(xs, wts),
                           dict(stage=stage, C=c, H=hh, W=hh), reps=10)
                del wts, xs, tag
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
