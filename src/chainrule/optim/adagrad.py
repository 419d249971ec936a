"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's update rule.

    For each parameter θ with gradient g at step t = 1, 2, …::

        g ← −g if maximize;  g ← g + weight_decay·θ
        clr = lr / (1 + (t − 1)·lr_decay)
        G ← G + g²                       (G starts at initial_accumulator_value)
        θ ← θ − clr · g / (√G + eps)

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float, default 1e-2
    lr_decay, weight_decay, initial_accumulator_value : float ≥ 0
    eps : float ≥ 0, default 1e-10
    maximize : bool
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number("Adagrad", key, group[key])

    def _update(self, param, grad, state, group) -> None:
        d, work = self._work(param, 2)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(param.data, group["initial_accumulator_value"])
        state["step"] += 1
        # read-only
        d = self._effective_grad(param, grad, d, group["weight_decay"], group["maximize"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        accumulator = state["sum"]
        xp.multiply(d, d, out=work)
        accumulator += work
        xp.sqrt(accumulator, out=work)
        work += group["eps"]
        xp.divide(d, work, out=work)
        work *= clr
        param.data -= work
