"""What refusing a hostile model file costs: tiny files declaring huge layers, a huge tree.

Each file holds one 1×1 tensor and an architecture whose layers would need hundreds of MB (or a
Sequential of 100,000 Identity layers). The loader must refuse each with ModelFileError before it
builds anything; this prints the file size, the wall and CPU time of the refusal, and the peak
memory traced while refusing (tracemalloc, which sees NumPy's allocations).

Run: ``python -m benchmarks.bench_io_refuse``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import tracemalloc

from safetensors.numpy import save_file

import chainrule as cr
from chainrule import io, nn
from chainrule.backend import host

CASES = {
    "Linear(12000, 12000)": {"type": "Linear",
                             "config": {"in_features": 12000, "out_features": 12000}},
    "Embedding(10^7, 64)": {"type": "Embedding",
                            "config": {"num_embeddings": 10**7, "embedding_dim": 64}},
    "LSTM(8000, 8000)": {"type": "LSTM", "config": {"input_size": 8000, "hidden_size": 8000}},
    "BatchNorm1d(2e8)": {"type": "BatchNorm1d", "config": {"num_features": 200_000_000}},
    "Sequential of 100,000 Identity": {
        "type": "Sequential", "children": {str(i): {"type": "Identity"} for i in range(100_000)}},
}


def refuse(path):
    try:
        cr.load(path)
    except io.ModelFileError as error:
        return str(error).split(": ", 1)[1]
    raise AssertionError(f"{path} loaded")


def main() -> None:
    folder = tempfile.mkdtemp()
    cr.load(cr.save(nn.Linear(2, 2), os.path.join(folder, "warm.safetensors")))  # imports first
    print("| file declares | bytes | wall (ms) | CPU (ms) | peak traced (KiB) | refused because |")
    print("|---|---:|---:|---:|---:|---|")
    for name, architecture in CASES.items():
        path = os.path.join(folder, "m.safetensors")
        save_file({"weight": host.zeros((1, 1), host.float32)}, path,
                  metadata={"format": io.MODEL_FORMAT,
                            "chainrule_config": json.dumps({"architecture": architecture})})
        wall, cpu = time.perf_counter(), time.process_time()
        reason = refuse(path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        tracemalloc.start()
        refuse(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"| {name} | {os.path.getsize(path)} | {wall * 1e3:.1f} | {cpu * 1e3:.1f} | "
              f"{peak / 1024:.0f} | {reason[:60]} |")


if __name__ == "__main__":
    main()
