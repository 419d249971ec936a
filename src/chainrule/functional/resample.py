"""Resampling along spatial axes: ``interpolate`` (nearest, linear, bilinear) and adaptive pooling.

How it works
------------
Nearest and (bi)linear interpolation and adaptive average pooling are all
linear maps applied to one spatial axis at a time: y = x ×ₐ A, with A an
(out, in) matrix whose row i holds the weights output i takes from the inputs.
One primitive, :class:`AxisLinear`, applies such a matrix to one axis; its
backward is the transposed map, ∂L/∂x = δ ×ₐ Aᵀ. 2-D resampling is two calls
(H, then W). The matrices follow PyTorch's coordinate rules:

* nearest:  src(i) = min(⌊i · scale⌋, in − 1);
* linear, ``align_corners=False``: s = max((i + ½) · scale − ½, 0), blending
  x[⌊s⌋] and x[min(⌊s⌋ + 1, in − 1)] by s − ⌊s⌋;
* linear, ``align_corners=True``: s = i · (in − 1)/(out − 1);

with scale = 1/scale_factor when a scale factor is given, else in/out.
``adaptive_max_pool2d`` is not linear and has its own primitive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..autograd import Function
from ..backend import is_float_dtype, scatter_add, xp
from ..tensor import Tensor
from ._util import as_tensor
from .pool import adaptive_matrix, adaptive_output_size
from .shape import reshape

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate"]


class AxisLinear(Function):
    """y = x ×ₐ A: yᵢ = Σⱼ A[i, j] xⱼ along ``axis`` (A is (out, in));  ∂L/∂x = δ ×ₐ Aᵀ."""

    fresh_grads = True

    def forward(self, x, matrix=None, axis=-1):
        self.matrix, self.axis = matrix, axis
        return xp.moveaxis(xp.matmul(xp.moveaxis(x, axis, -1), matrix.T), -1, axis)

    def backward(self, g):
        return (xp.moveaxis(xp.matmul(xp.moveaxis(g, self.axis, -1), self.matrix), -1, self.axis),)


def nearest_matrix(size: int, out_size: int, scale: float, dtype):
    """(out, in) 0/1 matrix of nearest-neighbour upsampling: row i picks min(⌊i·scale⌋, in − 1)."""
    source = xp.minimum(xp.floor(xp.arange(out_size) * scale).astype(xp.int64), size - 1)
    matrix = xp.zeros((out_size, size), dtype=dtype)
    matrix[xp.arange(out_size), source] = 1
    return matrix


def linear_matrix(size: int, out_size: int, scale: float, align_corners: bool, dtype):
    """(out, in) matrix of linear interpolation, PyTorch's source coordinates (module docstring)."""
    i = xp.arange(out_size, dtype=xp.float64)
    if align_corners:
        source = i * ((size - 1) / (out_size - 1)) if out_size > 1 else xp.zeros(out_size)
    else:
        source = xp.maximum((i + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size - 1)
    high = xp.minimum(low + 1, size - 1)
    frac = source - low
    matrix = xp.zeros((out_size, size), dtype=xp.float64)
    rows = xp.arange(out_size)
    scatter_add(matrix, (rows, low), 1 - frac)
    scatter_add(matrix, (rows, high), frac)
    return matrix.astype(dtype)


def _sizes(owner, spatial_shape, size, scale_factor):
    """Output sizes and the per-axis scale (in/out, or 1/scale_factor when given), as PyTorch."""
    n = len(spatial_shape)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{owner}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * n if isinstance(size, int) else tuple(size)
        if len(sizes) != n or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes
        ):
            raise ValueError(
                f"{owner}: size must be a positive int or {n} of them, received {size!r}"
            )
        return sizes, tuple(i / o for i, o in zip(spatial_shape, sizes, strict=True))
    factors = (scale_factor,) * n if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(factors) != n or any(isinstance(f, bool) or not f > 0 for f in factors):
        raise ValueError(
            f"{owner}: scale_factor must be a positive number or {n} of them, "
            f"received {scale_factor!r}"
        )
    sizes = tuple(int(math.floor(i * f)) for i, f in zip(spatial_shape, factors, strict=True))
    if any(s < 1 for s in sizes):
        raise ValueError(
            f"{owner}: scale_factor {scale_factor!r} gives an empty output for "
            f"spatial size {tuple(spatial_shape)}"
        )
    return sizes, tuple(1.0 / f for f in factors)


_MODES = {"nearest": None, "linear": 1, "bilinear": 2}


