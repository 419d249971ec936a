"""``one_hot``: integer class labels as indicator vectors (not differentiable)."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor

__all__ = ["one_hot"]


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Labels (*) of integers in [0, num_classes) → (*, num_classes) int64 indicators, as PyTorch.

    ``num_classes=-1`` uses max(labels) + 1.

    Examples
    --------
    >>> import numpy as np, chainrule.functional as F
    >>> F.one_hot(np.array([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    labels = tensor.data if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class labels, received dtype {labels.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(
            f"one_hot: num_classes must be an int, received {type(num_classes).__name__}"
        )
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"one_hot: labels must be in [0, {num_classes}), received values in "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    out = xp.zeros(labels.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, labels[..., None].astype(xp.int64), 1, axis=-1)
    return Tensor(out)
