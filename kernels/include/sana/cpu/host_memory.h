// Host memory for the CPU backend. Tensor storage of 256 KiB or more is mapped straight from the OS
// (mmap), so dispose() gives the pages back at once: glibc's malloc grows its dynamic mmap threshold
// after the first large free and then keeps freed tensor buffers in its heap, which made RSS climb by
// the full tensor size per allocate/fill/dispose cycle. Kernel scratch buffers come from a small cache
// of recently freed mappings (best fit, bounded to 192 MiB), so repeated op calls neither refault fresh pages
// nor grow RSS. Everything is 64-byte aligned.
#pragma once
#include <cstdint>

namespace sana::cpu {

// Tensor storage: nullptr on failure (or bytes < 0). host_free finds the size of mapped blocks itself.
void* host_alloc(int64_t bytes);
void host_free(void* p);

// Scratch: throws std::bad_alloc on failure.
void* scratch_alloc(int64_t bytes);
void scratch_free(void* p, int64_t bytes);

// Bytes currently held by the scratch cache (for tests and `sana-lab info`).
int64_t scratch_cached_bytes();

}  // namespace sana::cpu