def interpolate(
    input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None
) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) inputs to ``size`` or by ``scale_factor`` (PyTorch's rules).

    Parameters
    ----------
    input : Tensor, shape (N, C, L) or (N, C, H, W)
    size : int or tuple of int, optional
    scale_factor : float or tuple of float, optional
        Exactly one of ``size`` and ``scale_factor``; the output size is ⌊in · scale_factor⌋.
    mode : 'nearest', 'linear' (3-D input) or 'bilinear' (4-D input)
    align_corners : bool, optional
        For the linear modes: map the corner pixels' centres onto each other (default False).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> F.interpolate(cr.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> F.interpolate(cr.tensor([[[1.0, 2.0]]]), size=4, mode="linear").tolist()
    [[[1.0, 1.25, 1.75, 2.0]]]
    """
    owner = "interpolate"
    x = as_tensor(input)
    if mode not in _MODES:
        raise ValueError(f"{owner}: mode must be one of {', '.join(_MODES)}, received {mode!r}")
    if not is_float_dtype(x.dtype):
        raise TypeError(f"{owner}: expected a floating input, received dtype {x.dtype}")
    spatial = x.ndim - 2
    if spatial not in (1, 2) or (_MODES[mode] is not None and _MODES[mode] != spatial):
        expected = {
            "nearest": "(N, C, L) or (N, C, H, W)",
            "linear": "(N, C, L)",
            "bilinear": "(N, C, H, W)",
        }[mode]
        raise ValueError(
            f"{owner}: mode {mode!r} expects input of shape {expected}, received {x.shape}"
        )
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{owner}: align_corners applies only to the linear modes, not {mode!r}")
    sizes, scales = _sizes(owner, x.shape[2:], size, scale_factor)
    for axis, (n_in, n_out, scale) in enumerate(
        zip(x.shape[2:], sizes, scales, strict=True), start=2
    ):
        if mode == "nearest":
            matrix = nearest_matrix(n_in, n_out, scale, x.dtype)
        else:
            matrix = linear_matrix(n_in, n_out, scale, bool(align_corners), x.dtype)
        x = AxisLinear.apply(x, matrix=matrix, axis=axis)
    return x


def adaptive_avg_pool1d(input, output_size: int) -> Tensor:
    """Average pooling of (N, C, L) to (N, C, output_size), PyTorch's windows
    ⌊i·L/Lo⌋ … ⌈(i + 1)·L/Lo⌉ − 1 (an :class:`AxisLinear` with the averaging matrix).

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> F.adaptive_avg_pool1d(cr.tensor([[[1.0, 2.0, 3.0, 5.0]]]), 2).tolist()
    [[[1.5, 4.0]]]
    """
    x = as_tensor(input)
    if x.ndim != 3:
        raise ValueError(
            f"adaptive_avg_pool1d: expected input of shape (N, C, L), received {x.shape}"
        )
    if isinstance(output_size, bool) or not isinstance(output_size, int) or output_size < 1:
        raise ValueError(
            f"adaptive_avg_pool1d: output_size must be an int ≥ 1, received {output_size!r}"
        )
    matrix = adaptive_matrix(x.shape[2], output_size, x.dtype)
    return AxisLinear.apply(x, matrix=matrix, axis=2)


def _windows(size: int, out_size: int):
    """PyTorch's adaptive windows: [⌊i·size/out⌋, ⌈(i + 1)·size/out⌉) for each output i."""
    return [((i * size) // out_size, -((-(i + 1) * size) // out_size)) for i in range(out_size)]


class AdaptiveMaxPool2dFunction(Function):
    """y[n, c, i, j] = max of x[n, c] over window (i, j) (PyTorch's adaptive windows);
    ∂L/∂x = δ routed to each window's (first) maximum, summed where windows overlap."""

    fresh_grads = True

    def forward(self, x, output_size=(1, 1)):
        N, C, H, W = x.shape
        Ho, Wo = output_size
        out = xp.empty((N, C, Ho, Wo), dtype=x.dtype)
        self.argmax = xp.empty((N, C, Ho, Wo), dtype=xp.int64)  # flat index into H·W
        for i, (h0, h1) in enumerate(_windows(H, Ho)):
            for j, (w0, w1) in enumerate(_windows(W, Wo)):
                window = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)
                k = window.argmax(axis=2)
                out[:, :, i, j] = xp.take_along_axis(window, k[..., None], axis=2)[..., 0]
                width = w1 - w0
                self.argmax[:, :, i, j] = (h0 + k // width) * W + (w0 + k % width)
        self.x_shape = x.shape
        return out

    def backward(self, g):
        N, C, H, W = self.x_shape
        grad = xp.zeros((N * C, H * W), dtype=g.dtype)
        rows = xp.repeat(xp.arange(N * C), g.shape[2] * g.shape[3])
        scatter_add(grad, (rows, self.argmax.reshape(-1)), g.reshape(-1))
        return (grad.reshape(self.x_shape),)


def adaptive_max_pool2d(input, output_size: int | Sequence[int | None]) -> Tensor:
    """Max pooling of (N, C, H, W) to a fixed (Ho, Wo), PyTorch's adaptive windows.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> F.adaptive_max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    x = as_tensor(input)
    if x.ndim != 4:
        raise ValueError(
            f"adaptive_max_pool2d: expected input of shape (N, C, H, W), received {x.shape}"
        )
    size = adaptive_output_size(output_size, x.shape, "adaptive_max_pool2d")
    return AdaptiveMaxPool2dFunction.apply(x, output_size=size)


def adaptive_max_pool1d(input, output_size: int) -> Tensor:
    """Max pooling of (N, C, L) to (N, C, output_size): :func:`adaptive_max_pool2d` at height 1."""
    x = as_tensor(input)
    if x.ndim != 3:
        raise ValueError(
            f"adaptive_max_pool1d: expected input of shape (N, C, L), received {x.shape}"
        )
    out = adaptive_max_pool2d(reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), (1, output_size))
    return reshape(out, out.shape[:2] + (out.shape[3],))
