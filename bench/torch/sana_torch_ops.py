"""SANA's hot ops written the way PyTorch eager runs them in diffusers — the baseline every native
kernel of the lab is timed against (`sana-lab bench --backend torch`, bench/torch/worker.py).

Each `build_<op>(dims, dtype, device)` takes the dimensions of one catalogue case (bench/ops.ts: the
same names, e.g. gemm {M, N, K, bias, activation}) and returns a zero-argument callable that runs the
op once on fresh random inputs (weights with std 1/sqrt(fan-in), never zeros). Layouts are PyTorch's
own: DiT ops on token-major (B, N, C), DC-AE ops on NCHW, the way diffusers calls them (the native
kernels use NHWC for DC-AE; each side runs its natural layout).

The math follows diffusers (SanaLinearAttnProcessor2_0, GLUMBConv, SanaMultiscaleLinearAttention,
RMSNorm, AdaLayerNormSingle), including its float32 upcast inside linear attention.
"""
import math

import torch
import torch.nn.functional as F


def randn(shape, dtype, device, std=1.0, mean=0.0):
    return (torch.randn(*shape, device=device, dtype=torch.float32) * std + mean).to(dtype)


def weight(shape, fan_in, dtype, device):
    return randn(shape, dtype, device, std=1.0 / math.sqrt(fan_in))


def caption_mask_bias(B, L, dtype, device):
    """(B, 1, 1, L) additive bias: key 0 always kept, others kept with p ~ 0.69 (bench/api-calls.ts)."""
    keep = torch.randn(B, L, device=device) > -0.5
    keep[:, 0] = True
    return ((~keep).to(torch.float32) * -10000.0).to(dtype)[:, None, None, :]


ACTIVATIONS = {
    "none": lambda x: x,
    "relu": F.relu,
    "silu": F.silu,
    "gelu-tanh": lambda x: F.gelu(x, approximate="tanh"),
}


# ---------------------------------------------------------------- the ops
def linear_attention(q, k, v, head_dim=32, eps=1e-15):
    """ReLU linear attention on token-major (B, N, C) as diffusers: ReLU, f32 upcast, pad, 2 matmuls, divide."""
    B, N, C = q.shape
    M = k.shape[1]
    h = C // head_dim
    dtype = q.dtype
    q = F.relu(q).view(B, N, h, head_dim).permute(0, 2, 3, 1).float()  # B h d N
    k = F.relu(k).view(B, M, h, head_dim).permute(0, 2, 1, 3).float()  # B h M d
    v = v.view(B, M, h, head_dim).permute(0, 2, 3, 1).float()  # B h d M
    v = F.pad(v, (0, 0, 0, 1), value=1.0)  # B h (d+1) M: the ones row yields the denominator
    vk = torch.matmul(v, k)  # B h (d+1) d
    o = torch.matmul(vk, q)  # B h (d+1) N
    o = o[:, :, :-1] / (o[:, :, -1:] + eps)
    return o.permute(0, 3, 1, 2).reshape(B, N, C).to(dtype)


def linear_attention_block(x, w, head_dim=32):
    """to_q, to_k, to_v (no bias), the core, to_out (bias): diffusers SanaLinearAttnProcessor2_0."""
    q, k, v = F.linear(x, w["wq"]), F.linear(x, w["wk"]), F.linear(x, w["wv"])
    return F.linear(linear_attention(q, k, v, head_dim), w["wo"], w["bo"])


def mix_ffn(x, h, w_, wts):
    """GLUMBConv on (B, N, C) tokens: NCHW 1x1 conv + SiLU, depthwise 3x3, GLU, 1x1 conv (diffusers)."""
    B, N, C = x.shape
    y = x.transpose(1, 2).reshape(B, C, h, w_)
    y = F.silu(F.conv2d(y, wts["inv"], wts["inv_b"]))
    y = F.conv2d(y, wts["dw"], wts["dw_b"], padding=1, groups=y.shape[1])
    y, gate = y.chunk(2, dim=1)
    y = y * F.silu(gate)
    y = F.conv2d(y, wts["pt"])
    return y.flatten(2).transpose(1, 2)


