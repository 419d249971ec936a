"""NAdam (Dozat, 2016): Adam with Nesterov momentum, PyTorch's update rule."""

from __future__ import annotations

from ..backend import xp
from .adam import Adam
from .optimizer import Optimizer, check_number

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam whose momentum looks one step ahead, with PyTorch's momentum schedule.

    For each parameter θ with gradient g at step t (ψ = ``momentum_decay``)::

        θ ← θ (1 − lr·weight_decay) if decoupled_weight_decay, else g ← g + weight_decay·θ
        μₜ = β₁ (1 − ½·0.96^(t ψ)),  μₜ₊₁ = β₁ (1 − ½·0.96^((t + 1) ψ)),  Πₜ = μ₁ ⋯ μₜ
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        d = √(v / (1 − β₂ᵗ)) + eps
        θ ← θ − lr (1 − μₜ)/(1 − Πₜ) · g/d − lr μₜ₊₁/(1 − Πₜ μₜ₊₁) · m/d

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 2e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float ≥ 0, default 1e-8
    weight_decay : float ≥ 0, default 0
    momentum_decay : float ≥ 0, default 4e-3
    decoupled_weight_decay : bool
        AdamW-style decay (NAdamW) instead of the L2 penalty.
    maximize : bool

    Notes
    -----
    Πₜ is a Python float (float64). PyTorch keeps it in its default dtype (float32), so
    the two agree to about 1e-8 relative, exactly once torch's default dtype is float64.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> w = nn.Parameter(np.array([1.0]), dtype=np.float64)
    >>> w.grad = np.array([3.0])
    >>> optim.NAdam([w], lr=0.1).step()
    >>> round(float(w.data[0]), 4)  # 1 − 0.1 − 0.1·μ₂/(1 − μ₁μ₂)·0.1, μ ≈ 0.45
    0.8944
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        Adam._validate(self, group)  # type: ignore[arg-type]  # the same lr, betas, eps checks
        check_number("NAdam", "momentum_decay", group["momentum_decay"])

    def _update(self, param, grad, state, group) -> None:
        lr, eps, psi = group["lr"], group["eps"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        work, g_work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_avg_sq"] = xp.zeros_like(param.data)
        state["step"] += 1
        t = state["step"]
        if group["decoupled_weight_decay"]:
            param.data *= 1 - lr * group["weight_decay"]
            g = self._effective_grad(param, grad, g_work, 0.0, group["maximize"])
        else:
            g = self._effective_grad(param, grad, g_work, group["weight_decay"], group["maximize"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        xp.sqrt(v / (1 - beta2**t), out=work)
        work += eps  # d
        param.data -= (lr * (1 - mu) / (1 - product)) * g / work
        param.data -= (lr * mu_next / (1 - product * mu_next)) * m / work
