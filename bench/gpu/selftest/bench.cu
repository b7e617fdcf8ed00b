// --bench: the device ceilings, then each op × version at SANA shapes (CUDA-event medians, L2 flushed).
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

struct Bench {
  std::vector<std::string> records;
  std::string device;
  std::chrono::steady_clock::time_point deadline;
  bool out_of_time() const { return std::chrono::steady_clock::now() > deadline; }

  void add(const std::string& op, int version, const std::string& model, int64_t res, int64_t batch, int64_t tokens, const std::string& shape,
           const std::function<Status()>& fn, double budget_ms = 600) {
    std::ostringstream r;
    r << "{\"op\":" << json_str(op) << ",\"backend\":\"cuda\",\"version\":" << version << ",\"model\":" << json_str(model) << ",\"res\":" << res
      << ",\"tokens\":" << tokens << ",\"batch\":" << batch << ",\"dtype\":\"bf16\",\"shape\":" << shape << ",\"device\":" << json_str(device);
    if (out_of_time()) {
      r << ",\"skipped\":\"budget\"}";
      records.push_back(r.str());
      return;
    }
    cuda::TimingOptions opt;
    opt.warmup = 2;
    opt.min_reps = 3;
    opt.max_reps = 20;
    opt.budget_ms = budget_ms;
    cuda::Timing t;
    Status s = cuda::time_launches(op.c_str(), fn, opt, &t);
    if (!s.ok()) {
      r << ",\"skipped\":" << json_str("error: " + s.message()) << "}";
      std::fprintf(stderr, "  %-22s v%d %-5s %5lld  error: %s\n", op.c_str(), version, model.c_str(), static_cast<long long>(res), s.message().c_str());
    } else {
      r << ",\"median_ms\":" << num(t.median_ms) << ",\"p20_ms\":" << num(t.p20_ms) << ",\"p80_ms\":" << num(t.p80_ms) << ",\"mean_ms\":" << num(t.mean_ms)
        << ",\"reps\":" << t.reps << ",\"l2_flush_bytes\":" << t.flush_bytes << "}";
      std::fprintf(stderr, "  %-22s v%d %-5s %5lld  %9.3f ms  (p20 %.3f, p80 %.3f, n=%d)\n", op.c_str(), version, model.c_str(),
                   static_cast<long long>(res), t.median_ms, t.p20_ms, t.p80_ms, t.reps);
    }
    records.push_back(r.str());
  }
};

std::string shape_json(const std::vector<std::pair<const char*, int64_t>>& kv) {
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : kv) {
    s += (first ? "\"" : ",\"") + std::string(k) + "\":" + std::to_string(v);
    first = false;
  }
  return s + "}";
}

// A gemm v3 record's shape: M, N, K, then what the run forced — shape.tile_n, shape.cluster (when not the
// plan's) and a bench probe with the plan's width (shape.probe, shape.bn).
std::string wg_shape(int64_t M, int64_t N, int64_t K, const WgVariant& w, int probe = cuda::plan::kWgProbeNone, int64_t bn = 0) {
  std::vector<std::pair<const char*, int64_t>> kv = {{"M", M}, {"N", N}, {"K", K}};
  if (w.tile_n != 0) kv.push_back({"tile_n", w.tile_n});
  if (w.cluster > 1) kv.push_back({"cluster", w.cluster});
  if (probe != cuda::plan::kWgProbeNone) {
    kv.push_back({"probe", probe});
    kv.push_back({"bn", bn});
  }
  return shape_json(kv);
}

// gemm v3's main-loop probes at the plan's tile width (bench only: their output is not the product):
// shape.probe 1 = the operand feed alone, without and with clusters of two; 2 = the tensor cores alone.
// shape.bn is the plan's width (compare.py counts the feed's L2 → shared-memory bytes with it).
void bench_gemm_probes(Bench& bench, const std::string& model, int64_t res, int64_t B, int64_t N, const GemmArgs& a, int64_t M, int64_t n, int64_t K) {
  cudaDeviceProp prop;
  const int64_t sms = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.multiProcessorCount : 0;
  cudaGetLastError();
  const int64_t bn = cuda::plan::gemm_wgmma_tile_n(M, n, sms, cuda::gemm_wgmma_tiles());
  const struct { int probe, cluster; } runs[] = {{cuda::plan::kWgProbeFeed, 1}, {cuda::plan::kWgProbeFeed, 2}, {cuda::plan::kWgProbeMath, 1}};
  for (const auto& r : runs) {
    WgForce force({0, r.cluster}, r.probe);
    bench.add("gemm", 3, model, res, B, N, wg_shape(M, n, K, {0, r.cluster}, r.probe, bn), [&] { return cuda::gemm(a, 3); });
  }
}

