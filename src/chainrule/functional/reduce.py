"""Reductions: sum, mean, var, max, min (with ``axis`` and ``keepdims``)."""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import normalize_axis

__all__ = ["max", "mean", "min", "sum", "var"]


def _expand(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input's shape."""
    if not keepdims:
        g = xp.expand_dims(g, axes) if axes else g
    return xp.broadcast_to(g, shape)


class Sum(Function):
    """y = Σ over axes of x;  ∂L/∂x = g broadcast back over the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        return xp.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return (_expand(g, self.shape, self.axes, self.keepdims),)


class Mean(Function):
    """y = (1/n) Σ over axes of x;  ∂L/∂x = g / n broadcast back (n = elements reduced)."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        self.count = 1
        for ax in self.axes:
            self.count *= x.shape[ax]
        return xp.mean(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return (_expand(g / self.count, self.shape, self.axes, self.keepdims),)


class _Extreme(Function):
    """y = max (or min) over axes;  ∂L/∂x = g at the arg-max element, 0 elsewhere.

    Ties: the whole gradient goes to the *first* extreme element in C order
    over the reduced axes (the element ``argmax`` picks), as PyTorch's
    ``max(dim)`` does; it is not split among tied elements.
    """

    pick = None  # xp.argmax or xp.argmin

    def forward(self, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}")
        axes = normalize_axis(axis, x.ndim)
        kept = tuple(i for i in range(x.ndim) if i not in axes)
        moved = xp.transpose(x, kept + axes)
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        index = type(self).pick(flat, axis=-1)
        self.shape, self.axes, self.keepdims, self.kept, self.index = x.shape, axes, keepdims, kept, index
        y = xp.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
        if keepdims:
            y = y.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape)))
        return y

    def backward(self, g):
        kept_shape = tuple(self.shape[i] for i in self.kept)
        reduced = 1
        for ax in self.axes:
            reduced *= self.shape[ax]
        flat = xp.zeros(kept_shape + (reduced,), dtype=g.dtype)
        xp.put_along_axis(flat, self.index[..., None], g.reshape(kept_shape)[..., None], axis=-1)
        moved = flat.reshape(kept_shape + tuple(self.shape[i] for i in self.axes))
        inverse = xp.argsort(self.kept + self.axes)
        return (xp.transpose(moved, inverse),)


class Max(_Extreme):
    pick = staticmethod(xp.argmax)


class Min(_Extreme):
    pick = staticmethod(xp.argmin)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or None for all)."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False, unbiased: bool = False) -> Tensor:
    """Variance over ``axis``, composed as mean((x − mean x)²); ``unbiased`` divides by n − 1."""
    centered = x - mean(x, axis=axis, keepdims=True)
    v = mean(centered * centered, axis=axis, keepdims=keepdims)
    if unbiased:
        n = 1
        for ax in normalize_axis(axis, x.ndim):
            n *= x.shape[ax]
        v = v * (n / (n - 1 if n > 1 else 1))
    return v


def max(x, axis=None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; the gradient goes to the first arg-max element."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; the gradient goes to the first arg-min element."""
    return Min.apply(x, axis=axis, keepdims=keepdims)
