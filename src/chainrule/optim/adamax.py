"""Adamax (Kingma & Ba, 2015, §7.1), PyTorch's update rule."""

from __future__ import annotations

from ..backend import xp
from .adam import Adam
from .optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment.

    For each parameter θ with gradient g at step t::

        g ← −g if maximize;  g ← g + weight_decay·θ
        m ← β₁ m + (1 − β₁) g                     (exp_avg)
        u ← max(β₂ u, |g| + eps)                  (exp_inf)
        θ ← θ − lr / (1 − β₁ᵗ) · m / u

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 2e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float ≥ 0, default 1e-8
    weight_decay : float ≥ 0, default 0
    maximize : bool

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> w = nn.Parameter(np.array([1.0]), dtype=np.float64)
    >>> w.grad = np.array([5.0])
    >>> optim.Adamax([w], lr=0.1).step()  # the first step is lr·sign(g)
    >>> round(float(w.data[0]), 6)
    0.9
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    _validate = Adam._validate  # lr, eps, weight_decay ≥ 0 and betas in [0, 1)

    def _update(self, param, grad, state, group) -> None:
        beta1, beta2 = group["betas"]
        work, g_work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_inf"] = xp.zeros_like(param.data)
        state["step"] += 1
        g = self._effective_grad(param, grad, g_work, group["weight_decay"], group["maximize"])
        m, u = state["exp_avg"], state["exp_inf"]
        m *= beta1
        m += (1 - beta1) * g
        u *= beta2
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        xp.divide(m, u, out=work)
        work *= group["lr"] / (1 - beta1 ** state["step"])
        param.data -= work
