"""Where the MLP SGD step's time goes: the whole step, the step without the optimizer, the same
six matrix products in bare NumPy, and the 512³ GEMM ceiling, interleaved in one process.

    python -m benchmarks.bench_mlp_breakdown

Prints medians and each one's share of the ceiling, counting the step's matrix-product FLOPs
(``bench_mlp.mlp_flops_per_step``). chainrule only; PyTorch is not needed.
"""

from __future__ import annotations

import chainrule as cr
import chainrule.functional as F
from chainrule import optim

try:
    from .bench_mlp import _data, chainrule_mlp, mlp_flops_per_step
    from .common import gemm_call, interleaved, set_threads
except ImportError:  # run as a script
    from bench_mlp import _data, chainrule_mlp, mlp_flops_per_step
    from common import gemm_call, interleaved, set_threads

GEMM_N = 512


def candidates() -> dict:
    """The four callables: full step, step without ``opt.step()``, bare GEMMs, the ceiling GEMM."""
    X, y = _data()
    model = chainrule_mlp()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    Xt = cr.tensor(X)
    weights = [m.weight.data for m in model if hasattr(m, "weight")]

    def without_optimizer():
        opt.zero_grad()
        F.cross_entropy(model(Xt), y).backward()

    def full_step():
        without_optimizer()
        opt.step()

    def gemms_only():  # forward a·Wᵀ per layer; backward δᵀ·a for every W, δ·W for all but the first layer
        w1, w2, w3 = weights
        a1 = X @ w1.T
        a2 = a1 @ w2.T
        d3 = a2 @ w3.T
        d2 = d3 @ w3
        d1 = d2 @ w2
        return d3.T @ a2, d2.T @ a1, d1.T @ X

    return {"full step": full_step, "without opt.step()": without_optimizer, "six GEMMs in NumPy": gemms_only,
            f"GEMM {GEMM_N}³": gemm_call(GEMM_N)}


def run(rounds: int = 30, per_round: int = 10) -> dict:
    """{name: {"median_s", ...}} for the four callables, interleaved."""
    return interleaved(candidates(), rounds=rounds, per_round=per_round, warmup=10)


if __name__ == "__main__":
    limiter = set_threads(2)
    timings = run()
    ceiling = 2 * GEMM_N ** 3 / timings[f"GEMM {GEMM_N}³"]["median_s"]
    flops = mlp_flops_per_step()
    print(f"ceiling {ceiling / 1e9:.0f} GFLOP/s (median); step matrix products {flops / 1e6:.1f} MFLOP")
    for name, t in timings.items():
        if name.startswith("GEMM"):
            continue
        print(f"{name:20s} {t['median_s'] * 1e3:6.2f} ms  {100 * flops / t['median_s'] / ceiling:3.0f}% of the ceiling")
