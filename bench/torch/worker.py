#!/usr/bin/env python3
"""The PyTorch side of `sana-lab bench --backend torch` (bench/backends/torch.ts): a long-lived worker
that builds and times PyTorch-eager versions of the catalogue's ops (bench/torch/sana_torch_ops.py),
so torch baselines are measured in the same run, on the same machine state, as the native kernels.

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout ({"ok": true, ...} or
{"ok": false, "error": "..."}); stderr is free for diagnostics. Commands:
  hello   {threads, device}           -> {torch, python, device_name, threads, device_type}
  prepare {op, dims, dtype}           -> {id}     (inputs built once, outside any timing)
  run     {id}                        -> {}       (one call, synchronized)
  time    {id, min_samples, max_time_s} -> {samples_ms: [...], timer}
  free    {id}                        -> {}
The worker exits when stdin closes (the Node process ended).

Timing: bench/torch/torch_timing.py (CPU: time.perf_counter per call; CUDA: events with an L2 flush
before each call). Two warm-up calls; then calls until at least min_samples were taken and max_time_s
has passed (at most 200).
"""
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from sana_torch_ops import BUILDERS  # noqa: E402
from torch_timing import l2_flush_buffer, time_calls  # noqa: E402

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}
MAX_SAMPLES = 200


class Worker:
    def __init__(self):
        self.device = torch.device("cpu")
        self.prepared = {}
        self.next_id = 1
        self.flush = None

    def hello(self, msg):
        threads = int(msg.get("threads") or 0)
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = torch.device(msg.get("device") or "cpu")
        torch.manual_seed(int(msg.get("seed", 0)))
        self.flush = l2_flush_buffer(self.device)
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
        else:
            name = platform.processor() or platform.machine()
        return dict(torch=torch.__version__, python=platform.python_version(), device_name=name,
                    device_type=self.device.type, threads=torch.get_num_threads(),
                    cuda=getattr(torch.version, "cuda", None))

    def prepare(self, msg):
        op = msg["op"]
        if op not in BUILDERS:
            raise KeyError(f'torch worker has no "{op}" (it has: {", ".join(sorted(BUILDERS))})')
        dtype = DTYPES[msg["dtype"]]
        with torch.inference_mode():
            fn = BUILDERS[op](msg["dims"], dtype, self.device)
        pid = self.next_id
        self.next_id += 1
        self.prepared[pid] = fn
        return dict(id=pid)

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def run(self, msg):
        with torch.inference_mode():
            self.prepared[msg["id"]]()
        self.sync()
        return {}

    def time(self, msg):
        fn = self.prepared[msg["id"]]
        with torch.inference_mode():
            samples = time_calls(fn, self.device, self.flush, min_samples=max(1, int(msg.get("min_samples", 5))),
                                 max_samples=MAX_SAMPLES, max_time_s=float(msg.get("max_time_s", 2.0)))
        timer = ("torch: CUDA events, L2 flush before each call" if self.device.type == "cuda"
                 else "torch: time.perf_counter per call in the worker")
        return dict(samples_ms=samples, timer=timer)

    def free(self, msg):
        self.prepared.pop(msg["id"], None)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return {}


def main():
    w = Worker()
    handlers = dict(hello=w.hello, prepare=w.prepare, run=w.run, time=w.time, free=w.free)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            reply = handlers[msg["cmd"]](msg)
            reply["ok"] = True
        except Exception as e:  # every failure goes back to Node as a message, the worker lives on
            first = str(e).splitlines()[0] if str(e) else ""
            reply = dict(ok=False, error=f"{type(e).__name__}: {first}")
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
