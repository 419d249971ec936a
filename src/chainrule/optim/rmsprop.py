"""RMSprop: divide the gradient by a running root mean square of its history."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's update rule.

    For each parameter θ with gradient g::

        g ← −g if maximize;  g ← g + weight_decay·θ
        s ← α s + (1 − α) g²                          (square_avg, starts at 0)
        centered:  ḡ ← α ḡ + (1 − α) g;  r = √(s − ḡ²) + eps    else r = √s + eps
        momentum > 0:  b ← momentum·b + g / r;  θ ← θ − lr·b
        otherwise:     θ ← θ − lr·g / r

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 1e-2
    alpha : float ≥ 0, default 0.99 (smoothing constant)
    eps : float ≥ 0, default 1e-8
    weight_decay, momentum : float ≥ 0
    centered, maximize : bool
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_number("RMSprop", key, group[key])

    def _update(self, param, grad, state, group) -> None:
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        d, work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param.data)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(param.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(param.data)
        state["step"] += 1
        # read-only
        d = self._effective_grad(param, grad, d, group["weight_decay"], group["maximize"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        xp.multiply(d, d, out=work)
        work *= 1 - alpha
        square_avg += work
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", xp.zeros_like(param.data))
            grad_avg *= alpha
            xp.multiply(d, 1 - alpha, out=work)
            grad_avg += work
            xp.multiply(grad_avg, grad_avg, out=work)
            xp.subtract(square_avg, work, out=work)
            xp.sqrt(work, out=work)
        else:
            xp.sqrt(square_avg, out=work)
        work += eps  # work = r
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", xp.zeros_like(param.data))
            buf *= momentum
            xp.divide(d, work, out=work)
            buf += work
            xp.multiply(buf, group["lr"], out=work)
        else:
            xp.divide(d, work, out=work)
            work *= group["lr"]
        param.data -= work