def attention(q, k, v, mask_bias):
    """Softmax attention on (B, heads, N, d): SDPA where this torch has it, else the explicit form."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask_bias)
    a = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + mask_bias, dim=-1)
    return a @ v


def cross_attention(x, y, mask_bias, w, heads):
    """MultiHeadCrossAttention: q from x, k/v from the caption y, masked softmax, output projection."""
    B, N, _ = x.shape
    L = y.shape[1]
    q, k, v = F.linear(x, w["wq"], w["bq"]), F.linear(y, w["wk"], w["bk"]), F.linear(y, w["wv"], w["bv"])
    d = q.shape[-1] // heads
    split = lambda t, n: t.view(B, n, heads, d).transpose(1, 2)
    o = attention(split(q, N), split(k, L), split(v, L), mask_bias)
    return F.linear(o.transpose(1, 2).reshape(B, N, heads * d), w["wo"], w["bo"])


def layernorm_modulate(x, shift, scale, eps=1e-6):
    return F.layer_norm(x, (x.shape[-1],), eps=eps) * (1 + scale) + shift


def rmsnorm(x, weight_, eps=1e-5):
    """diffusers RMSNorm: the variance in float32, scaled by the weight."""
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * weight_


def rmsnorm2d(x, weight_, bias, eps=1e-5):
    """DC-AE RMSNorm2d over the channels of NCHW x (float32 statistics)."""
    xf = x.float()
    r = torch.rsqrt(xf.pow(2).mean(dim=1, keepdim=True) + eps)
    return (xf * r * weight_.float()[None, :, None, None] + bias.float()[None, :, None, None]).to(x.dtype)


def dit_block(x, y, t0, mask_bias, h, w_, wts, head_dim, cross_heads):
    """SanaTransformerBlock: adaLN-single modulation, linear self-attention, cross-attention, Mix-FFN."""
    B, N, C = x.shape
    mod = (wts["table"][None] + t0.view(B, 6, C)).chunk(6, dim=1)
    shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod
    x = x + gate_msa * linear_attention_block(layernorm_modulate(x, shift_msa, scale_msa), wts["attn1"], head_dim)
    x = x + cross_attention(x, y, mask_bias, wts["attn2"], cross_heads)
    return x + gate_mlp * mix_ffn(layernorm_modulate(x, shift_mlp, scale_mlp), h, w_, wts["ff"])


def lite_mla(x, w, head_dim=32, eps=1e-15):
    """SanaMultiscaleLinearAttention (DC-AE): q/k/v, 5x5 depthwise + grouped 1x1 aggregation, ReLU
    attention per head (linear form when H*W > d, else quadratic), projection, RMSNorm2d, residual."""
    B, C, H, W = x.shape
    d = head_dim
    heads = C // d
    qkv = torch.cat([F.conv2d(x, w["wq"]), F.conv2d(x, w["wk"]), F.conv2d(x, w["wv"])], dim=1)
    agg = F.conv2d(F.conv2d(qkv, w["dw5"], padding=2, groups=3 * C), w["grp"], groups=3 * heads)
    m = torch.cat([qkv, agg], dim=1).view(B, 2 * heads, 3 * d, H * W)
    q, k, v = m[:, :, 0:d], m[:, :, d:2 * d], m[:, :, 2 * d:]
    q, k, v = F.relu(q).float(), F.relu(k).float(), v.float()
    if H * W > d:
        v = F.pad(v, (0, 0, 0, 1), value=1.0)
        o = torch.matmul(torch.matmul(v, k.transpose(-1, -2)), q)
    else:
        a = torch.matmul(k.transpose(-1, -2), q)  # (HW, HW)
        o = torch.matmul(F.pad(v, (0, 0, 0, 1), value=1.0), a)
    o = (o[:, :, :-1] / (o[:, :, -1:] + eps)).to(x.dtype).reshape(B, 2 * C, H, W)
    return x + rmsnorm2d(F.conv2d(o, w["proj"]), w["nw"], w["nb"])


def glumbconv_nchw(x, w):
    """GLUMBConv on an NCHW map: 1x1 conv + bias + SiLU, depthwise 3x3 + bias, GLU, 1x1 conv (no bias)."""
    y = F.silu(F.conv2d(x, w["inv"], w["inv_b"]))
    y = F.conv2d(y, w["dw"], w["dw_b"], padding=1, groups=y.shape[1])
    y, gate = y.chunk(2, dim=1)
    return F.conv2d(y * F.silu(gate), w["pt"])


def dcae_evit_block(x, w):
    """EfficientViTBlock (DC-AE): a = LiteMLA(x) (its own norm and residual); out = a + RMSNorm2d(GLUMBConv₄(a))."""
    a = lite_mla(x, w["attn"])
    return a + rmsnorm2d(glumbconv_nchw(a, w["ff"]), w["nw"], w["nb"])


def dcae_upsample(x, w, b):
    """DCUpBlock2d with interpolation (SANA's decoder): conv3x3(nearest 2x(x)) + bias, plus the shortcut
    pixel_shuffle(repeat_interleave(x, Cout·4/Cin), 2)."""
    cout, cin = w.shape[0], x.shape[1]
    y = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, b, padding=1)
    return y + F.pixel_shuffle(x.repeat_interleave(cout * 4 // cin, dim=1), 2)


def dcae_resblock(x, w):
    """DC-AE ResBlock: conv3x3 + bias, SiLU, conv3x3, RMSNorm2d, residual."""
    y = F.silu(F.conv2d(x, w["c1"], w["c1_b"], padding=1))
    return x + rmsnorm2d(F.conv2d(y, w["c2"], padding=1), w["nw"], w["nb"])


# ---------------------------------------------------------------- builders from catalogue dims
def _dit_block_weights(C, hidden, dt, dev):
    sq = lambda: weight((C, C), C, dt, dev)
    small = lambda n: randn((n,), dt, dev, std=0.3)
    return dict(
        table=randn((6, C), dt, dev, std=0.3),
        attn1=dict(wq=sq(), wk=sq(), wv=sq(), wo=sq(), bo=small(C)),
        attn2=dict(wq=sq(), bq=small(C), wk=sq(), bk=small(C), wv=sq(), bv=small(C), wo=sq(), bo=small(C)),
        ff=dict(inv=weight((2 * hidden, C, 1, 1), C, dt, dev), inv_b=small(2 * hidden),
                dw=randn((2 * hidden, 1, 3, 3), dt, dev, std=0.3), dw_b=small(2 * hidden),
                pt=weight((C, hidden, 1, 1), hidden, dt, dev)),
    )


def build_gemm(d, dt, dev):
    x = randn((d["M"], d["K"]), dt, dev)
    w = weight((d["N"], d["K"]), d["K"], dt, dev)
    b = randn((d["N"],), dt, dev, std=0.5) if d["bias"] else None
    act = ACTIVATIONS[d["activation"]]
    return lambda: act(F.linear(x, w, b))


def build_linear_attention(d, dt, dev):
    q, k, v = (randn((d["B"], d["N"], d["C"]), dt, dev) for _ in range(3))
    return lambda: linear_attention(q, k, v, d["headDim"])


def build_linear_attention_block(d, dt, dev):
    C = d["C"]
    x = randn((d["B"], d["N"], C), dt, dev)
    w = dict(wq=weight((C, C), C, dt, dev), wk=weight((C, C), C, dt, dev), wv=weight((C, C), C, dt, dev),
             wo=weight((C, C), C, dt, dev), bo=randn((C,), dt, dev, std=0.3))
    return lambda: linear_attention_block(x, w, d["headDim"])


def build_mix_ffn(d, dt, dev):
    x = randn((d["B"], d["N"], d["C"]), dt, dev)
    wts = _dit_block_weights(d["C"], d["hidden"], dt, dev)["ff"]
    return lambda: mix_ffn(x, d["h"], d["w"], wts)


def build_cross_attention(d, dt, dev):
    C, inner = d["C"], d["heads"] * d["headDim"]
    x = randn((d["B"], d["N"], C), dt, dev)
    y = randn((d["B"], d["L"], C), dt, dev)
    small = lambda n: randn((n,), dt, dev, std=0.3)
    w = dict(wq=weight((inner, C), C, dt, dev), bq=small(inner), wk=weight((inner, C), C, dt, dev), bk=small(inner),
             wv=weight((inner, C), C, dt, dev), bv=small(inner), wo=weight((C, inner), inner, dt, dev), bo=small(C))
    mask = caption_mask_bias(d["B"], d["L"], dt, dev)
    return lambda: cross_attention(x, y, mask, w, d["heads"])


def build_layernorm_modulate(d, dt, dev):
    x = randn((d["B"], d["N"], d["C"]), dt, dev)
    shift, scale = (randn((d["B"], 1, d["C"]), dt, dev, std=0.5) for _ in range(2))
    return lambda: layernorm_modulate(x, shift, scale)


def build_rmsnorm(d, dt, dev):
    x = randn((d["rows"], d["C"]), dt, dev, std=2.0)
    w = randn((d["C"],), dt, dev, std=0.5, mean=1.0)
    return lambda: rmsnorm(x, w)


def build_dit_block(d, dt, dev):
    B, N, C = d["B"], d["N"], d["C"]
    x = randn((B, N, C), dt, dev)
    y = randn((B, d["L"], C), dt, dev)
    t0 = randn((B, 6 * C), dt, dev, std=0.3)
    mask = caption_mask_bias(B, d["L"], dt, dev)
    wts = _dit_block_weights(C, d["hidden"], dt, dev)
    return lambda: dit_block(x, y, t0, mask, d["h"], d["w"], wts, d["headDim"], d["crossHeads"])


def build_conv3x3(d, dt, dev):
    x = randn((d["B"], d["Cin"], d["H"], d["W"]), dt, dev)
    w = weight((d["Cout"], d["Cin"], 3, 3), 9 * d["Cin"], dt, dev)
    b = randn((d["Cout"],), dt, dev, std=0.5) if d["bias"] else None
    return lambda: F.conv2d(x, w, b, stride=d["stride"], padding=1)


def _norm_params(C, dt, dev):
    return randn((C,), dt, dev, std=0.2, mean=1.0), randn((C,), dt, dev, std=0.2)


def build_rmsnorm2d(d, dt, dev):
    x = randn((d["B"], d["C"], d["H"], d["W"]), dt, dev, std=2.0)
    w, b = _norm_params(d["C"], dt, dev)
    return lambda: rmsnorm2d(x, w, b)


def build_lite_mla(d, dt, dev):
    C = d["C"]
    x = randn((d["B"], C, d["H"], d["W"]), dt, dev)
    nw, nb = _norm_params(C, dt, dev)
    w = dict(wq=weight((C, C, 1, 1), C, dt, dev), wk=weight((C, C, 1, 1), C, dt, dev), wv=weight((C, C, 1, 1), C, dt, dev),
             dw5=randn((3 * C, 1, 5, 5), dt, dev, std=0.2), grp=weight((3 * C, 32, 1, 1), 32, dt, dev),
             proj=weight((C, 2 * C, 1, 1), 2 * C, dt, dev), nw=nw, nb=nb)
    return lambda: lite_mla(x, w)


def build_dcae_resblock(d, dt, dev):
    C = d["C"]
    x = randn((d["B"], C, d["H"], d["W"]), dt, dev)
    nw, nb = _norm_params(C, dt, dev)
    w = dict(c1=weight((C, C, 3, 3), 9 * C, dt, dev), c1_b=randn((C,), dt, dev, std=0.2),
             c2=weight((C, C, 3, 3), 9 * C, dt, dev), nw=nw, nb=nb)
    return lambda: dcae_resblock(x, w)


def build_dcae_upsample(d, dt, dev):
    x = randn((d["B"], d["Cin"], d["H"], d["W"]), dt, dev)
    w = weight((d["Cout"], d["Cin"], 3, 3), 9 * d["Cin"], dt, dev)
    b = randn((d["Cout"],), dt, dev, std=0.5)
    return lambda: dcae_upsample(x, w, b)


def build_dcae_evit_block(d, dt, dev):
    C, two = d["C"], 8 * d["C"]  # GLUMBConv expand ratio 4: 2·4C channels before the GLU
    x = randn((d["B"], C, d["H"], d["W"]), dt, dev)
    nw, nb = _norm_params(C, dt, dev)
    anw, anb = _norm_params(C, dt, dev)
    attn = dict(wq=weight((C, C, 1, 1), C, dt, dev), wk=weight((C, C, 1, 1), C, dt, dev), wv=weight((C, C, 1, 1), C, dt, dev),
                dw5=randn((3 * C, 1, 5, 5), dt, dev, std=0.2), grp=weight((3 * C, 32, 1, 1), 32, dt, dev),
                proj=weight((C, 2 * C, 1, 1), 2 * C, dt, dev), nw=anw, nb=anb)
    ff = dict(inv=weight((two, C, 1, 1), C, dt, dev), inv_b=randn((two,), dt, dev, std=0.3),
              dw=randn((two, 1, 3, 3), dt, dev, std=1 / 3), dw_b=randn((two,), dt, dev, std=0.3),
              pt=weight((C, two // 2, 1, 1), two // 2, dt, dev))
    w = dict(attn=attn, ff=ff, nw=nw, nb=nb)
    return lambda: dcae_evit_block(x, w)


BUILDERS = {
    "gemm": build_gemm,
    "linear-attention": build_linear_attention,
    "linear-attention-block": build_linear_attention_block,
    "mix-ffn": build_mix_ffn,
    "cross-attention": build_cross_attention,
    "layernorm-modulate": build_layernorm_modulate,
    "rmsnorm": build_rmsnorm,
    "dit-block": build_dit_block,
    "conv3x3": build_conv3x3,
    "rmsnorm2d": build_rmsnorm2d,
    "lite-mla": build_lite_mla,
    "dcae-resblock": build_dcae_resblock,
    "dcae-evit-block": build_dcae_evit_block,
    "dcae-upsample": build_dcae_upsample,
}
