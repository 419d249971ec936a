"""BLAS against BLAS: the MLP step's eight matrix products in NumPy and in PyTorch, interleaved.

    python -m benchmarks.bench_blas

chainrule's products are NumPy's (``numpy.matmul``, which calls the BLAS NumPy was built with,
OpenBLAS for the wheels on PyPI). PyTorch's CPU wheels call their own BLAS (MKL on x86-64). This
times the same products, shapes and transposes of the 784-256-256-10 MLP at batch 128 in both,
so the part of a workload ratio that comes from the BLAS alone can be read off: MLP inference
is three of these products and little else. Needs PyTorch; without it only NumPy is timed.
"""

from __future__ import annotations

from itertools import pairwise

try:
    from .bench_mlp import BATCH, SIZES
    from .common import interleaved, set_threads, torch_available
except ImportError:  # run as a script
    from bench_mlp import BATCH, SIZES
    from common import interleaved, set_threads, torch_available


def products(seed: int = 0) -> dict:
    """{name: (a, b)} float32 operands of the step's products, as views with the step's transposes.

    Forward a·Wᵀ for each layer; backward δ·W for the last two layers and δᵀ·a for all three.
    """
    import numpy as np

    rng = np.random.default_rng(seed)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    acts = [rand(BATCH, n) for n in SIZES[:-1]]            # a⁽⁰⁾ = X, a⁽¹⁾, a⁽²⁾
    deltas = [rand(BATCH, n) for n in SIZES[1:]]           # δ⁽¹⁾, δ⁽²⁾, δ⁽³⁾
    weights = [rand(n_out, n_in) for n_in, n_out in pairwise(SIZES)]
    out = {}
    for i, (a, d, W) in enumerate(zip(acts, deltas, weights), start=1):
        out[f"forward a{i - 1}·W{i}ᵀ"] = (a, W.T)
        if i > 1:
            out[f"backward δ{i}·W{i}"] = (d, W)
        out[f"backward δ{i}ᵀ·a{i - 1}"] = (d.T, a)
    return out


def candidates(use_torch: bool = True) -> dict:
    """{"numpy <product>" / "torch <product>": callable} for every product."""
    import numpy as np

    calls = {}
    for name, (a, b) in products().items():
        calls[f"numpy {name}"] = lambda a=a, b=b: np.matmul(a, b)
        if use_torch:
            import torch

            ta, tb = torch.from_numpy(a), torch.from_numpy(b)  # the same memory and strides (transposed views)
            calls[f"torch {name}"] = lambda ta=ta, tb=tb: torch.matmul(ta, tb)
    return calls


def run(rounds: int = 30, per_round: int = 10, use_torch: bool | None = None) -> dict:
    """{name: {"median_s", ...}} for every product in each library, interleaved."""
    use_torch = torch_available() if use_torch is None else use_torch
    return interleaved(candidates(use_torch), rounds=rounds, per_round=per_round, warmup=5)


def main() -> None:
    use_torch = torch_available()
    if use_torch:
        import torch  # noqa: F401  (imported before the thread limit, so its pools are limited too)
    limiter = set_threads(2)  # noqa: F841
    timings = run(use_torch=use_torch)
    names = list(products())
    total = {"numpy": 0.0, "torch": 0.0}
    forward = {"numpy": 0.0, "torch": 0.0}
    print(f"{'product':26s} {'NumPy':>9s} {'PyTorch':>9s}  ratio (PyTorch time / NumPy time)")
    for name in names:
        np_t = timings[f"numpy {name}"]["median_s"]
        total["numpy"] += np_t
        forward["numpy"] += np_t if name.startswith("forward") else 0.0
        line = f"{name:26s} {np_t * 1e3:7.3f}ms"
        if use_torch:
            t_t = timings[f"torch {name}"]["median_s"]
            total["torch"] += t_t
            forward["torch"] += t_t if name.startswith("forward") else 0.0
            line += f" {t_t * 1e3:7.3f}ms  {t_t / np_t:.2f}"
        print(line)
    for label, sums in (("the three forward products", forward), ("all eight products", total)):
        line = f"{label:26s} {sums['numpy'] * 1e3:7.3f}ms"
        if use_torch:
            line += f" {sums['torch'] * 1e3:7.3f}ms  {sums['torch'] / sums['numpy']:.2f}"
        print(line)


if __name__ == "__main__":
    main()
