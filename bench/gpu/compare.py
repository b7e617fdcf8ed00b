#!/usr/bin/env python3
"""Short comparison table: this library's CUDA kernels (cuda-selftest --bench JSON) against the
PyTorch-eager baselines of the same run (pytorch_baselines.py JSON), matched on (op, model, res, batch).

Cases are matched on (op, model, res, batch, DC-AE stage): the decoder's stages share op, model and
resolution but not their shapes. A second table puts each version written after the H200 run and not
yet a default (CANDIDATES) beside the sm_90 default it would replace, case by case, and says whether it
was faster in every case (the evidence to promote it); gemm's split-K records (shape.split_k) likewise
compare auto against off, gemm / conv3x3 v4 in clusters of two (shape.cluster) against the same launch
without, and gemm v3's main-loop probes (shape.probe: the operand feed alone, the tensor cores alone)
against the full kernel, and dit-block v3 with programmatic dependent launch (shape.pdl) against plain
launches. For each case: the fastest CUDA version and its median, torch's
median, the speed-up against the issue's target, and for the bandwidth-bound ops the fraction of the
measured copy bandwidth (bytes = inputs read once + output written once, bf16; linear-attention's
target is 80% of it). Prints a fixed-width table; never fails on missing files or fields.

    python3 bench/gpu/compare.py CUDA_BENCH.json BASELINES.json
"""
import json
import sys

# Issue #7 targets (ratio to PyTorch eager in the same run)
TARGETS = {"linear-attention": 3.0, "linear-attention-block": 1.5, "mix-ffn": 1.3, "gemm": 0.7,
           "dcae-resblock": 1.3, "dcae-evit-block": 1.3, "dcae-upsample": 1.3}
BW_TARGETS = {"linear-attention": 0.8}  # fraction of the copy bandwidth
DIT_C = {"0.6b": 1152, "1.6b": 2240}
# op: (candidate version, the sm_90 default it would replace); explicit only until a GPU shows them faster
CANDIDATES = {"linear-attention": (3, 2), "linear-attention-block": (5, 4), "cross-attention": (4, 3),
              "lite-mla": (3, 2), "dcae-upsample": (3, 2), "mix-ffn": (4, 3), "mix-ffn-dw": (3, 2), "dcae-head": (4, 3)}


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
    if r["op"] == "mix-ffn-dw":  # u (B·H·W × 2h) read once, z (B·H·W × h) written once
        return 3 * s["B"] * s["H"] * s["W"] * s["hidden"] * 2
    return None


def case_key(r):
    """(op, model, res, batch, stage): stage is the DC-AE stage (-1 for the DiT ops)."""
    stage = (r.get("shape") or {}).get("stage")
    return (r["op"], r["model"], r["res"], r["batch"], -1 if stage is None else stage)


def baseline_shape(r):
    """Whether a record has the shape its baseline times: gemm's is the QKV projection (N = 3C, K = C); the
    self-test also times v3's N = C gemms at each tile width (tile_widths), which torch does not."""
    s = r.get("shape") or {}
    c = DIT_C.get(r.get("model"))
    return r["op"] != "gemm" or c is None or "N" not in s or (s["N"] == 3 * c and s.get("K") == c)


def gemm_v3_records(records):
    """gemm v3's timed records with an M, N, K shape, split-K and cluster records left out (their own tables)."""
    for r in records:
        s = r.get("shape") or {}
        if r["op"] == "gemm" and r.get("version") == 3 and "median_ms" in r and not {"split_k", "cluster", "probe"} & s.keys() and {"M", "N", "K"} <= s.keys():
            yield r


