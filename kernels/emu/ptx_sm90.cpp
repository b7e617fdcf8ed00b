// Host semantics of the sm_90a instructions the Hopper kernels use: wgmma.mma_async (bf16 → f32, A and
// B from shared-memory matrix descriptors), cuTensorMapEncodeTiled + cp.async.bulk.tensor.2d (TMA), and
// the mbarrier object. Written from the PTX ISA (version 9.0 text) and the CUDA driver API / programming
// guide only; section numbers below are the ISA's. Anything the documents leave open throws PtxError
// ("unsupported …") instead of guessing.
#include "ptx_semantics.h"

#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

namespace sana_emu::ptx {
namespace {

[[noreturn]] void fail(const char* instr, const std::string& what) { throw PtxError(std::string(instr) + ": " + what); }

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Pointer to `bytes` bytes of shared memory at `addr`, after checking they lie inside [lo, size).
uint8_t* smem_at(const SmemWindow& smem, uint64_t addr, uint64_t bytes, const char* instr) {
  if (smem.base == nullptr) fail(instr, "no shared-memory window");
  if (!smem.contains(addr, bytes))
    fail(instr, "shared access [" + hex(addr) + ", " + hex(addr + bytes) + ") outside the window [" + hex(smem.lo) + ", " +
                    hex(smem.size) + ")" + (smem.static_hi > smem.static_lo ? " and the static variables [" + hex(smem.static_lo) + ", " + hex(smem.static_hi) + ")" : ""));
  return smem.base + addr;
}

// The 16-byte-chunk swizzle shared by TMA and wgmma, as a function of the ABSOLUTE shared address:
// - TMA (§5.5.7 "Swizzling Modes"): with the pattern "starting address … 1024 bytes aligned" (128B),
//   512 (64B), 256 (32B), each row of the tables is a 128-byte line and line y holds chunk x at
//   position (y mod span/16) XOR x; the programming guide's offset formula (smem_ptr/128) % 8 for
//   buffers not on that boundary makes the line index absolute.
// - wgmma (§9.7.15.5.1.2.1.3 "Canonical Layouts"): Swizzle<3,4,3> / <2,4,3> / <1,4,3> for 128B / 64B /
//   32B, i.e. address bits [4, 4+B) ^= bits [7, 7+B), B = log2(span/16) — the same map.
// span_bytes: 0 (none), 32, 64 or 128.
uint32_t swizzle_address(uint32_t addr, uint32_t span_bytes) {
  if (span_bytes == 0) return addr;
  const uint32_t mask = span_bytes / 16 - 1;
  return addr ^ (((addr >> 7) & mask) << 4);
}

float bf16_to_float(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// ---------------------------------------------------------------------------------------------------
// wgmma: §9.7.15.5.1.2.2 "Matrix Descriptor Format"
//   bits 13–0  matrix-descriptor-encode(start address), encode(x) = (x & 0x3FFFF) >> 4
//   bits 29–16 encode(leading dimension byte offset), bits 45–32 encode(stride dimension byte offset)
//   bits 51–49 matrix base offset ("valid for all swizzling modes except the no-swizzle mode")
//   bits 63–62 swizzle: 0 none, 1 128-byte, 2 64-byte, 3 32-byte. The other bits are reserved.
struct MatrixDescriptor {
  uint32_t start;  // byte address
  uint32_t lbo;    // bytes
  uint32_t sbo;    // bytes
  uint32_t span;   // swizzle span in bytes, 0 = no swizzle
};

MatrixDescriptor decode_descriptor(uint64_t desc, const char* operand) {
  constexpr const char* instr = "wgmma.mma_async";
  constexpr uint64_t kReserved = (3ull << 14) | (3ull << 30) | (7ull << 46) | (0x3FFull << 52);
  if (desc & kReserved)
    fail(instr, std::string(operand) + " descriptor " + hex(desc) + " has reserved bits set (" + hex(desc & kReserved) + ")");
  const uint32_t base_offset = uint32_t(desc >> 49) & 7;
  // The ISA gives how to compute a non-zero base offset (pattern start not on the 1024/512/256-byte
  // boundary) but not how it changes the addressing: not emulated.
  if (base_offset != 0)
    fail(instr, "unsupported: " + std::string(operand) + " descriptor with non-zero matrix base offset " + std::to_string(base_offset));
  static constexpr uint32_t kSpan[4] = {0, 128, 64, 32};
  return {uint32_t(desc & 0x3FFF) << 4, uint32_t(desc >> 16 & 0x3FFF) << 4, uint32_t(desc >> 32 & 0x3FFF) << 4,
          kSpan[desc >> 62]};
}

// Shared address of element (row r, k), k < 16, of a K-major bf16 operand (imm-trans = 0), from the
// canonical K-major layouts of §9.7.15.5.1.2.1.3 in elements, T = 8 bf16 per 16 bytes:
//   no swizzle:  ((8,m),(T,2k)):((1T,SBO),(1,LBO))  — 8×16-byte core matrices; the second 16-byte
//                K column at LBO ("the offset from the first column to the second columns of the 8x2
//                tile"), the next 8 rows at SBO ("the offset from the first 8 rows to the next 8 rows")
//   swizzled:    ((8,m),(T,2k)):((span/2,SBO),(1,T)) ∘ Swizzle — rows `span` bytes apart, K contiguous,
//                LBO "not used, assumed to be 1"; the swizzle applied to the resulting address.
uint32_t kmajor_element_address(const MatrixDescriptor& d, uint32_t r, uint32_t k) {
  const uint32_t column = k / 8, byte_in_column = (k % 8) * 2;
  if (d.span == 0) return d.start + (r / 8) * d.sbo + (r % 8) * 16 + column * d.lbo + byte_in_column;
  const uint32_t linear = d.start + (r / 8) * d.sbo + (r % 8) * d.span + column * 16 + byte_in_column;
  return swizzle_address(linear, d.span);
}

// Reads the rows × 16 operand into out[r * 16 + k].
void load_kmajor_operand(const SmemWindow& smem, uint64_t desc, uint32_t rows, const char* operand, double* out) {
  const MatrixDescriptor d = decode_descriptor(desc, operand);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t k = 0; k < 16; ++k) {
      uint16_t bits;
      std::memcpy(&bits, smem_at(smem, kmajor_element_address(d, r, k), 2, "wgmma.mma_async"), 2);
      out[r * 16 + k] = bf16_to_float(bits);
    }
}

// ---------------------------------------------------------------------------------------------------
// Tensor maps: the parameters live in a process-wide registry; the 128-byte CUtensorMap holds a magic
// number, the registry index and a check word, so copying the map by value (kernel parameter,
// __grid_constant__) keeps working.
struct TensorMapRecord {
  CUtensorMapDataType dtype;
  uint32_t elem_bytes;
  uint32_t rank;
  const uint8_t* global;
  uint64_t dim[5];
  uint64_t stride[5];  // bytes; stride[0] = element size, stride[i] = globalStrides[i - 1]
  uint32_t box[5];
  uint32_t elem_stride[5];
  CUtensorMapInterleave interleave;
  CUtensorMapSwizzle swizzle;
  CUtensorMapFloatOOBfill oob_fill;
};

constexpr uint64_t kMapMagic = 0x53414e41544d4150ull;  // "SANATMAP"
constexpr uint64_t kMapCheck = 0x9e3779b97f4a7c15ull;

std::mutex g_maps_mutex;
std::deque<TensorMapRecord> g_maps;

TensorMapRecord lookup_map(const CUtensorMap* map, const char* instr) {
  if (map == nullptr) fail(instr, "null tensor map");
  uint64_t q[3];  // read as bytes: a map copied to a 64-byte (not 128-byte) aligned place is still valid
  std::memcpy(q, static_cast<const void*>(map), sizeof q);
  if (q[0] != kMapMagic || q[2] != (q[1] ^ kMapCheck)) fail(instr, "not a tensor map made by encode_tensor_map_tiled (corrupt or uninitialized)");
  std::lock_guard<std::mutex> lock(g_maps_mutex);
  if (q[1] >= g_maps.size()) fail(instr, "tensor map index " + std::to_string(q[1]) + " unknown");
  return g_maps[q[1]];
}

// Element size in bytes (cuda.h's CUtensorMapDataType table); 0 for the packed sub-byte types.
uint32_t element_bytes(CUtensorMapDataType t) {
  switch (t) {
    case CU_TENSOR_MAP_DATA_TYPE_UINT8: return 1;
    case CU_TENSOR_MAP_DATA_TYPE_UINT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16: return 2;
    case CU_TENSOR_MAP_DATA_TYPE_UINT32:
    case CU_TENSOR_MAP_DATA_TYPE_INT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ: return 4;
    case CU_TENSOR_MAP_DATA_TYPE_UINT64:
    case CU_TENSOR_MAP_DATA_TYPE_INT64:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT64: return 8;
    default: return 0;
  }
}

bool is_float_type(CUtensorMapDataType t) {
  switch (t) {
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT64:
    case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32:
    case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ: return true;
    default: return false;
  }
}

// Swizzle span in bytes of a CUtensorMapSwizzle (driver: "Swizzle 16B chunks within 32B/64B/128B span").
uint32_t swizzle_span(CUtensorMapSwizzle s) {
  switch (s) {
    case CU_TENSOR_MAP_SWIZZLE_32B: return 32;
    case CU_TENSOR_MAP_SWIZZLE_64B: return 64;
    case CU_TENSOR_MAP_SWIZZLE_NONE: return 0;
    default: return 128;  // 128B and its 32B/64B-atomicity variants
  }
}

// ---------------------------------------------------------------------------------------------------
// mbarrier (§9.7.13.15.2 "Contents of the mbarrier object"): current phase, pending arrivals, expected
// arrivals, tx-count; ranges: expected [1, 2^20-1], pending [0, 2^20-1], tx-count [-(2^20-1), 2^20-1].
// Packed into the object's own 8 bytes: bits 0–19 pending, 20–39 expected, 40–60 tx-count (21-bit
// two's complement), 61 phase parity, 62–63 the tag 0b10 marking an initialized object.
constexpr int64_t kCountMax = (1 << 20) - 1;
constexpr uint64_t kBarrierTag = 2ull << 62;

struct Barrier {
  uint32_t pending, expected;
  int32_t tx;
  uint32_t parity;
};

uint8_t* barrier_at(const SmemWindow& smem, uint32_t addr, const char* instr) {
  // §9.7.13.15.1: type .b64, alignment 8 bytes, .shared.
  if (addr % 8 != 0) fail(instr, "mbarrier address " + hex(addr) + " is not 8-byte aligned");
  return smem_at(smem, addr, 8, instr);
}

Barrier load_barrier(const SmemWindow& smem, uint32_t addr, const char* instr) {
  uint64_t w;
  std::memcpy(&w, barrier_at(smem, addr, instr), 8);
  Barrier b{uint32_t(w & 0xFFFFF), uint32_t(w >> 20 & 0xFFFFF), 0, uint32_t(w >> 61 & 1)};
  const uint32_t tx21 = uint32_t(w >> 40 & 0x1FFFFF);
  b.tx = int32_t(tx21 << 11) >> 11;  // sign-extend 21 bits
  if ((w & (3ull << 62)) != kBarrierTag || b.expected == 0 || b.pending > b.expected)
    fail(instr, "no initialized mbarrier at " + hex(addr) + " (contents " + hex(w) + ")");
  return b;
}

// Stores the state after completing the phase if it is complete (§9.7.13.15.6 "Phase Completion":
// "The count of the pending arrivals has reached zero" and "The tx-count has reached zero"; then
// atomically "transitions to the next phase" and "The pending arrival count is reinitialized to the
// expected arrival count").
void store_barrier(const SmemWindow& smem, uint32_t addr, Barrier b, const char* instr) {
  if (b.pending == 0 && b.tx == 0) {
    b.parity ^= 1;
    b.pending = b.expected;
  }
  const uint64_t w = kBarrierTag | uint64_t(b.parity) << 61 | uint64_t(uint32_t(b.tx) & 0x1FFFFF) << 40 |
                     uint64_t(b.expected) << 20 | b.pending;
  std::memcpy(barrier_at(smem, addr, instr), &w, 8);
}

void add_tx(Barrier& b, int64_t delta, const char* instr) {
  const int64_t tx = int64_t(b.tx) + delta;
  if (tx > kCountMax || tx < -kCountMax)
    fail(instr, "tx-count " + std::to_string(tx) + " outside [-(2^20-1), 2^20-1] (was " + std::to_string(b.tx) + ")");
  b.tx = int32_t(tx);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16 (§9.7.15.5.2), K-major A and B (imm-trans 0).
void wgmma_m64nNk16_bf16_f32(int n, const SmemWindow& smem, uint64_t desc_a, uint64_t desc_b, bool scale_d, float* const d[128]) {
  constexpr const char* instr = "wgmma.mma_async";
  // §9.7.15.2 "Matrix Shape": .m64nNk16 with N = 8·i, i = 1 … 32.
  if (n < 8 || n > 256 || n % 8 != 0) fail(instr, "unsupported N " + std::to_string(n) + " (m64nNk16 needs N = 8, 16, …, 256)");
  for (int t = 0; t < 128; ++t)
    if (d[t] == nullptr) fail(instr, "null accumulator pointer for thread " + std::to_string(t));

  // On the heap: the emulator runs threads as fibers with small stacks.
  std::vector<double> a(64 * 16), b(size_t(n) * 16);
  load_kmajor_operand(smem, desc_a, 64, "A", a.data());
  load_kmajor_operand(smem, desc_b, uint32_t(n), "B", b.data());

  // Accumulator D, §9.7.15.5.1.1.1 Figure 149 "WGMMA .m64nNk16 register fragment layout for
  // accumulator matrix D" (N/2 f32 registers d0 … per thread): warp w = t / 32 owns rows 16w … 16w+15;
  // lane l holds rows 16w + l/4 (registers with (i/2) even) and 16w + l/4 + 8 (odd), columns
  // 8·(i/4) + 2·(l%4) + (i%2). (Same as CUTLASS CLayout_64xN.)
  for (int t = 0; t < 128; ++t) {
    const int warp = t / 32, lane = t % 32;
    for (int i = 0; i < n / 2; ++i) {
      const int row = 16 * warp + lane / 4 + 8 * ((i / 2) % 2);
      const int col = 8 * (i / 4) + 2 * (lane % 4) + (i % 2);
      double acc = 0;  // bf16 products are exact in double; one rounding to f32 per instruction
      for (int k = 0; k < 16; ++k) acc += a[row * 16 + k] * b[col * 16 + k];
      d[t][i] = float(scale_d ? double(d[t][i]) + acc : acc);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// cuTensorMapEncodeTiled: the requirements listed in the driver API documentation (cuda.h), in order.
CUresult encode_tensor_map_tiled(CUtensorMap* map, CUtensorMapDataType dtype, cuuint32_t rank, void* global_address,
                                 const cuuint64_t* global_dim, const cuuint64_t* global_strides, const cuuint32_t* box_dim,
                                 const cuuint32_t* element_strides, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                 CUtensorMapL2promotion l2_promotion, CUtensorMapFloatOOBfill oob_fill) {
  // "tensorMap address must be aligned to 64 bytes."
  if (map == nullptr || reinterpret_cast<uintptr_t>(map) % 64 != 0) return CUDA_ERROR_INVALID_VALUE;
  // tensorDataType "has to be an enum from CUtensorMapDataType".
  if (unsigned(dtype) > unsigned(CU_TENSOR_MAP_DATA_TYPE_16U6_ALIGN16B)) return CUDA_ERROR_INVALID_VALUE;
  const uint32_t elem = element_bytes(dtype);
  if (elem == 0) fail("cuTensorMapEncodeTiled", "unsupported: packed sub-byte data types are not emulated");
  if (unsigned(interleave) > unsigned(CU_TENSOR_MAP_INTERLEAVE_32B) || unsigned(swizzle) > unsigned(CU_TENSOR_MAP_SWIZZLE_128B_ATOM_64B) ||
      unsigned(l2_promotion) > unsigned(CU_TENSOR_MAP_L2_PROMOTION_L2_256B) ||
      unsigned(oob_fill) > unsigned(CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA))
    return CUDA_ERROR_INVALID_VALUE;
  // "tensorRank must be non-zero and less than or equal to … 5. If interleave is not NONE, then
  // tensorRank must additionally be greater than or equal to 3."
  if (rank == 0 || rank > 5 || (interleave != CU_TENSOR_MAP_INTERLEAVE_NONE && rank < 3)) return CUDA_ERROR_INVALID_VALUE;
  if (global_dim == nullptr || box_dim == nullptr || element_strides == nullptr || (rank > 1 && global_strides == nullptr))
    return CUDA_ERROR_INVALID_VALUE;
  // "globalAddress … must be 16 byte aligned"; "When interleave is CU_TENSOR_MAP_INTERLEAVE_32B,
  // globalAddress must be 32 byte aligned." (A null address is refused too: nothing could be loaded.)
  const uintptr_t address = reinterpret_cast<uintptr_t>(global_address);
  if (address == 0 || address % 16 != 0 || (interleave == CU_TENSOR_MAP_INTERLEAVE_32B && address % 32 != 0))
    return CUDA_ERROR_INVALID_VALUE;
  // "globalDim … must be non-zero and less than or equal to 2^32."
  for (cuuint32_t i = 0; i < rank; ++i)
    if (global_dim[i] == 0 || global_dim[i] > (1ull << 32)) return CUDA_ERROR_INVALID_VALUE;
  // "globalStrides … must be a multiple of 16 and less than 2^40"; multiple of 32 with INTERLEAVE_32B.
  for (cuuint32_t i = 0; i + 1 < rank; ++i) {
    const uint64_t s = global_strides[i];
    if (s % 16 != 0 || s >= (1ull << 40) || (interleave == CU_TENSOR_MAP_INTERLEAVE_32B && s % 32 != 0)) return CUDA_ERROR_INVALID_VALUE;
  }
  // "boxDim … must be non-zero and less than or equal to 256"; with INTERLEAVE_NONE,
  // "boxDim[0] * elementSizeInBytes(tensorDataType) must be a multiple of 16 bytes".
  for (cuuint32_t i = 0; i < rank; ++i)
    if (box_dim[i] == 0 || box_dim[i] > 256) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t inner_bytes = uint64_t(box_dim[0]) * elem;
  if (interleave == CU_TENSOR_MAP_INTERLEAVE_NONE && inner_bytes % 16 != 0) return CUDA_ERROR_INVALID_VALUE;
  // "elementStrides … must be non-zero and less than or equal to 8."
  for (cuuint32_t i = 0; i < rank; ++i)
    if (element_strides[i] == 0 || element_strides[i] > 8) return CUDA_ERROR_INVALID_VALUE;
  // "When interleave is CU_TENSOR_MAP_INTERLEAVE_NONE and swizzle is not CU_TENSOR_MAP_SWIZZLE_NONE,
  // the bounding box inner dimension … must be less than or equal to the swizzle size."
  if (interleave == CU_TENSOR_MAP_INTERLEAVE_NONE && swizzle != CU_TENSOR_MAP_SWIZZLE_NONE && inner_bytes > swizzle_span(swizzle))
    return CUDA_ERROR_INVALID_VALUE;
  // "When interleave is CU_TENSOR_MAP_INTERLEAVE_32B, swizzle must be CU_TENSOR_MAP_SWIZZLE_32B."
  if (interleave == CU_TENSOR_MAP_INTERLEAVE_32B && swizzle != CU_TENSOR_MAP_SWIZZLE_32B) return CUDA_ERROR_INVALID_VALUE;
  // "CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA can only be used when tensorDataType represents
  // a floating-point data type".
  if (oob_fill == CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA && !is_float_type(dtype)) return CUDA_ERROR_INVALID_VALUE;

  TensorMapRecord rec{};
  rec.dtype = dtype;
  rec.elem_bytes = elem;
  rec.rank = rank;
  rec.global = static_cast<const uint8_t*>(global_address);
  for (cuuint32_t i = 0; i < rank; ++i) {
    rec.dim[i] = global_dim[i];
    rec.stride[i] = i == 0 ? elem : global_strides[i - 1];
    rec.box[i] = box_dim[i];
    rec.elem_stride[i] = element_strides[i];
  }
  rec.interleave = interleave;
  rec.swizzle = swizzle;
  rec.oob_fill = oob_fill;

  uint64_t index;
  {
    std::lock_guard<std::mutex> lock(g_maps_mutex);
    index = g_maps.size();
    g_maps.push_back(rec);
  }
  const uint64_t words[CU_TENSOR_MAP_NUM_QWORDS] = {kMapMagic, index, index ^ kMapCheck};
  std::memcpy(static_cast<void*>(map), words, sizeof words);
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------------------------------------------
// cp.async.bulk.tensor.{2d,4d}…tile (§9.7.9.25.5.2) with the tiled-mode semantics of §5.5.3: the box
// (boxDim[rank-1] × … × boxDim[0] elements) starting at tensor coordinates (c0, …) is written to shared
// memory as linear data (§5.5: "treat the data in the shared memory as a linear data"), row-major with
// dimension 0 innermost, then swizzled (§5.5.7). Elements outside the tensor — any coordinate < 0 or
// ≥ its dimension — are zero (§5.5.3.3 "Zero fill mode"): a convolution's padding comes for free.
uint32_t tma_load_tiled(const SmemWindow& smem, uint32_t dst, const CUtensorMap* map, uint32_t rank, const int32_t* c) {
  const std::string instr = "cp.async.bulk.tensor." + std::to_string(rank) + "d";
  const TensorMapRecord m = lookup_map(map, instr.c_str());
  if (m.rank != rank) fail(instr.c_str(), "tensor map has rank " + std::to_string(m.rank) + ", the ." + std::to_string(rank) + "d form needs rank " + std::to_string(rank));
  if (m.interleave != CU_TENSOR_MAP_INTERLEAVE_NONE) fail(instr.c_str(), "unsupported: interleaved layouts are not emulated");
  // §5.5.3.2: the dimension-0 traversal stride is ignored without interleave; other strides ≠ 1 skip
  // elements, which is not emulated.
  for (uint32_t d = 1; d < rank; ++d)
    if (m.elem_stride[d] != 1)
      fail(instr.c_str(), "unsupported: elementStrides[" + std::to_string(d) + "] = " + std::to_string(m.elem_stride[d]) + " (only 1 is emulated)");
  if (m.oob_fill != CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) fail(instr.c_str(), "unsupported: OOB-NaN fill (its bit pattern is not documented)");
  if (m.swizzle != CU_TENSOR_MAP_SWIZZLE_NONE && m.swizzle != CU_TENSOR_MAP_SWIZZLE_32B && m.swizzle != CU_TENSOR_MAP_SWIZZLE_64B &&
      m.swizzle != CU_TENSOR_MAP_SWIZZLE_128B)
    fail(instr.c_str(), "unsupported: 128B swizzle with 32B/64B atomicity is not emulated");
  const uint32_t span = swizzle_span(m.swizzle);
  const uint32_t row_bytes = m.box[0] * m.elem_bytes;
  // With a swizzle narrower than its span, the programming guide asks to "ensure that the shared memory
  // is allocated to accommodate the full swizzle width" but does not spell out the placement.
  if (span != 0 && row_bytes != span)
    fail(instr.c_str(), "unsupported: box inner dimension " + std::to_string(row_bytes) + " bytes with a " + std::to_string(span) +
                            "-byte swizzle (only inner dimension == swizzle span is emulated)");
  // CUDA programming guide, TMA swizzle: "When using TMA, the shared memory is required to be aligned to
  // 128 bytes" (Table "Requirements and properties of the different swizzle patterns": shared memory
  // alignment 128 bytes for every mode, SWIZZLE_NONE included).
  if (dst % 128 != 0) fail(instr.c_str(), "shared destination " + hex(dst) + " is not 128-byte aligned");
  uint64_t rows = 1;  // every box line of dimension 0, the outer dimensions flattened
  for (uint32_t d = 1; d < rank; ++d) rows *= m.box[d];
  const uint32_t bytes = static_cast<uint32_t>(row_bytes * rows);
  uint8_t* out = smem_at(smem, dst, bytes, instr.c_str());  // the swizzle permutes chunks within each 128-byte line

  for (uint64_t i = 0; i < rows; ++i) {
    // The line's coordinates in dimensions 1 … rank-1 (dimension 1 fastest) and its global offset.
    bool inside = true;
    uint64_t offset = 0, rest = i;
    for (uint32_t d = 1; d < rank; ++d) {
      const int64_t x = int64_t(c[d]) + int64_t(rest % m.box[d]);
      rest /= m.box[d];
      if (x < 0 || uint64_t(x) >= m.dim[d]) inside = false;
      else offset += uint64_t(x) * m.stride[d];
    }
    for (uint32_t j = 0; j < m.box[0]; ++j) {
      const int64_t x = int64_t(c[0]) + j;
      const uint32_t linear = dst + static_cast<uint32_t>((i * m.box[0] + j) * m.elem_bytes);
      uint8_t* to = out + (swizzle_address(linear, span) - dst);
      if (inside && x >= 0 && uint64_t(x) < m.dim[0])
        std::memcpy(to, m.global + offset + uint64_t(x) * m.elem_bytes, m.elem_bytes);
      else
        std::memset(to, 0, m.elem_bytes);
    }
  }
  // The complete-tx count is the whole box, zero-filled parts included.
  return bytes;
}

uint32_t tma_load_2d(const SmemWindow& smem, uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1) {
  const int32_t c[2] = {c0, c1};
  return tma_load_tiled(smem, dst, map, 2, c);
}

uint32_t tma_load_4d(const SmemWindow& smem, uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2, int32_t c3) {
  const int32_t c[4] = {c0, c1, c2, c3};
  return tma_load_tiled(smem, dst, map, 4, c);
}

// ---------------------------------------------------------------------------------------------------
// mbarrier.init (§9.7.13.15.9): phase 0, expected = pending = count, tx-count 0; count in [1, 2^20-1].
void mbarrier_init(const SmemWindow& smem, uint32_t addr, uint32_t count) {
  constexpr const char* instr = "mbarrier.init";
  if (count == 0 || count > kCountMax) fail(instr, "count " + std::to_string(count) + " outside [1, 2^20-1]");
  barrier_at(smem, addr, instr);
  const uint64_t w = kBarrierTag | uint64_t(count) << 20 | count;
  std::memcpy(smem.base + addr, &w, 8);
}

// mbarrier.arrive{.expect_tx} (§9.7.13.15.13): "an expect-tx operation is performed prior to the
// arrive-on operation"; the arrive-on decrements the pending count by 1 (§9.7.13.15.7).
void mbarrier_arrive(const SmemWindow& smem, uint32_t addr, uint32_t expect_tx_bytes) {
  const char* instr = expect_tx_bytes > 0 ? "mbarrier.arrive.expect_tx" : "mbarrier.arrive";
  Barrier b = load_barrier(smem, addr, instr);
  if (expect_tx_bytes > 0) add_tx(b, expect_tx_bytes, instr);
  if (b.pending == 0)
    fail(instr, "arrive on " + hex(addr) + " with no pending arrivals (expected " + std::to_string(b.expected) +
                    ", phase waiting for tx-count " + std::to_string(b.tx) + ")");
  b.pending -= 1;
  store_barrier(smem, addr, b, instr);
}

// complete-tx (§9.7.13.15.5.2): "tx-count is decremented by completeCount", then the phase may complete.
void mbarrier_complete_tx(const SmemWindow& smem, uint32_t addr, uint32_t bytes) {
  constexpr const char* instr = "mbarrier complete-tx";
  Barrier b = load_barrier(smem, addr, instr);
  add_tx(b, -int64_t(bytes), instr);
  store_barrier(smem, addr, b, instr);
}

// test_wait.parity / try_wait.parity (§9.7.13.15.16): phaseParity is "the integer parity of either the
// current phase or the immediately preceding phase"; the wait is valid "for the current incomplete
// phase, for which waitComplete returns False" and "the immediately preceding phase, for which
// waitComplete returns True". So: complete ⇔ parity ≠ parity of the current phase. On a fresh barrier
// (phase 0) parity 1 names the preceding phase, complete by §9.7.13.15.4: "The current phase is
// incomplete and all prior phases are complete."
bool mbarrier_test_wait_parity(const SmemWindow& smem, uint32_t addr, uint32_t parity) {
  constexpr const char* instr = "mbarrier.test_wait.parity";
  if (parity > 1) fail(instr, "phaseParity " + std::to_string(parity) + " (valid values are 0 and 1)");
  return load_barrier(smem, addr, instr).parity != parity;
}

}  // namespace sana_emu::ptx
