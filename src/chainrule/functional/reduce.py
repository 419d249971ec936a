"""Reductions: sum, mean, var, max, min, argmax, argmin.

Each takes PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims`` (the same thing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import normalize_axis, resolve_dim
from .elementwise import maximum, minimum, sqrt

__all__ = ["ValuesIndices", "argmax", "argmin", "max", "mean", "min", "std", "sum", "var"]


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch: the values and their indices."""

    values: Tensor
    indices: Tensor


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

    pick: Callable[..., Any]  # xp.argmax or xp.argmin, set by the subclass

    def forward(self, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(
                f"{type(self).__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}"
            )
        axes = normalize_axis(axis, x.ndim)
        kept = tuple(i for i in range(x.ndim) if i not in axes)
        moved = xp.transpose(x, kept + axes)
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        index = type(self).pick(flat, axis=-1)
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        self.kept, self.index = kept, index
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


def sum(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None
        ) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all)."""
    axis, keepdims = resolve_dim("sum", dim, axis, keepdim, keepdims)
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None
         ) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or None for all)."""
    axis, keepdims = resolve_dim("mean", dim, axis, keepdim, keepdims)
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def var(x, dim=None, unbiased: bool = True, keepdim: bool | None = None, *, axis=None,
        keepdims: bool | None = None, correction: int | None = None) -> Tensor:
    """Variance over ``dim``, composed as Σ(x − mean x)² / (n − correction).

    As PyTorch, ``unbiased=True`` (correction 1, dividing by n − 1) is the default;
    ``unbiased=False`` or ``correction=0`` gives the population variance (NumPy's default).
    """
    axis, keepdims = resolve_dim("var", dim, axis, keepdim, keepdims)
    correction = (1 if unbiased else 0) if correction is None else correction
    centered = x - mean(x, axis=axis, keepdims=True)
    v = mean(centered * centered, axis=axis, keepdims=keepdims)
    if correction:
        n = 1
        for ax in normalize_axis(axis, x.ndim):
            n *= x.shape[ax]
        v = v * (n / (n - correction if n > correction else 1))
    return v


def std(x, dim=None, unbiased: bool = True, keepdim: bool | None = None, *, axis=None,
        keepdims: bool | None = None, correction: int | None = None) -> Tensor:
    """Standard deviation over ``dim``: √var (same options as :func:`var`)."""
    return sqrt(var(x, dim, unbiased, keepdim, axis=axis, keepdims=keepdims,
                    correction=correction))


def _extreme(name, function, pick, x, dim, keepdim, axis, keepdims):
    if isinstance(dim, Tensor):  # max(a, b): the elementwise maximum, as torch.max(a, b)
        return (maximum if name == "max" else minimum)(x, dim)
    axis_, keepdims_ = resolve_dim(name, dim, axis, keepdim, keepdims)
    values = function.apply(x, axis=axis_, keepdims=keepdims_)
    if dim is None:  # all elements, or NumPy's axis=: the values alone
        return values
    if not isinstance(dim, (int, xp.integer)):
        raise TypeError(f"{name}: dim must be an int (use axis= for a tuple), received {dim!r}")
    return ValuesIndices(values, _arg(pick, x, dim, keepdims_))


def max(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None):
    """Maximum over ``dim``; the gradient goes to the first arg-max element.

    As PyTorch: ``max(x)`` is a 0-d tensor, ``max(x, dim)`` the pair ``(values, indices)``
    (a :class:`ValuesIndices`), ``max(x, other)`` the elementwise maximum. NumPy's
    ``axis=`` (an int or a tuple) gives the values alone.
    """
    return _extreme("max", Max, xp.argmax, x, dim, keepdim, axis, keepdims)


def min(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None):
    """Minimum over ``dim``; as :func:`max` (the gradient goes to the first arg-min element)."""
    return _extreme("min", Min, xp.argmin, x, dim, keepdim, axis, keepdims)


def _arg(pick, x, axis, keepdims):
    data = x.data if isinstance(x, Tensor) else xp.asarray(x)
    if axis is not None:
        (axis,) = normalize_axis(axis, data.ndim, pick.__name__)
    return Tensor(pick(data, axis=axis, keepdims=keepdims).astype(xp.int64, copy=False))


def argmax(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None
           ) -> Tensor:
    """Index of the maximum (int64, not differentiable), over all elements or along ``dim``."""
    axis, keepdims = resolve_dim("argmax", dim, axis, keepdim, keepdims)
    return _arg(xp.argmax, x, axis, keepdims)


def argmin(x, dim=None, keepdim: bool | None = None, *, axis=None, keepdims: bool | None = None
           ) -> Tensor:
    """Index of the minimum (int64, not differentiable), over all elements or along ``dim``."""
    axis, keepdims = resolve_dim("argmin", dim, axis, keepdim, keepdims)
    return _arg(xp.argmin, x, axis, keepdims)
