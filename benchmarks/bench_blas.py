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

    acts = [rand(BATCH, n) for n in SIZES[:-1]]  # a⁽⁰⁾ = X, a⁽¹⁾, a⁽²⁾
    deltas = [rand(BATCH, n) for n in SIZES[1:]]  # δ⁽¹⁾, δ⁽²⁾, δ⁽³⁾
    weights = [rand(n_out, n_in) for n_in, n_out in pairwise(SIZES)]
    out = {}
    for i, (a, d, W) in enumerate(zip(acts, deltas, weights, strict=True), start=1):
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

            ta, tb = (
                torch.from_numpy(a),
                torch.from_numpy(b),
            )  # the same memory and strides (transposed views)
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
    libraries = ["numpy", "torch"] if use_torch else ["numpy"]
    per_product = {
        name: [timings[f"{lib} {name}"]["median_s"] for lib in libraries] for name in products()
    }
    forward = [times for name, times in per_product.items() if name.startswith("forward")]
    rows = {
        **per_product,
        "the three forward products": [sum(col) for col in zip(*forward, strict=True)],
        "all eight products": [sum(col) for col in zip(*per_product.values(), strict=True)],
    }
    print(f"{'product':26s} {'NumPy':>9s} {'PyTorch':>9s}  ratio (PyTorch time / NumPy time)")
    for name, times in rows.items():
        line = f"{name:26s}" + "".join(f" {t * 1e3:7.3f}ms" for t in times)
        print(line + (f"  {times[1] / times[0]:.2f}" if use_torch else ""))


if __name__ == "__main__":
    main()
