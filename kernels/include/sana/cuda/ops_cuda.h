// The CUDA backend: an OpTable over device memory, every op with numbered kernel versions (llm.c
// style, see each kernels/cuda/<op>.cu header), device timing with CUDA events, and the device
// ceilings. Plain C++ (no CUDA headers), so the N-API binding compiled by the host compiler can
// include it. Only linked into addons built with SANA_LAB_WITH_CUDA.
//
// Nothing here touches the GPU at load time: an addon built with CUDA loads and runs on a machine
// without a GPU or driver; every entry then returns kUnavailable (alloc returns nullptr).
//
// Execution model: every op launches on one stream (the legacy default stream) under a process-wide
// recursive lock, so ops called from several worker threads never interleave their kernels or
// share scratch. By default an op synchronizes before it returns, so a kernel fault is reported as
// an error of the op that caused it (with the CUDA error text). cuda_time() switches that off
// inside its timed loop and synchronizes on events instead; set_sync_each_op(false) switches it off
// for a whole-model runner, which then synchronizes once per step (queued dispatch).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sana/ops.h"

namespace sana {

// The CUDA backend's table (name "cuda", Device::kCuda): alloc/free through cudaMalloc/cudaFree
// (nullptr on out-of-memory or without a device), synchronous host copies, and each op's default
// version (the fastest version that supports the dtype and shapes, see cuda::default_version).
const OpTable* cuda_op_table();

namespace cuda {

// ---- versioned entries ----
// version 0 = the default choice for the arguments; 1..N = a numbered version from the op's file
// header. A version that cannot run these arguments (e.g. a bf16-only tensor-core version given
// f32, or a head_dim it is not specialised for) returns kInvalidArgument naming the version and
// the reason, never a silent fallback.
Status gemm(const GemmArgs&, int version);
Status linear_attention(const LinearAttentionArgs&, int version);
Status linear_attention_block(const LinearAttentionBlockArgs&, int version);
Status mix_ffn(const MixFfnArgs&, int version);
Status cross_attention(const CrossAttentionArgs&, int version);
Status layernorm_modulate(const LayerNormModulateArgs&, int version);
Status rmsnorm(const RmsNormArgs&, int version);
Status conv3x3(const Conv3x3Args&, int version);
Status dcae_resblock(const DcaeResBlockArgs&, int version);
Status dit_block(const DitBlockArgs&, int version);
Status lite_mla(const LiteMlaArgs&, int version);
Status dcae_upsample(const DcaeUpsampleArgs&, int version);
Status dcae_head(const DcaeHeadArgs&, int version);
Status dcae_evit_block(const DcaeEvitBlockArgs&, int version);
Status sampler_update(const SamplerUpdateArgs&, int version);

// conv3x3 with the input nearest-upsampled by `upsample` (1 or 2) read in place, as in DC-AE's
// InterpolateConv: out = conv3x3(upsample_nearest(x, upsample)), out (B, H·u/s.., W·u/s.., Cout).
Status conv3x3_upsampled(const Conv3x3Args&, int upsample, int version);

// The same entries as a table, for bindings that dispatch through member pointers.
struct VersionedOps {
  Status (*gemm)(const GemmArgs&, int);
  Status (*linear_attention)(const LinearAttentionArgs&, int);
  Status (*linear_attention_block)(const LinearAttentionBlockArgs&, int);
  Status (*mix_ffn)(const MixFfnArgs&, int);
  Status (*cross_attention)(const CrossAttentionArgs&, int);
  Status (*layernorm_modulate)(const LayerNormModulateArgs&, int);
  Status (*rmsnorm)(const RmsNormArgs&, int);
  Status (*conv3x3)(const Conv3x3Args&, int);
  Status (*dcae_resblock)(const DcaeResBlockArgs&, int);
  Status (*dit_block)(const DitBlockArgs&, int);
  Status (*lite_mla)(const LiteMlaArgs&, int);
  Status (*dcae_upsample)(const DcaeUpsampleArgs&, int);
  Status (*dcae_head)(const DcaeHeadArgs&, int);
  Status (*dcae_evit_block)(const DcaeEvitBlockArgs&, int);
  Status (*sampler_update)(const SamplerUpdateArgs&, int);
};
const VersionedOps* versioned_ops();

// The version a default call (version 0) of `op` runs when SANA_LAB_CUDA_DEFAULTS names one
// ("op=N,op=N,…", read once at the first call): how a GPU run times a candidate version everywhere its op
// runs at its default — the op API and the composites (dit-block v2, dcae-evit-block, …) that call the
// op's entry at version 0 — without a rebuild. Returns `version` unchanged when it is not 0 or no
// override names `op`. An entry naming an unknown op or a version outside its list is reported on
// stderr once and ignored; a named version that cannot run the arguments is the op's usual error.
int default_version_override(const char* op, int version);
// The overrides in effect ("" when none), e.g. "lite-mla=3,dcae-upsample=3".
std::string default_version_overrides();

// What versions an op has, for `--version N` validation and listings.
struct VersionInfo {
  int version;
  const char* summary;  // the idea, one line (the file header has FLOP and byte counts)
  const char* needs;    // the dtypes/shapes it supports, "" = everything the op accepts
};
struct OpVersions {
  const char* op;  // "gemm", "linear-attention", … (the CLI names)
  std::vector<VersionInfo> versions;
};
const std::vector<OpVersions>& op_versions();

// ---- runtime ----
// Whether a usable device is present (cached after the first call); `reason` gets the CUDA error
// text when not.
bool device_available(std::string* reason = nullptr);
// Waits for all queued work; reports a pending asynchronous kernel fault as an error naming `what`.
Status synchronize(const char* what);
// Whether each op synchronizes before it returns (default true: a fault is the error of the op that
// caused it). false = queued dispatch: ops return once their kernels are queued and a fault surfaces at
// the next synchronize or device→host copy. Process-wide; returns the previous setting.
bool set_sync_each_op(bool on);
bool sync_each_op();
// ---- CUDA graphs: a whole sequence of ops recorded once, replayed with one launch ----
// graph_begin: from now until graph_end, this thread's ops are captured into a graph instead of run
// (op_stream() is the capture stream; ops do not synchronize; their scratch becomes the graph's own
// allocations). Needs the stream-ordered memory pool. graph_end: instantiates the capture; it fails,
// naming the cause, when an operation a graph cannot hold ran meanwhile (a synchronize, a copy on the
// legacy stream, a cudaFree). graph_launch: runs the graph on the legacy stream, after the work queued
// before it (synchronized like an op unless queued dispatch is on). The tensors the ops used are read
// and written at their captured addresses: they must stay alive while the graph does.
struct Graph;
Status graph_begin(const char* what);
Status graph_end(const char* what, Graph** out);
Status graph_launch(const char* what, Graph* g);
void graph_destroy(Graph* g);
bool graph_capturing();
// ---- programmatic dependent launch (PDL; opt-in until a GPU has timed it) ----
// When on, every op's kernels (the DiT step's and the decode's; not the fills, the L2 flush or the ceilings'
// kernels) are launched with
// cudaLaunchAttributeProgrammaticStreamSerialization: each may start while the kernel ahead of it in the
// stream finishes, and runs its launch and prologue there; its first act in every thread is
// griddepcontrol.wait (ptx::grid_dependency_wait), so nothing it reads or writes overlaps that kernel.
// Mode 1 = on, 0 = off; any other value = off. SANA_LAB_PDL (1 or 0; read once, at the first launch that
// asks; an invalid value is ignored with a warning on stderr) sets the initial mode; this setter
// overrides it. Only on sm_90 and newer devices (where the attribute and the instruction exist); elsewhere
// the launches stay plain whatever the mode. A driver that refuses a launch with the attribute as not supported
// but accepts it without turns the mode off for the process (one warning on stderr). Not thread-safe (set it before running ops).
void set_pdl_mode(int mode);
int pdl_mode();
// Whether launches get the attribute now (the mode is on and the device is sm_90 or newer).
bool pdl_active();
// How many launches were made with the attribute in this process (tests observe with it that PDL ran).
int64_t pdl_launch_count();
// Returns cached scratch memory (the stream-ordered pool) to the driver.
Status release_cached_memory();
// Fills device memory with a byte pattern (e.g. 0xFF = NaN in f32 and bf16: "poisoned outputs").
Status fill_bytes(void* dst, int byte_value, int64_t bytes);

// ---- timing ----
struct TimingOptions {
  int warmup = 3;          // untimed runs first (module load, pool growth, clocks)
  int min_reps = 5;        // at least this many timed runs …
  int max_reps = 100;      // … at most this many …
  double budget_ms = 2000; // … stopping once this much wall time is spent (after min_reps)
  bool flush_l2 = true;    // write a buffer of max(2 × L2, 64 MiB) before every timed run
};
struct Timing {
  double median_ms = 0, p20_ms = 0, p80_ms = 0, mean_ms = 0, min_ms = 0, max_ms = 0, stderr_ms = 0;
  int reps = 0, warmup = 0;
  int64_t flush_bytes = 0;  // bytes written by each L2 flush, 0 when off
  std::vector<double> samples_ms;  // every timed run, in run order
};
// Times `launch` (which queues device work, e.g. an op call) with CUDA events around each run:
// warm-up, an L2 flush before each timed run (outside the events), median and percentiles.
// Inside `launch`, ops do not synchronize (the events do). `what` names the launch in errors.
Status time_launches(const char* what, const std::function<Status()>& launch, const TimingOptions& opts, Timing* out);

// ---- device timeline ----
// Records a CUDA event on the op stream (after everything queued so far) and returns its index (0, 1, …
// since the last read). Cheap and asynchronous: placed between queued op calls it splits the device's
// time into the ops' own times and the idle gaps between them. Refused inside a graph capture.
Status timeline_mark(const char* what, int64_t* index);
// Waits for the last mark; ms[i] = device time from mark 0 to mark i (CUDA event resolution, ~0.5 µs).
// Clears the marks.
Status timeline_read(const char* what, std::vector<double>* ms);

// ---- kernel timeline: where an op's time goes, kernel by kernel ----
// kernel_timeline_begin: from now on every kernel an op launches records a CUDA event right after its
// launch on the op stream, and every op one as it starts (none inside a graph capture). kernel_timeline_end
// waits for the last event and returns, per launch, the device time from the event before it (the
// op's start or the previous launch) to its own: the kernel's time when the host queues faster than the
// device runs (queued dispatch), else the kernel plus the host's gap before it (an upper bound). Then
// recording stops. At most 2^16 launches per recording (`truncated` says the rest was not recorded).
struct KernelTime {
  std::string op, kernel;
  double ms = 0;
};
Status kernel_timeline_begin(const char* what);
Status kernel_timeline_end(const char* what, std::vector<KernelTime>* out, bool* truncated);

// ---- ceilings ----
struct CeilingOptions {
  int64_t copy_bytes = int64_t{1} << 30;  // bytes per copy (read once + written once)
  int64_t gemm_size = 8192;               // M = N = K of the bf16 gemm
  int gemm_version = 0;                   // 0 = the default gemm version (v3, Hopper wgmma, only when asked)
  TimingOptions timing;
};
struct Ceilings {
  std::string device;
  int cc_major = 0, cc_minor = 0, sm_count = 0;
  int64_t l2_bytes = 0, memory_bytes = 0;
  int sm_clock_khz = 0, mem_clock_khz = 0, mem_bus_bits = 0;
  double copy_GBps = 0;         // cudaMemcpyAsync device→device, (read + written) / median time
  double copy_kernel_GBps = 0;  // this library's 16-byte vector copy kernel, same counting
  double l2_read_GBps = 0;      // bytes read / median time of l2_read_kernel: a buffer of l2_bytes / 4 read 64 times
  int64_t l2_read_bytes = 0;    // that buffer's size
  double gemm_bf16_TFLOPs = 0;  // 2·M·N·K / median time, random bf16 inputs, f32 accumulation
  double gemm_ms = 0;
  int64_t gemm_size = 0;
  int gemm_version = 0;
  int64_t copy_bytes = 0;
};
Status measure_ceilings(const CeilingOptions& opts, Ceilings* out);

// Fills a device buffer with deterministic pseudo-random values in [lo, hi) (f32 or bf16):
// benchmarks never run on zeros.
Status fill_random(void* dst, DType dtype, int64_t n, uint64_t seed, float lo, float hi);

}  // namespace cuda
}  // namespace sana
