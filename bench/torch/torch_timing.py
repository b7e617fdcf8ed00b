"""Per-call timing of a PyTorch callable, shared by the lab's torch worker (bench/torch/worker.py) and the
standalone GPU baselines (bench/gpu/pytorch_baselines.py), so both time a baseline the same way.

CPU: time.perf_counter around each call. CUDA: events around each call, with an L2 flush (a write of
max(2 x L2, 64 MiB) of random bytes, which the cache cannot skip) before it, outside the events.
"""
import time

import torch


def l2_flush_buffer(device):
    """The buffer whose rewrite evicts the L2 before a timed CUDA call (None on the CPU)."""
    if device.type != "cuda":
        return None
    l2 = torch.cuda.get_device_properties(device).L2_cache_size
    return torch.empty(max(2 * l2, 64 << 20), dtype=torch.uint8, device=device)


def time_calls(fn, device, flush, min_samples=5, max_samples=200, max_time_s=2.0, warmup=2):
    """Milliseconds of each timed call of fn(): `warmup` untimed calls, then calls until at least
    `min_samples` were taken and `max_time_s` has passed, at most `max_samples`."""
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    samples = []
    start = time.perf_counter()
    while len(samples) < max_samples:
        if device.type == "cuda":
            flush.random_(0, 255)
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            samples.append(a.elapsed_time(b))
        else:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
        if len(samples) >= min_samples and time.perf_counter() - start >= max_time_s:
            break
    return samples
