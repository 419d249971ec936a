"""Adam and AdamW (decoupled weight decay)."""

from __future__ import annotations

import math

from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's update rule.

    For each parameter θ with gradient g at step t = 1, 2, …::

        g ← −g if maximize;  g ← g + weight_decay·θ          (L2 penalty, Adam only)
        m ← β₁ m + (1 − β₁) g                                 (first moment)
        v ← β₂ v + (1 − β₂) g²                                (second moment)
        v̂_max ← max(v̂_max, v)  and use it for v when amsgrad
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 1e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float ≥ 0, default 1e-8
    weight_decay : float ≥ 0, default 0
    amsgrad, maximize : bool
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            check_number(name, key, group[key])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), received {betas!r}")
        group["betas"] = tuple(betas)
        for i, beta in enumerate(betas):
            check_number(name, f"betas[{i}]", beta, low=0.0, high=1.0, high_open=True)

    def _update(self, param, grad, state, group) -> None:
        lr, eps, amsgrad = group["lr"], group["eps"], group["amsgrad"]
        beta1, beta2 = group["betas"]
        work, g_work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_avg_sq"] = xp.zeros_like(param.data)
            if amsgrad:
                state["max_exp_avg_sq"] = xp.zeros_like(param.data)
        state["step"] += 1
        step = state["step"]
        if self._decoupled:
            param.data *= 1 - lr * group["weight_decay"]
            g = self._effective_grad(param, grad, g_work, 0.0, group["maximize"])
        else:
            g = self._effective_grad(param, grad, g_work, group["weight_decay"], group["maximize"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1  # m ← β₁ m + (1 − β₁) g
        xp.multiply(g, 1 - beta1, out=work)
        m += work
        v *= beta2  # v ← β₂ v + (1 − β₂) g²
        xp.multiply(g, 1 - beta2, out=work)
        work *= g
        v += work
        second = v
        if amsgrad:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = xp.zeros_like(param.data)
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            second = state["max_exp_avg_sq"]
        # lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + eps) = α · m / (√v + ε̂) with the constants folded
        # into scalars (α = lr √(1 − β₂ᵗ)/(1 − β₁ᵗ), ε̂ = eps √(1 − β₂ᵗ)): two fewer passes
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        step_size = lr * bias_correction2_sqrt / (1 - beta1 ** step)
        xp.sqrt(second, out=work)
        work += eps * bias_correction2_sqrt
        xp.divide(m, work, out=work)
        work *= step_size
        param.data -= work


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's rule.

    The decay shrinks the weights directly instead of entering the gradient::

        θ ← θ (1 − lr·weight_decay)
        then the Adam step of :class:`Adam` with weight_decay = 0.

    Same parameters as :class:`Adam`, but ``weight_decay`` defaults to 1e-2.
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
