#!/usr/bin/env python3
"""Checks that the torch baselines compute SANA's ops (a baseline that computes something cheaper would
make every speed-up a lie). Each check compares an op of sana_torch_ops.py with a direct float64
formula on small random inputs; prints one JSON line per check and exits non-zero on any failure.

    /usr/bin/python3 bench/torch/selfcheck.py
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import sana_torch_ops as T  # noqa: E402

torch.manual_seed(0)
failures = 0


def check(name, out, ref, tol=1e-5):
    global failures
    out, ref = out.double(), ref.double()
    rel = ((out - ref).norm() / ref.norm()).item()
    ok = math.isfinite(rel) and rel <= tol
    failures += 0 if ok else 1
    print(json.dumps(dict(check=name, rel=rel, max_abs=(out - ref).abs().max().item(), ok=ok)))


# linear attention: out_n = Σ_m φ(q_n)·φ(k_m) v_m / Σ_m φ(q_n)·φ(k_m), per head of 32
B, N, M, C, d = 2, 7, 5, 64, 32
q, k, v = (torch.randn(B, n, C, dtype=torch.float64) for n in (N, M, M))
ref = torch.empty(B, N, C, dtype=torch.float64)
for h in range(C // d):
    s = slice(h * d, (h + 1) * d)
    a = F.relu(q[..., s]) @ F.relu(k[..., s]).transpose(1, 2)  # (B, N, M)
    ref[..., s] = (a @ v[..., s]) / (a.sum(-1, keepdim=True) + 1e-15)
check("linear-attention", T.linear_attention(q.float(), k.float(), v.float()), ref)

# cross attention: softmax(q kᵀ/√d + mask) v per head, with projections
x, y = torch.randn(B, N, C), torch.randn(B, 9, C)
w = {n: torch.randn(C, C) / 8 for n in ("wq", "wk", "wv", "wo")}
w.update({n: torch.randn(C) / 8 for n in ("bq", "bk", "bv", "bo")})
mask = T.caption_mask_bias(B, 9, torch.float32, "cpu")
heads = 2
qq, kk, vv = F.linear(x, w["wq"], w["bq"]), F.linear(y, w["wk"], w["bk"]), F.linear(y, w["wv"], w["bv"])
o = torch.empty(B, N, C)
for h in range(heads):
    s = slice(h * 32, (h + 1) * 32)
    a = torch.softmax(qq[..., s].double() @ kk[..., s].double().transpose(1, 2) / math.sqrt(32) + mask[:, 0].double(), -1)
    o[..., s] = (a @ vv[..., s].double()).float()
check("cross-attention", T.cross_attention(x, y, mask, w, heads), F.linear(o, w["wo"], w["bo"]), 1e-5)

# lite-mla: both branches of the op (linear form when H·W > 32, quadratic otherwise) against float64
wm = dict(wq=torch.randn(64, 64, 1, 1) / 8, wk=torch.randn(64, 64, 1, 1) / 8, wv=torch.randn(64, 64, 1, 1) / 8,
          dw5=torch.randn(192, 1, 5, 5) / 5, grp=torch.randn(192, 32, 1, 1) / 6, proj=torch.randn(64, 128, 1, 1) / 11,
          nw=torch.ones(64), nb=torch.zeros(64))
w64 = {k_: v_.double() for k_, v_ in wm.items()}
for side, form in ((8, "linear"), (4, "quadratic")):
    xm = torch.randn(1, 64, side, side)
    check(f"lite-mla ({form} form)", T.lite_mla(xm, wm), T.lite_mla(xm.double(), w64), 1e-5)

# mix-ffn on tokens equals GLUMBConv on the NCHW map
hh, ww, hidden = 3, 4, 16
xt = torch.randn(1, hh * ww, C)
f = dict(inv=torch.randn(2 * hidden, C, 1, 1) / 8, inv_b=torch.randn(2 * hidden) / 4, dw=torch.randn(2 * hidden, 1, 3, 3) / 3,
         dw_b=torch.randn(2 * hidden) / 4, pt=torch.randn(C, hidden, 1, 1) / 4)
u = F.silu(torch.einsum("bnc,oc->bno", xt.double(), f["inv"][:, :, 0, 0].double()) + f["inv_b"].double())
um = u.transpose(1, 2).reshape(1, 2 * hidden, hh, ww)
um = F.conv2d(um, f["dw"].double(), f["dw_b"].double(), padding=1, groups=2 * hidden)
z = um[:, :hidden] * F.silu(um[:, hidden:])
ref = torch.einsum("bchw,oc->bhwo", z, f["pt"][:, :, 0, 0].double()).reshape(1, hh * ww, C)
check("mix-ffn", T.mix_ffn(xt, hh, ww, f), ref)

# dcae-upsample: out[c, 2i+a, 2j+b] = conv(up(x)) + x[(c·4 + 2a + b)·Cin/(4·Cout)] … checked on the shortcut alone
xu = torch.randn(1, 4, 2, 3, dtype=torch.float64)
zero_w, zero_b = torch.zeros(2, 4, 3, 3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
sc = T.dcae_upsample(xu, zero_w, zero_b)  # Cout 2, repeats 2·4/4 = 2: channel c of the repeat is x[c // 2]
ref = torch.empty(1, 2, 4, 6, dtype=torch.float64)
for c in range(2):
    for i in range(4):
        for j in range(6):
            ref[0, c, i, j] = xu[0, (c * 4 + (i % 2) * 2 + (j % 2)) // 2, i // 2, j // 2]
check("dcae-upsample shortcut", sc, ref, 1e-12)

# every builder runs at a tiny shape of each op
dims = {
    "gemm": dict(M=5, N=6, K=7, bias=True, activation="gelu-tanh"),
    "linear-attention": dict(B=1, N=5, C=64, heads=2, headDim=32),
    "linear-attention-block": dict(B=1, N=5, C=64, heads=2, headDim=32),
    "mix-ffn": dict(B=1, N=6, C=32, h=2, w=3, hidden=16),
    "cross-attention": dict(B=1, N=5, C=64, L=7, heads=2, headDim=32),
    "layernorm-modulate": dict(B=2, N=5, C=16),
    "rmsnorm": dict(rows=4, C=16),
    "dit-block": dict(B=2, N=6, C=64, h=2, w=3, heads=2, headDim=32, hidden=40, L=7, crossHeads=2, crossHeadDim=32),
    "conv3x3": dict(B=1, Cin=4, Cout=8, H=5, W=5, stride=2, bias=True),
    "rmsnorm2d": dict(B=1, C=8, H=3, W=3),
    "lite-mla": dict(B=1, C=64, H=4, W=4),
    "dcae-resblock": dict(B=1, C=8, H=3, W=3),
    "dcae-evit-block": dict(B=1, C=32, H=4, W=4),
    "dcae-upsample": dict(B=1, Cin=16, Cout=8, H=3, W=3),
}
for op, build in T.BUILDERS.items():
    for dt in (torch.float32, torch.bfloat16):
        out = build(dims[op], dt, "cpu")()
        ok = bool(torch.isfinite(out.float()).all()) and out.dtype == dt
        failures += 0 if ok else 1
        print(json.dumps(dict(check=f"builds {op} {dt}", shape=list(out.shape), ok=ok)))

print(json.dumps(dict(failures=failures)))
sys.exit(1 if failures else 0)