int versions_of(const char* op) {
  for (const auto& ov : cuda::op_versions()) {
    if (std::string(op) == ov.op) return static_cast<int>(ov.versions.size());
  }
  return 0;
}

// The gemm version the ceilings measure (--ceilings-gemm-version; 0 = the default, v3 only when asked).
int g_ceilings_gemm_version = 0;

std::string run_bench(const std::vector<int64_t>& res_list, int64_t B, double budget_s, uint64_t seed, std::string* ceil_json) {
  Bench bench;
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  bench.device = prop.name;
  bench.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(budget_s * 1000));
  Rng rng(seed);
  const DType dt = DType::kBF16;
  auto rand_dev = [&](std::vector<int64_t> shape, float scale) {
    Dev d = alloc_dev(dt, shape);
    ok(cuda::fill_random(d.v.data, dt, d.v.numel(), rng.next(), -scale, scale));
    return d;
  };
  {  // ceilings
    cuda::CeilingOptions co;
    co.gemm_version = g_ceilings_gemm_version;
    co.timing.max_reps = 10;
    co.timing.budget_ms = 1500;
    cuda::Ceilings c;
    Status s = cuda::measure_ceilings(co, &c);
    std::ostringstream o;
    if (s.ok()) {
      o << "{\"device\":" << json_str(c.device) << ",\"cc\":\"" << c.cc_major << "." << c.cc_minor << "\",\"sm_count\":" << c.sm_count
        << ",\"l2_bytes\":" << c.l2_bytes << ",\"memory_bytes\":" << c.memory_bytes << ",\"sm_clock_khz\":" << c.sm_clock_khz
        << ",\"mem_clock_khz\":" << c.mem_clock_khz << ",\"mem_bus_bits\":" << c.mem_bus_bits << ",\"copy_GBps\":" << num(c.copy_GBps)
        << ",\"copy_kernel_GBps\":" << num(c.copy_kernel_GBps) << ",\"copy_bytes\":" << c.copy_bytes << ",\"l2_read_GBps\":" << num(c.l2_read_GBps)
        << ",\"l2_read_bytes\":" << c.l2_read_bytes << ",\"bf16_gemm_TFLOPs\":" << num(c.gemm_bf16_TFLOPs)
        << ",\"bf16_gemm_ms\":" << num(c.gemm_ms) << ",\"bf16_gemm_size\":" << c.gemm_size << ",\"gemm_version\":" << c.gemm_version << "}";
      std::fprintf(stderr, "[ceilings] %s: copy %.0f GB/s (kernel %.0f), L2 read %.0f GB/s, bf16 gemm %lld³ %.1f TFLOP/s\n", c.device.c_str(),
                   c.copy_GBps, c.copy_kernel_GBps, c.l2_read_GBps, static_cast<long long>(c.gemm_size), c.gemm_bf16_TFLOPs);
    } else {
      o << "{\"error\":" << json_str(s.message()) << "}";
      std::fprintf(stderr, "[ceilings] error: %s\n", s.message().c_str());
    }
    *ceil_json = o.str();
  }
  if (device_is_sm90()) {  // gemm v3 split-K off / auto / forced at the small-M DiT gemms (512², batch 2: M = 512)
    // shape.split_k: the mode (0 off, −1 auto, 2 … 4 forced); shape.splits: the S that mode resolves to here.
    // First, before the budget runs low: these are the records that tune plan::gemm_wgmma_split_k.
    struct SplitShape {
      const char* model;
      int64_t M, N, K;
      bool bias_silu;  // the FFN's inverted conv: bias + SiLU epilogue
      int64_t tokens;
    };
    const SplitShape shapes[] = {{"0.6b", 512, 3456, 1152, false, 256},  {"0.6b", 512, 1152, 1152, false, 256},
                                 {"0.6b", 512, 5760, 1152, true, 256},   {"0.6b", 512, 1152, 2880, false, 256},
                                 {"1.6b", 512, 6720, 2240, false, 256},  {"1.6b", 512, 2240, 2240, false, 256},
                                 {"1.6b", 512, 11200, 2240, true, 256},  {"1.6b", 512, 2240, 5600, false, 256},
                                 {"0.6b", 600, 2304, 1152, false, 300}};  // cross-attention's k/v of 2 × 300 text tokens
    std::fprintf(stderr, "[gemm v3 split-K] 512², batch 2\n");
    const int saved = cuda::gemm_wgmma_split_k_mode();
    for (const SplitShape& sh : shapes) {
      try {
        Dev x = rand_dev({sh.M, sh.K}, 1.0f), w = rand_dev({sh.N, sh.K}, 0.03f), bias = rand_dev({sh.N}, 0.1f), o = alloc_dev(dt, {sh.M, sh.N});
        GemmArgs a;
        a.x = x.v;
        a.w = w.v;
        a.out = o.v;
        if (sh.bias_silu) {
          a.bias = bias.ptr();
          a.act = Activation::kSilu;
        }
        const int bn = cuda::plan::gemm_wgmma_tile_n(sh.M, sh.N, prop.multiProcessorCount);
        for (int mode : {0, -1, 2, 3, 4}) {
          const int S = cuda::plan::gemm_wgmma_splits(mode, sh.M, sh.N, sh.K, prop.multiProcessorCount, bn, false);
          cuda::set_gemm_wgmma_split_k(mode);
          bench.add("gemm", 3, sh.model, 512, 2, sh.tokens,
                    shape_json({{"M", sh.M}, {"N", sh.N}, {"K", sh.K}, {"act", sh.bias_silu ? 2 : 0}, {"split_k", mode}, {"splits", S}}),
                    [&] { return cuda::gemm(a, 3); });
        }
        cuda::set_gemm_wgmma_split_k(saved);
      } catch (const Failure& f) {
        cuda::set_gemm_wgmma_split_k(saved);
        std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
      }
    }
    ok(cuda::release_cached_memory());
  }
  struct Model {
    const char* name;
    int64_t C, heads_x, ffn;
  };
  const Model models[] = {{"0.6b", 1152, 16, 2880}, {"1.6b", 2240, 20, 5600}};
  const int64_t L = 300;
  for (int64_t res : res_list) {
    const int64_t hw = res / 32, N = hw * hw, M = B * N;
    // In the order the budget should spend itself (check.sh gives the bench ~50 s): Sana-0.6B (the issue's
    // targets), the DC-AE ResBlock stages (most of a decode's FLOPs: conv3x3 / dcae-resblock v4, dcae-head v3),
    // the EfficientViT stages, then Sana-1.6B.
    auto bench_dit = [&](const Model& m) {
      const int64_t C = m.C;
      std::fprintf(stderr, "[%s %lldx%lld] tokens %lld, batch %lld\n", m.name, static_cast<long long>(res), static_cast<long long>(res),
                   static_cast<long long>(N), static_cast<long long>(B));
      try {
        Dev x = rand_dev({B, N, C}, 1.0f), q = rand_dev({B, N, C}, 1.0f), k = rand_dev({B, N, C}, 1.0f), v = rand_dev({B, N, C}, 1.0f);
        Dev out = alloc_dev(dt, {B, N, C});
        {  // gemm: the QKV projection shape of the baseline (M = B·N, N = 3C, K = C)
          Dev w = rand_dev({3 * C, C}, 0.03f), o3 = alloc_dev(dt, {B, N, 3 * C});
          GemmArgs a;
          a.x = x.v;
          a.w = w.v;
          a.out = o3.v;
          for (int ver = 1; ver <= versions_of("gemm"); ++ver) {
            bench.add("gemm", ver, m.name, res, B, N, shape_json({{"M", M}, {"N", 3 * C}, {"K", C}}), [&] { return cuda::gemm(a, ver); });
          }
          if (device_is_sm90()) {  // v3 at each forced tile width beside the planned one above, and at the planned
            // width in clusters of two (TMA multicast of B, opt-in): shape.tile_n, shape.cluster; then the probes
            for (const WgVariant& w : {WgVariant{128, 1}, WgVariant{192, 1}, WgVariant{256, 1}, WgVariant{0, 2}}) {
              WgForce force(w);
              bench.add("gemm", 3, m.name, res, B, N, wg_shape(M, 3 * C, C, w), [&] { return cuda::gemm(a, 3); });
            }
            bench_gemm_probes(bench, m.name, res, B, N, a, M, 3 * C, C);
          }
        }
        if (device_is_sm90()) {  // v3's N = C gemms (attention out-projection K = C, FFN point-wise K = hidden):
          // planned, then each forced width (192 is opt-in: Sana-0.6B's C = 1152 = 6 × 192 = 4.5 × 256), then in clusters of two
          for (const int64_t K : {C, m.ffn}) {
            Dev xk = rand_dev({M, K}, 1.0f), w = rand_dev({C, K}, 0.03f), oc = alloc_dev(dt, {M, C});
            GemmArgs a;
            a.x = xk.v;
            a.w = w.v;
            a.out = oc.v;
            for (const WgVariant& w : {WgVariant{0, 1}, WgVariant{128, 1}, WgVariant{192, 1}, WgVariant{256, 1}, WgVariant{0, 2}}) {
              WgForce force(w);
              bench.add("gemm", 3, m.name, res, B, N, wg_shape(M, C, K, w), [&] { return cuda::gemm(a, 3); });
            }
            bench_gemm_probes(bench, m.name, res, B, N, a, M, C, K);
          }
        }
        {
          LinearAttentionArgs a;
          a.q = q.v;
          a.k = k.v;
          a.v = v.v;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("linear-attention"); ++ver) {
            bench.add("linear-attention", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::linear_attention(a, ver); });
          }
        }
        {  // the cross-attention core alone (the baseline times SDPA on given q, k, v)
          Dev y = rand_dev({B, L, C}, 1.0f);
          Dev mask = alloc_dev(dt, {B, L});
          std::vector<double> mv(B * L);
          for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < L / 2 ? 0.0 : -10000.0;
          mask = upload_values(dt, {B, L}, mv);
          const int64_t d = C / m.heads_x;
          // The core's own versions (xattn_core: 1 SIMT, 2 tensor cores, 3 tensor cores with the head's K/V
          // resident), not the full op's: cross-attention v3 / v4 are cores v2 / v3 behind wgmma projections,
          // which the Node-side bench times as the whole op.
          constexpr int kXattnCoreVersions = 3;
          for (int ver = 1; ver <= kXattnCoreVersions; ++ver) {
            bench.add("cross-attention", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}, {"L", L}, {"heads", m.heads_x}}), [&] {
              cuda::OpScope scope("cross-attention core");
              SANA_RETURN_IF_ERROR(scope.begin());
              return scope.finish(cuda::xattn_core("cross-attention core", ver, dt, q.v.data, C, y.v.data, C, y.v.data, C, mask.v.data, L, out.v.data,
                                                   C, B, N, L, m.heads_x, d));
            });
          }
        }
        {
          Dev w_inv = rand_dev({2 * m.ffn, C}, 0.03f), b_inv = rand_dev({2 * m.ffn}, 0.02f), w_dw = rand_dev({2 * m.ffn, 1, 3, 3}, 0.3f);
          Dev b_dw = rand_dev({2 * m.ffn}, 0.02f), w_pt = rand_dev({C, m.ffn}, 0.02f);
          MixFfnArgs a;
          a.x = x.v;
          a.w_inv = w_inv.v;
          a.b_inv = b_inv.v;
          a.w_dw = w_dw.v;
          a.b_dw = b_dw.v;
          a.w_point = w_pt.v;
          a.height = hw;
          a.width = hw;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("mix-ffn"); ++ver) {
            bench.add("mix-ffn", ver, m.name, res, B, N, shape_json({{"B", B}, {"H", hw}, {"W", hw}, {"C", C}, {"hidden", m.ffn}}),
                      [&] { return cuda::mix_ffn(a, ver); });
          }
          // The depthwise + GLU step alone (mix-ffn's middle kernel, its versions 1–3): bandwidth-bound, so
          // compare.py reports its fraction of the copy bandwidth.
          Dev u = rand_dev({B, N, 2 * m.ffn}, 1.0f), z = alloc_dev(dt, {B, N, m.ffn});
          for (int ver = 1; ver <= 3; ++ver) {
            bench.add("mix-ffn-dw", ver, m.name, res, B, N, shape_json({{"B", B}, {"H", hw}, {"W", hw}, {"hidden", m.ffn}}), [&] {
              cuda::OpScope scope("mix-ffn dw");
              SANA_RETURN_IF_ERROR(scope.begin());
              return scope.finish(cuda::dw_glu("mix-ffn dw", ver, dt, u.v.data, w_dw.v.data, b_dw.v.data, z.v.data, B, hw, hw, m.ffn));
            });
          }
        }
        {
          Dev shift = rand_dev({B, 1, C}, 0.1f), scale = rand_dev({B, 1, C}, 0.1f);
          LayerNormModulateArgs a;
          a.x = x.v;
          a.shift = shift.v;
          a.scale = scale.v;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("layernorm-modulate"); ++ver) {
            bench.add("layernorm-modulate", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::layernorm_modulate(a, ver); });
          }
        }
        {
          const float s = 0.03f;
          Dev wq = rand_dev({C, C}, s), wk = rand_dev({C, C}, s), wv = rand_dev({C, C}, s), wo = rand_dev({C, C}, s), bo = rand_dev({C}, 0.02f);
          Dev gate = rand_dev({B, 1, C}, 1.0f);
          LinearAttentionBlockArgs a;
          a.x = x.v;
          a.wq = wq.v;
          a.wk = wk.v;
          a.wv = wv.v;
          a.wo = wo.v;
          a.bo = bo.ptr();
          a.gate = gate.ptr();
          a.residual = x.ptr();
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("linear-attention-block"); ++ver) {
            bench.add("linear-attention-block", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::linear_attention_block(a, ver); });
          }
        }
        {  // the whole block (random weights of the real dimensions; y = caption tokens after projection)
          const float s = 0.03f;
          Dev y = rand_dev({B, L, C}, 1.0f), t0 = rand_dev({B, 6 * C}, 0.1f), table = rand_dev({6, C}, 0.1f);
          std::vector<double> mv(B * L);
          for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < L / 2 ? 0.0 : -10000.0;
          Dev mask = upload_values(dt, {B, L}, mv);
          Dev a1q = rand_dev({C, C}, s), a1k = rand_dev({C, C}, s), a1v = rand_dev({C, C}, s), a1o = rand_dev({C, C}, s), a1bo = rand_dev({C}, 0.02f);
          Dev a2q = rand_dev({C, C}, s), a2k = rand_dev({C, C}, s), a2v = rand_dev({C, C}, s), a2o = rand_dev({C, C}, s);
          Dev a2bq = rand_dev({C}, 0.02f), a2bk = rand_dev({C}, 0.02f), a2bv = rand_dev({C}, 0.02f), a2bo = rand_dev({C}, 0.02f);
          Dev winv = rand_dev({2 * m.ffn, C}, s), binv = rand_dev({2 * m.ffn}, 0.02f), wdw = rand_dev({2 * m.ffn, 1, 3, 3}, 0.3f);
          Dev bdw = rand_dev({2 * m.ffn}, 0.02f), wpt = rand_dev({C, m.ffn}, 0.02f);
          DitBlockArgs a;
          a.x = x.v;
          a.y = y.v;
          a.t0 = t0.v;
          a.table = table.v;
          a.mask_bias = mask.ptr();
          a.a1_wq = a1q.v;
          a.a1_wk = a1k.v;
          a.a1_wv = a1v.v;
          a.a1_wo = a1o.v;
          a.a1_bo = a1bo.ptr();
          a.a2_wq = a2q.v;
          a.a2_wk = a2k.v;
          a.a2_wv = a2v.v;
          a.a2_wo = a2o.v;
          a.a2_bq = a2bq.ptr();
          a.a2_bk = a2bk.ptr();
          a.a2_bv = a2bv.ptr();
          a.a2_bo = a2bo.ptr();
          a.ff_w_inv = winv.v;
          a.ff_b_inv = binv.v;
          a.ff_w_dw = wdw.v;
          a.ff_b_dw = bdw.v;
          a.ff_w_point = wpt.v;
          a.height = hw;
          a.width = hw;
          a.cross_heads = m.heads_x;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("dit-block"); ++ver) {
            bench.add("dit-block", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}), [&] { return cuda::dit_block(a, ver); });
          }
          // v3 again with every kernel a programmatic dependent (set_pdl_mode(1), as SANA_LAB_PDL=1; opt-in until
          // timed): what the launches and prologues of its ~15 kernels cost (compare.py "programmatic dependent launch").
          {
            const int saved = cuda::pdl_mode();
            cuda::set_pdl_mode(1);
            if (cuda::pdl_active()) {
              bench.add("dit-block", 3, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}, {"pdl", 1}}), [&] { return cuda::dit_block(a, 3); });
            }
            cuda::set_pdl_mode(saved);
          }
        }
      } catch (const Failure& f) {
        std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
      }
      ok(cuda::release_cached_memory());
    };
    auto bench_evit = [&]() {
      // DC-AE decoder EfficientViT stages (batch 1): LiteMLA at 512 ch res/8, 1024 at res/16 and res/32
      const int64_t evit[][3] = {{3, 512, 8}, {4, 1024, 16}, {5, 1024, 32}};
      for (const auto& st : evit) {
        const int64_t C = st[1], hh = res / st[2], I = C, d = 32;
        try {
          Dev x = rand_dev({1, hh, hh, C}, 1.0f), out = alloc_dev(dt, {1, hh, hh, C});
          Dev wq = rand_dev({I, C}, 0.03f), wk = rand_dev({I, C}, 0.03f), wv = rand_dev({I, C}, 0.03f), wdw = rand_dev({3 * I, 1, 5, 5}, 0.2f);
          Dev wg = rand_dev({3 * I, d, 1, 1}, 0.15f), wout = rand_dev({C, 2 * I}, 0.02f), nw = rand_dev({C}, 1.0f), nb = rand_dev({C}, 0.1f);
          // the whole EfficientViT block: lite-mla, then x + RMSNorm2d(GLUMBConv(x)) with expand ratio 4
          const int64_t hid = 4 * C;
          Dev winv = rand_dev({2 * hid, C}, 0.03f), binv = rand_dev({2 * hid}, 0.02f), wdw3 = rand_dev({2 * hid, 1, 3, 3}, 0.3f);
          Dev bdw = rand_dev({2 * hid}, 0.02f), wpt = rand_dev({C, hid}, 0.02f), fnw = rand_dev({C}, 1.0f), fnb = rand_dev({C}, 0.1f);
          DcaeEvitBlockArgs e;
          e.x = x.v;
          e.wq = wq.v;
          e.wk = wk.v;
          e.wv = wv.v;
          e.w_dw = wdw.v;
          e.w_group = wg.v;
          e.w_out = wout.v;
          e.attn_norm_w = nw.v;
          e.attn_norm_b = nb.v;
          e.ff_w_inv = winv.v;
          e.ff_b_inv = binv.v;
          e.ff_w_dw = wdw3.v;
          e.ff_b_dw = bdw.v;
          e.ff_w_point = wpt.v;
          e.ff_norm_w = fnw.v;
          e.ff_norm_b = fnb.v;
          e.out = out.v;
          // lite-mla alone: the block's own attention call (dcae_evit_calls.h), writing to out
          LiteMlaArgs a = DcaeEvitCalls(e, nullptr, nullptr).attn;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("lite-mla"); ++ver) {
            bench.add("lite-mla", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}}),
                      [&] { return cuda::lite_mla(a, ver); });
          }
          for (int ver = 1; ver <= versions_of("dcae-evit-block"); ++ver) {
            bench.add("dcae-evit-block", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}}),
                      [&] { return cuda::dcae_evit_block(e, ver); });
          }
        } catch (const Failure& f) {
          std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
        }
      }
    };
    auto bench_resblocks = [&]() {
      // DC-AE decoder ResBlock stages (batch 1): 128 ch at res, 256 at res/2, 512 at res/4
      const int64_t stages[][3] = {{0, 128, 1}, {1, 256, 2}, {2, 512, 4}};
      std::fprintf(stderr, "[dcae %lldx%lld] resblock stages, batch 1\n", static_cast<long long>(res), static_cast<long long>(res));
      for (const auto& st : stages) {
        const int64_t C = st[1], hh = res / st[2];
        try {
          Dev x = rand_dev({1, hh, hh, C}, 1.0f), out = alloc_dev(dt, {1, hh, hh, C});
          Dev w1 = rand_dev({C, C, 3, 3}, 0.02f), b1 = rand_dev({C}, 0.02f), w2 = rand_dev({C, C, 3, 3}, 0.02f);
          Dev nw = rand_dev({C}, 1.0f), nb = rand_dev({C}, 0.1f);
          const std::string shape = shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}});
          const bool small = hh * hh <= 1024 * 1024;  // the SIMT versions only where they finish in time
          // v4 (wgmma + TMA im2col) on sm_90 where its shape rules hold (C % 64, W % 128: every stage from 512²)
          const int top_conv = device_is_sm90() && C % 64 == 0 && hh % 128 == 0 ? 4 : 3;
          {
            Conv3x3Args a;
            a.x = x.v;
            a.w = w1.v;
            a.bias = b1.ptr();
            a.out = out.v;
            for (int ver = small ? 2 : 3; ver <= top_conv; ++ver) {
              bench.add("conv3x3", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::conv3x3(a, ver); });
            }
            if (top_conv == 4) {  // v4 in clusters of two (one weight tile multicast to both blocks): shape.cluster
              WgForce pairs({0, 2});
              bench.add("conv3x3", 4, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}, {"cluster", 2}}),
                        [&] { return cuda::conv3x3(a, 4); });
            }
          }
          {
            RmsNormArgs a;
            a.x = x.v;
            a.weight = nw.ptr();
            a.bias = nb.ptr();
            a.out = out.v;
            for (int ver = 1; ver <= 2; ++ver) bench.add("rmsnorm2d", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::rmsnorm(a, ver); });
          }
          {
            const DcaeResBlockArgs a = resblock_args(x, w1, b1, w2, nw, nb, out);
            for (int ver = small ? 2 : 3; ver <= top_conv; ++ver) {
              bench.add("dcae-resblock", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::dcae_resblock(a, ver); });
            }
          }
          // dcae-upsample at v2 and dcae-head at v2–v4 (the fused narrow heads): their v1 runs the direct
          // conv, a correctness reference far too slow to time at these sizes
          {  // the up block into this stage: nearest 2× → conv3x3 (Cn → C) + the channel-repeat shortcut
            const int64_t Cn = st[0] == 0 ? 256 : 512, hn = hh / 2;
            Dev xn = rand_dev({1, hn, hn, Cn}, 1.0f), wu = rand_dev({C, Cn, 3, 3}, 0.02f), bu = rand_dev({C}, 0.02f);
            DcaeUpsampleArgs a;
            a.x = xn.v;
            a.w = wu.v;
            a.bias = bu.ptr();
            a.mode = DcaeUpsampleMode::kInterpolate;
            a.shortcut = true;
            a.out = out.v;
            // v3 (sub-pixel phases on the wgmma conv) where it runs: bf16 on sm_90, Cin % 64 == 0, W % 128 == 0
            const int top_up = dt == DType::kBF16 && device_is_sm90() && Cn % 64 == 0 && hn % 128 == 0 ? 3 : 2;
            for (int ver = 2; ver <= top_up; ++ver) {
              bench.add("dcae-upsample", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"Cin", Cn}, {"Cout", C}, {"H", hn}, {"W", hn}}),
                        [&] { return cuda::dcae_upsample(a, ver); });
            }
          }
          if (st[0] == 0) {  // the output head: RMSNorm2d → ReLU → conv3x3 (128 → 3), the image NCHW
            Dev wh = rand_dev({3, C, 3, 3}, 0.02f), bh = rand_dev({3}, 0.02f), img = alloc_dev(dt, {1, 3, hh, hh});
            DcaeHeadArgs a;
            a.x = x.v;
            a.norm_w = nw.v;
            a.norm_b = nb.v;
            a.w = wh.v;
            a.bias = bh.ptr();
            a.act = Activation::kRelu;
            a.out = img.v;
            for (int ver = 2; ver <= (dt == DType::kBF16 ? 4 : 3); ++ver) {
              bench.add("dcae-head", ver, "dcae", res, 1, hh * hh, shape_json({{"C", C}, {"Cout", 3}, {"H", hh}, {"W", hh}}),
                        [&] { return cuda::dcae_head(a, ver); });
            }
          }
        } catch (const Failure& f) {
          std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
        }
        ok(cuda::release_cached_memory());
      }
    };
    bench_dit(models[0]);
    bench_resblocks();
    bench_evit();
    bench_dit(models[1]);
  }
  std::string s = "[";
  for (size_t i = 0; i < bench.records.size(); ++i) s += (i ? ",\n  " : "\n  ") + bench.records[i];
  return s + "\n ]";
}

}  // namespace sana_selftest
