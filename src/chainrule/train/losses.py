"""The loss registry: names accepted by ``fit(loss=...)``, the CLI and :func:`get_loss`.

Each named loss adapts its targets before calling the functional loss:
class-label losses take integer labels (one-hot or probability rows are turned
into labels by ``argmax``), the others take float targets in the prediction's
dtype, reshaped from (N,) to (N, 1) when the model outputs one column.

Examples
--------
>>> import numpy as np
>>> from chainrule import Tensor
>>> mse = get_loss("mean_squared_error")
>>> float(mse(Tensor(np.array([[1.0], [3.0]])), np.array([0.0, 1.0])).item())
2.5
"""

from __future__ import annotations

from collections.abc import Callable

from .. import functional as F
from ..backend import is_float_dtype, to_numpy, xp
from ..tensor import Tensor

__all__ = ["LOSSES", "get_loss"]


def _classification_target(pred, target):
    target = to_numpy(target)
    if target.ndim == pred.ndim and target.shape == pred.shape and is_float_dtype(target.dtype):
        target = target.argmax(axis=1)  # one-hot or probabilities → labels
    return target.astype(xp.int64, copy=False)


def _float_target(pred, target):
    target = to_numpy(target)
    if target.shape != pred.shape and target.size == pred.data.size:
        target = target.reshape(pred.shape)  # (N,) targets for (N, 1) outputs
    return target.astype(pred.dtype, copy=False)


def _named_loss(function, target_fn, name):
    def loss(pred, target):
        target = target.data if isinstance(target, Tensor) else target
        return function(pred, Tensor(target_fn(pred, target)))

    loss.__name__ = name
    return loss


LOSSES: dict[str, Callable] = {
    "cross_entropy": _named_loss(F.cross_entropy, _classification_target, "cross_entropy"),
    "nll": _named_loss(F.nll_loss, _classification_target, "nll"),
    "mse": _named_loss(F.mse_loss, _float_target, "mse"),
    "mae": _named_loss(F.l1_loss, _float_target, "mae"),
    "bce_with_logits": _named_loss(F.binary_cross_entropy_with_logits, _float_target,
                                   "bce_with_logits"),
}
"""Loss names for :func:`get_loss`; targets are adapted (labels to int64, (N,) to (N, 1))."""

_LOSS_ALIASES = {
    "ce": "cross_entropy", "crossentropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy", "sparse_categorical_crossentropy": "cross_entropy",
    "nll_loss": "nll", "mse_loss": "mse", "mean_squared_error": "mse", "l1": "mae",
    "l1_loss": "mae", "mean_absolute_error": "mae",
    "binary_cross_entropy_with_logits": "bce_with_logits", "bce": "bce_with_logits",
    "binary_crossentropy": "bce_with_logits",
}


def get_loss(loss) -> Callable:
    """Resolve a loss name (see :data:`LOSSES`); a callable ``loss(pred, target)`` passes as is."""
    if isinstance(loss, str):
        key = _LOSS_ALIASES.get(loss.lower(), loss.lower())
        if key not in LOSSES:
            raise ValueError(
                f"loss: unknown loss {loss!r}; expected one of {sorted(LOSSES)} "
                "or a callable loss(pred, target) -> scalar Tensor"
            )
        return LOSSES[key]
    if callable(loss):
        return loss
    raise TypeError(f"loss: expected a loss name or a callable, received {type(loss).__name__}")
