"""Timing helpers shared by the benchmarks: interleaved runs, medians, ranges, memory, BLAS info."""

from __future__ import annotations

import os
import resource
import statistics
import time


def set_threads(n: int = 2):
    """Pin BLAS (and PyTorch, if present) to ``n`` threads so both sides get the same cores.

    Returns the threadpoolctl limiter (or None): keep a reference for as long as
    the limit should hold, and import PyTorch before calling this so its own
    BLAS/OpenMP pools are found and limited too.
    """
    if torch_available():
        import torch

        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=n)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def time_call(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def interleaved(candidates: dict, rounds: int = 5, per_round: int = 5, warmup: int = 3) -> dict:
    """Time each callable in ``candidates`` in alternating rounds (A B A B …) after warm-up.

    Returns {name: {"median_s", "min_s", "max_s", "samples"}} of per-call seconds.
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].extend(time_call(fn, per_round))
    return summarize(samples)


def summarize(samples: dict) -> dict:
    """{name: [seconds, ...]} → {name: {"median_s", "min_s", "max_s", "samples"}}."""
    return {
        name: {
            "median_s": statistics.median(ts),
            "min_s": min(ts),
            "max_s": max(ts),
            "samples": len(ts),
        }
        for name, ts in samples.items()
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's VmHWM (``/proc/self/status``) belongs to this program image alone;
    ``getrusage``'s ru_maxrss, the fallback, carries over the parent's peak
    into a child started by fork + exec, which would mix the peaks.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    return [
        {
            k: info.get(k)
            for k in (
                "user_api",
                "internal_api",
                "version",
                "num_threads",
                "architecture",
                "filepath",
            )
        }
        for info in threadpool_info()
    ]


def gemm_call(n: int = 512):
    """A callable doing one float32 n×n×n NumPy GEMM (2·n³ FLOPs): the ceiling's workload."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return lambda: np.matmul(a, b, out=out)


def gemm_gflops(n: int = 512, repeats: int = 20) -> float:
    """NumPy float32 GEMM throughput, GFLOP/s, best of ``repeats``: a BLAS-bound step's ceiling."""
    call = gemm_call(n)
    for _ in range(3):
        call()
    best = min(time_call(call, repeats))
    return 2 * n**3 / best / 1e9


def environment() -> dict:
    import platform

    import numpy as np

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }
    if torch_available():
        import torch

        info["torch"] = torch.__version__
    return info


def report(rows) -> None:
    """One line per workload: chainrule's median and, with PyTorch, its median and the ratio."""
    for row in rows:
        t = row["timings"]
        line = f"{row['workload']:22s} chainrule {t['chainrule']['median_s'] * 1e3:7.2f} ms"
        if "torch" in t:
            ratio = t["torch"]["median_s"] / t["chainrule"]["median_s"]
            line += f"  torch {t['torch']['median_s'] * 1e3:7.2f} ms  throughput ratio {ratio:.2f}"
        print(line)
