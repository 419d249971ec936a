"""RAdam (Liu et al., 2020): Adam with the adaptive step's variance rectified, PyTorch's rule."""

from __future__ import annotations

import math

from ..backend import xp
from .adam import Adam
from .optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Adam that starts as SGD with momentum until the second-moment estimate is reliable.

    For each parameter θ with gradient g at step t::

        θ ← θ (1 − lr·weight_decay) if decoupled_weight_decay, else g ← g + weight_decay·θ
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2/(1 − β₂) − 1,     ρₜ = ρ∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
        if ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρₜ))
                    θ ← θ − lr · m̂ · r · √(1 − β₂ᵗ) / (√v + eps)
        else:       θ ← θ − lr · m̂

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 1e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float ≥ 0, default 1e-8
    weight_decay : float ≥ 0, default 0
    decoupled_weight_decay : bool
    maximize : bool

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> w = nn.Parameter(np.array([1.0]), dtype=np.float64)
    >>> w.grad = np.array([3.0])
    >>> optim.RAdam([w], lr=0.1).step()  # ρ₁ = 1 ≤ 5: plain momentum, θ − lr·g
    >>> round(float(w.data[0]), 6)
    0.7
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    _validate = Adam._validate  # lr, eps, weight_decay ≥ 0 and betas in [0, 1)

    def _update(self, param, grad, state, group) -> None:
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        work, g_work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_avg_sq"] = xp.zeros_like(param.data)
        state["step"] += 1
        t = state["step"]
        if group["decoupled_weight_decay"]:
            param.data *= 1 - lr * group["weight_decay"]
            g = self._effective_grad(param, grad, g_work, 0.0, group["maximize"])
        else:
            g = self._effective_grad(param, grad, g_work, group["weight_decay"], group["maximize"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1, bias_correction2 = 1 - beta1**t, 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            xp.sqrt(v, out=work)
            work += eps
            xp.divide(m, work, out=work)
            work *= lr * rect * math.sqrt(bias_correction2) / bias_correction1
        else:
            xp.multiply(m, lr / bias_correction1, out=work)
        param.data -= work
