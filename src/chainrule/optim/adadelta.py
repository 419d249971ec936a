"""Adadelta (Zeiler, 2012), PyTorch's update rule."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    For each parameter θ with gradient g::

        g ← −g if maximize;  g ← g + weight_decay·θ
        v ← ρ v + (1 − ρ) g²                      (square_avg)
        Δ ← √(u + eps) / √(v + eps) · g
        u ← ρ u + (1 − ρ) Δ²                      (acc_delta)
        θ ← θ − lr · Δ

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 1.0
        Scales Δ (the original method has none: lr = 1).
    rho : float in [0, 1], default 0.9
    eps : float ≥ 0, default 1e-6
    weight_decay : float ≥ 0, default 0
    maximize : bool

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> w = nn.Parameter(np.array([1.0]), dtype=np.float64)
    >>> w.grad = np.array([2.0])
    >>> optim.Adadelta([w]).step()
    >>> round(float(w.data[0]), 6)  # 1 − √eps/√(0.1·4 + eps)·2
    0.996838
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize},
        )

    def _validate(self, group: dict) -> None:
        for key in ("lr", "eps", "weight_decay"):
            check_number("Adadelta", key, group[key])
        check_number("Adadelta", "rho", group["rho"], high=1.0, high_open=False)

    def _update(self, param, grad, state, group) -> None:
        rho, eps = group["rho"], group["eps"]
        work, g_work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param.data)
            state["acc_delta"] = xp.zeros_like(param.data)
        state["step"] += 1
        g = self._effective_grad(param, grad, g_work, group["weight_decay"], group["maximize"])
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * g * g
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta
        xp.multiply(delta, group["lr"], out=work)
        param.data -= work
