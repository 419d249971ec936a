"""Where the MLP SGD step's time goes, interleaved in one process:

* the whole chainrule step, and the same step without ``opt.step()``;
* the same step written out in plain NumPy (forward, softmax cross-entropy, backward, momentum
  SGD; no framework): the floor for any library whose arithmetic is NumPy calls;
* the step's eight matrix products alone, in bare NumPy;
* the 512³ GEMM, the ceiling.

    python -m benchmarks.bench_mlp_breakdown

Prints medians and each one's share of the ceiling, counting the step's matrix-product FLOPs
(``bench_mlp.mlp_flops_per_step``). chainrule only; PyTorch is not needed.
"""

from __future__ import annotations

import chainrule as cr
import chainrule.functional as F
from chainrule import optim
from chainrule.backend import xp

try:
    from .bench_mlp import _data, chainrule_mlp, mlp_flops_per_step
    from .common import gemm_call, interleaved, set_threads
except ImportError:  # run as a script
    from bench_mlp import _data, chainrule_mlp, mlp_flops_per_step
    from common import gemm_call, interleaved, set_threads

GEMM_N = 512
GEMMS = "eight GEMMs in NumPy"
PLAIN = "plain NumPy step"


def plain_numpy_step(params, X, y, lr=0.01, momentum=0.9):
    """A callable doing one SGD step of the MLP by hand, updating ``params`` in place.

    ``params`` is [W1, b1, W2, b2, W3, b3] (PyTorch layout, W is (out, in)). The arithmetic is the
    chainrule step's, op for op: z = a Wᵀ + b, ReLU by a mask, the mean softmax cross-entropy's
    δ = (softmax − onehot)/N, then per parameter b ← m·b + g and θ ← θ − lr·b in four passes.
    """
    buffers = [None] * len(params)
    work = [xp.empty_like(p) for p in params]
    n = X.shape[0]
    rows = xp.arange(n)

    def step():
        W1, b1, W2, b2, W3, b3 = params
        z1 = X @ W1.T
        z1 += b1
        m1 = z1 > 0
        a1 = z1 * m1
        z2 = a1 @ W2.T
        z2 += b2
        m2 = z2 > 0
        a2 = z2 * m2
        z3 = a2 @ W3.T
        z3 += b3
        e = xp.exp(z3 - z3.max(axis=1, keepdims=True))
        d3 = e * (1 / (n * e.sum(axis=1)))[:, None]
        d3[rows, y] -= 1 / n
        d2 = d3 @ W3
        d2 *= m2
        d1 = d2 @ W2
        d1 *= m1
        grads = [d1.T @ X, d1.sum(axis=0), d2.T @ a1, d2.sum(axis=0), d3.T @ a2, d3.sum(axis=0)]
        for i, (p, g, w) in enumerate(zip(params, grads, work, strict=True)):
            if buffers[i] is None:
                buffers[i] = g.copy()
            else:
                buffers[i] *= momentum
                buffers[i] += g
            xp.multiply(buffers[i], lr, out=w)
            p -= w

    return step


def candidates() -> dict:
    """The five callables: full step, no ``opt.step()``, plain NumPy step, bare GEMMs, ceiling."""
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

    # forward a·Wᵀ per layer; backward δᵀ·a for every W, δ·W for all but the first layer
    def gemms_only():
        w1, w2, w3 = weights
        a1 = X @ w1.T
        a2 = a1 @ w2.T
        d3 = a2 @ w3.T
        d2 = d3 @ w3
        d1 = d2 @ w2
        return d3.T @ a2, d2.T @ a1, d1.T @ X

    plain = plain_numpy_step([p.data.copy() for p in model.parameters()], X, y)
    return {
        "full step": full_step,
        "without opt.step()": without_optimizer,
        PLAIN: plain,
        GEMMS: gemms_only,
        f"GEMM {GEMM_N}³": gemm_call(GEMM_N),
    }


def run(rounds: int = 30, per_round: int = 10) -> dict:
    """{name: {"median_s", ...}} for the five callables, interleaved."""
    return interleaved(candidates(), rounds=rounds, per_round=per_round, warmup=10)


if __name__ == "__main__":
    limiter = set_threads(2)
    timings = run()
    ceiling = 2 * GEMM_N**3 / timings[f"GEMM {GEMM_N}³"]["median_s"]
    flops = mlp_flops_per_step()
    print(
        f"ceiling {ceiling / 1e9:.0f} GFLOP/s (median); "
        f"step matrix products {flops / 1e6:.1f} MFLOP"
    )
    for name, t in timings.items():
        if name.startswith("GEMM"):
            continue
        print(
            f"{name:20s} {t['median_s'] * 1e3:6.2f} ms  "
            f"{100 * flops / t['median_s'] / ceiling:3.0f}% of the ceiling"
        )
