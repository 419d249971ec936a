"""Gradient clipping, applied between ``loss.backward()`` and ``optimizer.step()``."""

from __future__ import annotations

import math
from numbers import Real

from ..backend import errstate, xp
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    The total norm treats all gradients as one vector:
    ‖g‖ = (Σ over tensors ‖gᵢ‖ₚᵖ)^(1/p) (the largest |gᵢ| for p = inf). When it
    exceeds ``max_norm`` every gradient is multiplied by
    max_norm / (‖g‖ + 1e-6), as PyTorch does.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Those whose ``grad`` is None are ignored.
    max_norm : float
    norm_type : float
        p of the p-norm (``float('inf')`` for the max norm).
    error_if_nonfinite : bool
        Raise RuntimeError when the total norm is NaN or infinite.

    Returns
    -------
    float : the total norm before clipping.
    """
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(
                f"clip_grad_norm_: {name} must be a number, received {type(value).__name__}"
            )
    if norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive, received {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return 0.0
    p = float(norm_type)
    if math.isinf(p):
        total = max(float(xp.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = sum(
            float(xp.linalg.norm(g.reshape(-1).astype(xp.float64), ord=p)) ** p for g in grads
        ) ** (1.0 / p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} is {total}; the gradients are "
            "not finite, so they cannot be clipped (pass error_if_nonfinite=False to clip anyway)"
        )
    coefficient = float(max_norm) / (total + 1e-6)
    # also when the norm is inf or NaN: the gradients become NaN, as in PyTorch
    if not coefficient >= 1.0:
        with errstate(invalid="ignore"):
            for g in grads:
                g *= coefficient
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, Real):
        raise TypeError(
            f"clip_grad_value_: clip_value must be a number, received {type(clip_value).__name__}"
        )
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, received {clip_value}")
    for g in _grads(parameters):
        xp.clip(g, -clip_value, clip_value, out=g)