def gemm_l2_traffic(records, l2_gbps):
    """gemm v3's L2 → shared-memory traffic at the largest DiT QKV shape: every block refills (128 + BN)·64·2
    bytes per 64-deep k-slice, so ⌈M/128⌉·⌈N/BN⌉·⌈K/64⌉ such refills over the median time; near the L2 read
    ceiling means the kernel is L2-bound (then TMA multicast in a cluster, not more tensor-core work, is next)."""
    best = None
    for r in gemm_v3_records(records):
        s = r["shape"]
        if best is None or s["M"] * s["N"] * s["K"] > best[0]:
            best = (s["M"] * s["N"] * s["K"], r)
    if best is None:
        return
    r = best[1]
    s = r["shape"]
    bn = s.get("tile_n", 256)
    refills = -(-s["M"] // 128) * -(-s["N"] // bn) * -(-s["K"] // 64)
    gbps = refills * (128 + bn) * 64 * 2 / (r["median_ms"] * 1e-3) / 1e9
    share = f" = {100 * gbps / l2_gbps:.0f}% of the L2 read ceiling" if l2_gbps else ""
    print(f"gemm v3 L2 → SM traffic at M {s['M']} N {s['N']} K {s['K']} (tile {bn}{'' if 'tile_n' in s else ', assumed'}): "
          f"{gbps:.0f} GB/s{share}")


def faster_in(speeds):
    """The verdict line of a speed-up table: in how many shapes the new launch was faster, and the range."""
    return f"faster in {sum(x > 1.0 for x in speeds)} of {len(speeds)} shape(s) (speed-up {min(speeds):.2f}–{max(speeds):.2f})"


def tile_widths(records):
    """gemm v3 at the plan's tile width and at each forced one (shape.tile_n), per DiT shape: the evidence for
    SANA_LAB_GEMM_TILES=128,192,256 (the 192-wide tile, opt-in until timed)."""
    by = {}  # (model, res, batch, M, N, K) → {tile_n or 0 (planned): median}
    for r in gemm_v3_records(records):
        s = r["shape"]
        by.setdefault((r["model"], r["res"], r["batch"], s["M"], s["N"], s["K"]), {})[s.get("tile_n", 0)] = r["median_ms"]
    rows = [(k, v) for k, v in sorted(by.items(), key=lambda kv: str(kv[0])) if 192 in v and 0 in v]
    if not rows:
        return
    print()
    print(f"{'gemm v3 tile widths':<20} {'model':<5} {'res':>5} {'B':>2} {'M':>6} {'N':>5} {'K':>5} {'planned':>8} {'t128':>8} {'t192':>8} {'t256':>8} {'192 vs planned':>14}")
    speeds = []
    for (model, res, b, m, n, k), v in rows:
        speed = v[0] / v[192]
        speeds.append(speed)
        cells = " ".join(f"{v[t]:>8.4f}" if t in v else f"{'-':>8}" for t in (0, 128, 192, 256))
        print(f"{'':<20} {model:<5} {res:>5} {b:>2} {m:>6} {n:>5} {k:>5} {cells} {speed:>14.2f}")
    print(f"tile 192 vs the planned width: {faster_in(speeds)}; the plan takes 192 only with SANA_LAB_GEMM_TILES=128,192,256")


def launch_pairs(records, selected, key, plain, new):
    """The timed records `selected` keeps, grouped per case (op, model, res, batch, the shape without `key`)
    into {shape[key] (plain when absent): median}; the cases timed both ways (`plain` and `new`), sorted.
    The opt-in launch-mode tables (clusters, PDL) put one launch mode beside the other with it."""
    by = {}
    for r in records:
        s = r.get("shape") or {}
        if "median_ms" not in r or not selected(r, s):
            continue
        rest = tuple(sorted((k, v) for k, v in s.items() if k != key))
        by.setdefault((r["op"], r["model"], r["res"], r["batch"], rest), {})[s.get(key, plain)] = r["median_ms"]
    return [(k, v) for k, v in sorted(by.items(), key=lambda kv: str(kv[0])) if plain in v and new in v]


def clusters(records):
    """gemm v3 and conv3x3 v4 in clusters of two blocks sharing the B tile by TMA multicast (shape.cluster,
    opt-in: SANA_LAB_GEMM_CLUSTER=2) against the same launch without, per shape: the evidence to turn it on.
    Each block of a pair refills (128 + BN/2)·128 instead of (128 + BN)·128 bytes of shared memory per k-slice
    from L2, so if gemm v3 is L2-bound this is where it shows."""
    def selected(r, s):  # gemm v3 / conv3x3 v4 at the plan's width, no split, no probe
        return not {"tile_n", "split_k", "probe"} & s.keys() and (r["op"], r.get("version")) in (("gemm", 3), ("conv3x3", 4))
    rows = launch_pairs(records, selected, "cluster", 1, 2)
    if not rows:
        return
    print()
    print(f"{'clusters of 2 (multicast B)':<28} {'model':<5} {'res':>5} {'B':>2} {'shape':<34} {'alone ms':>9} {'pairs ms':>9} {'speed-up':>8}")
    speeds = []
    for (op, model, res, b, rest), v in rows:
        speed = v[1] / v[2]
        speeds.append(speed)
        shape = " ".join(f"{k} {x}" for k, x in rest)
        print(f"{op:<28} {model:<5} {res:>5} {b:>2} {shape:<34} {v[1]:>9.4f} {v[2]:>9.4f} {speed:>8.2f}")
    print(f"clusters of 2 vs none: {faster_in(speeds)}; the plan clusters only with SANA_LAB_GEMM_CLUSTER=2")


def pdl(records):
    """dit-block v3 with every kernel a programmatic dependent (shape.pdl, opt-in: SANA_LAB_PDL=1) against the
    same version launched plainly, per shape: each of its ~15 kernels may launch while the one ahead finishes
    (waiting for it before touching memory), so the launch and prologue leave the critical path. Where kernels
    are short (512², 1024²) this is where it shows."""
    rows = launch_pairs(records, lambda r, s: r["op"] == "dit-block" and r.get("version") == 3, "pdl", 0, 1)
    if not rows:
        return
    print()
    print(f"{'programmatic dependent launch':<30} {'model':<5} {'res':>5} {'B':>2} {'plain ms':>9} {'PDL ms':>9} {'speed-up':>8}")
    speeds = []
    for (_op, model, res, b, _rest), v in rows:
        speed = v[0] / v[1]
        speeds.append(speed)
        print(f"{'dit-block v3':<30} {model:<5} {res:>5} {b:>2} {v[0]:>9.4f} {v[1]:>9.4f} {speed:>8.2f}")
    print(f"PDL vs plain launches: {faster_in(speeds)}; the kernels launch so only with SANA_LAB_PDL=1")


PROBES = {1: "feed", 2: "math"}


def probes(records, l2_gbps):
    """gemm v3's main loop taken apart (shape.probe, bench-only launches whose output is not the product):
    feed = the producer's TMA loads and the full/empty handshakes with no wgmma (what L2 → shared memory and
    the pipeline alone cost); math = the wgmma batches on stale shared memory with no loads (what the tensor
    cores and the handshakes alone cost). The full kernel near `feed` says operand-bound (clusters next);
    near `math`, tensor-core or issue-bound (more in flight next); above both, the overlap is the loss."""
    by = {}  # (model, res, batch, M, N, K, cluster) → {"full" | "feed" | "math": median}
    for r in records:
        s = r.get("shape") or {}
        if r["op"] != "gemm" or r.get("version") != 3 or "median_ms" not in r or {"tile_n", "split_k"} & s.keys() or not {"M", "N", "K"} <= s.keys():
            continue
        kind = PROBES.get(s.get("probe"), "full") if "probe" in s else "full"
        v = by.setdefault((r["model"], r["res"], r["batch"], s["M"], s["N"], s["K"], s.get("cluster", 1)), {})
        v[kind] = r["median_ms"]
        if "bn" in s:
            v["bn"] = s["bn"]  # the plan's tile width, recorded with the probes
    rows = [(k, v) for k, v in sorted(by.items(), key=lambda kv: str(kv[0])) if "full" in v and ("feed" in v or "math" in v)]
    if not rows:
        return
    print()
    print(f"{'gemm v3 main loop':<18} {'model':<5} {'res':>5} {'B':>2} {'M':>6} {'N':>5} {'K':>5} {'cl':>2} {'full ms':>8} {'feed ms':>8} {'math ms':>8} "
          f"{'feed/full':>9} {'math/full':>9} {'feed GB/s':>9}")
    for (model, res, b, m, n, k, cl), v in rows:
        cells = " ".join(f"{v[x]:>8.4f}" if x in v else f"{'-':>8}" for x in ("full", "feed", "math"))
        ratio = lambda x: f"{v[x] / v['full']:>9.2f}" if x in v else f"{'-':>9}"  # noqa: E731
        # the feed's L2 → shared-memory bytes: (128 + BN/cluster)·128 per block and k-slice
        feed = ""
        if "feed" in v:
            bn = v.get("bn", 256)
            gbps = -(-m // 128) * -(-n // bn) * -(-k // 64) * (128 + bn // cl) * 128 / (v["feed"] * 1e-3) / 1e9
            feed = f"{gbps:>9.0f}"
        print(f"{'':<18} {model:<5} {res:>5} {b:>2} {m:>6} {n:>5} {k:>5} {cl:>2} {cells} {ratio('feed')} {ratio('math')} {feed:>9}")
    if l2_gbps:
        print(f"(the L2 read ceiling of this run: {l2_gbps:.0f} GB/s; a feed near it is L2-bound)")


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
        if "median_ms" not in r or not baseline_shape(r) or {"probe", "pdl"} & (r.get("shape") or {}).keys():
            continue  # (a probe's output is not the product: never "the fastest version"; PDL has its own table)
        key = case_key(r)
        if key not in best or r["median_ms"] < best[key]["median_ms"]:
            best[key] = r
    base = {}
    for r in (torch or {}).get("records", []):
        if "median_ms" in r:
            base[case_key(r)] = r
    if ceil:
        print(f"ceilings ({ceil.get('device', '?')}): copy {ceil.get('copy_GBps', 0):.0f} GB/s, "
              f"{('L2 read %.0f GB/s, ' % ceil['l2_read_GBps']) if ceil.get('l2_read_GBps') else ''}"
              f"bf16 gemm {ceil.get('bf16_gemm_TFLOPs', 0):.0f} TFLOP/s (this library, {ceil.get('bf16_gemm_size')}³)")
        gemm_l2_traffic(cuda.get("records", []), ceil.get("l2_read_GBps"))
    tc = (torch or {}).get("ceilings") or {}
    if tc:
        print(f"torch ceilings: copy {tc.get('copy_GBps', 0):.0f} GB/s, bf16 gemm {tc.get('bf16_gemm_TFLOPs', 0):.0f} TFLOP/s")
    print(f"{'op':<22} {'model':<5} {'res':>5} {'B':>2} {'stage':>5} {'cuda v':>6} {'cuda ms':>9} {'torch ms':>9} {'speed-up':>8} {'target':>7} {'%copyBW':>8}  verdict")
    for key in sorted(best):
        r = best[key]
        t = base.get(key)
        speed = t["median_ms"] / r["median_ms"] if t else None
        target = TARGETS.get(key[0])
        mb = min_bytes(r)
        frac = (mb / (r["median_ms"] * 1e-3) / 1e9) / bw if (mb and bw) else None
        verdict = []
        if target and speed:
            verdict.append(("meets" if speed >= target else "misses") + f" {target:g}x")
        if key[0] in BW_TARGETS and frac:
            verdict.append(("meets" if frac >= BW_TARGETS[key[0]] else "misses") + f" {100 * BW_TARGETS[key[0]]:.0f}% BW")
        print(f"{key[0]:<22} {key[1]:<5} {key[2]:>5} {key[3]:>2} {('s%d' % key[4]) if key[4] >= 0 else '-':>5} {('v%d' % r['version']):>6} {r['median_ms']:>9.3f} "
              f"{(t['median_ms'] if t else float('nan')):>9.3f} {(speed if speed else float('nan')):>8.2f} "
              f"{(('%.1fx' % target) if target else '-'):>7} {(('%.0f%%' % (100 * frac)) if frac else '-'):>8}  {', '.join(verdict)}")
    missing = [k for k in base if k not in best]
    if missing:
        print(f"{len(missing)} baseline case(s) without a CUDA record (e.g. {missing[0]})")
    candidates(cuda.get("records", []))
    tile_widths(cuda.get("records", []))
    clusters(cuda.get("records", []))
    probes(cuda.get("records", []), ceil.get("l2_read_GBps"))
    pdl(cuda.get("records", []))
    return 0


def candidates(records):
    """Each candidate version against the default it would replace, per case; then gemm split-K auto vs off."""
    by = {}  # (case key, version or split mode) → fastest median
    for r in records:
        if "median_ms" not in r or {"probe", "pdl"} & (r.get("shape") or {}).keys():
            continue
        split = (r.get("shape") or {}).get("split_k")
        key = (case_key(r) + (tuple(sorted((k, v) for k, v in r["shape"].items() if k not in ("split_k", "splits"))),), split) \
            if split is not None else (case_key(r), r["version"])
        if key not in by or r["median_ms"] < by[key]:
            by[key] = r["median_ms"]
    rows = []
    for (ck, ver), ms in sorted(by.items(), key=lambda kv: str(kv[0])):
        op = ck[0]
        if op in CANDIDATES and len(ck) == 5 and ver == CANDIDATES[op][0] and (ck, CANDIDATES[op][1]) in by:
            rows.append((f"{op} v{ver} vs v{CANDIDATES[op][1]}", ck, ms, by[(ck, CANDIDATES[op][1])]))
        if len(ck) == 6 and ver == -1 and (ck, 0) in by:
            rows.append(("gemm split-K auto vs off", ck, ms, by[(ck, 0)]))
    if not rows:
        return
    print()
    print(f"{'candidate':<34} {'model':<5} {'res':>5} {'B':>2} {'stage':>5} {'new ms':>9} {'default ms':>10} {'speed-up':>8}")
    verdict = {}
    for name, ck, new, old in rows:
        speed = old / new
        verdict.setdefault(name, []).append(speed)
        print(f"{name:<34} {ck[1]:<5} {ck[2]:>5} {ck[3]:>2} {('s%d' % ck[4]) if ck[4] >= 0 else '-':>5} {new:>9.3f} {old:>10.3f} {speed:>8.2f}")
    for name, speeds in verdict.items():
        faster = all(x > 1.0 for x in speeds)
        print(f"{name}: {'faster in all' if faster else 'not faster in all'} {len(speeds)} case(s) "
              f"(speed-up {min(speeds):.2f}–{max(speeds):.2f}){': promote' if faster else ''}")


if __name__ == "__main__":
    sys.exit(main())
