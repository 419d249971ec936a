"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's update rule.

    For each parameter θ with gradient g at step t::

        g ← −g if maximize;  g ← g + weight_decay·θ
        if momentum ≠ 0:
            b ← g                                       (t = 1)
            b ← momentum·b + (1 − dampening)·g          (t > 1)
            g ← g + momentum·b if nesterov else b
        θ ← θ − lr·g

    Parameters
    ----------
    params : iterable of Parameter or of dict (parameter groups)
    lr : float, default 1e-3
    momentum, dampening, weight_decay : float ≥ 0
    nesterov : bool
        Needs momentum > 0 and dampening = 0.
    maximize : bool
        Ascend instead of descend.

    Examples
    --------
    >>> import chainrule.nn as nn, chainrule.optim as optim
    >>> model = nn.Linear(3, 1)
    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_number("SGD", name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0, received "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, param, grad, state, group) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        (work,) = self._work(param)
        # read-only
        g = self._effective_grad(param, grad, work, group["weight_decay"], group["maximize"])
        if momentum == 0:
            xp.multiply(g, lr, out=work)
            param.data -= work
            return
        buf = state.get("momentum_buffer")
        if buf is None:
            state["momentum_buffer"] = buf = g.copy()
        else:
            buf *= momentum
            if dampening:
                # nesterov requires dampening = 0: g is not needed later
                xp.multiply(g, 1 - dampening, out=work)
                buf += work
            else:
                buf += g
        if group["nesterov"]:  # θ ← θ − lr·g − lr·momentum·b
            xp.multiply(g, lr, out=work)
            param.data -= work
            xp.multiply(buf, lr * momentum, out=work)
        else:
            xp.multiply(buf, lr, out=work)
        param.data -= work
