"""Pooling: ``max_pool1d``, ``max_pool2d``, ``avg_pool1d``, ``avg_pool2d``, ``adaptive_avg_pool2d``.

The max and average pools loop over the kh·kw kernel offsets; each offset is
one strided slice of the padded input (see :func:`chainrule.functional.conv.offset_slices`),
so the forward is kh·kw elementwise operations on whole output-sized arrays
and the backward adds kh·kw strided slices (no scatter). The 1-D pools run the
2-D code with a height of one. Adaptive average pooling is linear in x and
is computed with two small averaging matrices: y = A_h · x · A_wᵀ.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from .conv import crop_spatial, offset_slices, pad_spatial, to_tuple

__all__ = ["adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d"]


def _output_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _as_4d(x):
    return x[:, :, None, :] if x.ndim == 3 else x


class MaxPool2dFunction(Function):
    """y[n, c, i, j] = max over the window of x_pad (padded with −∞);
    ∂L/∂x = δ routed to the window's argmax (the first, on ties), summed where windows overlap.

    With window offsets k = p·kw + q taken in row-major order and x_k the strided slice of
    x_pad that offset k meets (one value per output element)::

        y        = max_k x_k                                  (np.maximum, NaN propagates)
        winner_k = [x_k = y] ∧ ¬(winner_0 ∨ … ∨ winner_{k−1})   (first argmax only)
        ∂L/∂x_k  = δ ⊙ winner_k                               (added into offset k's slice)

    The backward recomputes the argmax masks from the saved x_pad and y: one comparison
    per offset on output-sized arrays is cheaper than keeping an argmax index array
    up to date in the forward (a masked assignment per offset).
    """

    def forward(self, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        self.one_d = x.ndim == 3
        x4 = _as_4d(x)
        pads = tuple((p, p) for p in padding)
        x_pad = pad_spatial(x4, pads, value=-xp.inf)
        Ho = _output_size(x4.shape[2], kernel[0], stride[0], padding[0], dilation[0])
        Wo = _output_size(x4.shape[3], kernel[1], stride[1], padding[1], dilation[1])
        slices = offset_slices((Ho, Wo), kernel, stride, dilation)
        _, _, rows, cols = slices[0]
        y = x_pad[:, :, rows, cols].copy()
        for _, _, rows, cols in slices[1:]:
            xp.maximum(y, x_pad[:, :, rows, cols], out=y)
        self.x_pad, self.y, self.slices, self.pads, self.x_shape = x_pad, y, slices, pads, x4.shape
        # windows overlap when the stride is shorter than the (dilated) window's extent
        self.overlapping = any(
            s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation, strict=True)
        )
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, grad_output):
        g = _as_4d(grad_output)
        grad_pad = xp.zeros(self.x_pad.shape, dtype=g.dtype)
        claimed = xp.zeros(self.y.shape, dtype=bool)  # windows whose argmax was already found
        for _, _, rows, cols in self.slices:
            winner = self.x_pad[:, :, rows, cols] == self.y
            winner &= ~claimed
            claimed |= winner
            if self.overlapping:
                grad_pad[:, :, rows, cols] += g * winner
            else:  # every input element lies in one window at most: write the slice directly
                xp.multiply(g, winner, out=grad_pad[:, :, rows, cols])
        grad = crop_spatial(grad_pad, self.pads, self.x_shape)
        return (grad[:, :, 0, :] if self.one_d else grad,)


class AvgPool2dFunction(Function):
    """y[n, c, i, j] = (1/(kh·kw)) Σ over the window of x_pad; ∂L/∂x = δ/(kh·kw) in each window.

    The zero padding counts in the average, as PyTorch's default ``count_include_pad=True``.
    """

    def forward(self, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0)):
        self.one_d = x.ndim == 3
        x4 = _as_4d(x)
        pads = tuple((p, p) for p in padding)
        x_pad = pad_spatial(x4, pads)
        Ho = _output_size(x4.shape[2], kernel[0], stride[0], padding[0], 1)
        Wo = _output_size(x4.shape[3], kernel[1], stride[1], padding[1], 1)
        slices = offset_slices((Ho, Wo), kernel, stride, (1, 1))
        _, _, rows, cols = slices[0]
        y = x_pad[:, :, rows, cols].copy()
        for _, _, rows, cols in slices[1:]:
            y += x_pad[:, :, rows, cols]
        y *= 1.0 / len(slices)
        self.slices, self.pads, self.x_shape, self.x_pad_shape = slices, pads, x4.shape, x_pad.shape
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, grad_output):
        g = _as_4d(grad_output) * (1.0 / len(self.slices))
        grad_pad = xp.zeros(self.x_pad_shape, dtype=g.dtype)
        for _, _, rows, cols in self.slices:
            grad_pad[:, :, rows, cols] += g
        grad = crop_spatial(grad_pad, self.pads, self.x_shape)
        return (grad[:, :, 0, :] if self.one_d else grad,)


def adaptive_matrix(size: int, out_size: int, dtype):
    """The (out_size, size) averaging matrix of PyTorch's adaptive pooling.

    Row i averages x[start:end] with start = ⌊i·size/out⌋ and end = ⌈(i + 1)·size/out⌉.
    """
    A = xp.zeros((out_size, size), dtype=dtype)
    for i in range(out_size):
        start = (i * size) // out_size
        end = -((-(i + 1) * size) // out_size)
        A[i, start:end] = 1.0 / (end - start)
    return A


class AdaptiveAvgPool2dFunction(Function):
    """y = A_h · x · A_wᵀ over the last two axes (A from :func:`adaptive_matrix`);
    ∂L/∂x = A_hᵀ · δ · A_w."""

    def forward(self, x, output_size=(1, 1)):
        self.A_h = adaptive_matrix(x.shape[2], output_size[0], x.dtype)
        self.A_w = adaptive_matrix(x.shape[3], output_size[1], x.dtype)
        return xp.matmul(xp.matmul(self.A_h, x), self.A_w.T)

    def backward(self, grad_output):
        return (xp.matmul(xp.matmul(self.A_h.T, grad_output), self.A_w),)


# ----------------------------------------------------------------------- public API
def _pool_args(spatial, input, kernel_size, stride, padding, dilation, owner):
    dims = ("L",) if spatial == 1 else ("H", "W")
    if input.ndim != spatial + 2:
        raise ValueError(f"{owner}: expected input of shape (N, C, {', '.join(dims)}), "
                         f"received {tuple(input.shape)}")
    kernel = to_tuple(kernel_size, spatial, "kernel_size", owner)
    stride = kernel if stride is None else to_tuple(stride, spatial, "stride", owner)
    padding = to_tuple(padding, spatial, "padding", owner)
    dilation = to_tuple(dilation, spatial, "dilation", owner)
    for name, values, low in (("kernel_size", kernel, 1), ("stride", stride, 1),
                              ("dilation", dilation, 1), ("padding", padding, 0)):
        if any(v < low for v in values):
            raise ValueError(f"{owner}: expected {name} ≥ {low}, received {values}")
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"{owner}: padding should be at most half of kernel_size, "
                         f"received padding {padding} with kernel_size {kernel}")
    for axis, (size, k, p, d) in enumerate(
        zip(input.shape[2:], kernel, padding, dilation, strict=True)
    ):
        if size + 2 * p < d * (k - 1) + 1:
            raise ValueError(
                f"{owner}: expected input of shape (N, C, {', '.join(dims)}) with padded "
                f"{dims[axis]} ≥ the kernel size {d * (k - 1) + 1}, received {tuple(input.shape)}"
            )
    if spatial == 1:
        kernel, stride, padding, dilation = (
            (1,) + kernel,
            (1,) + stride,
            (0,) + padding,
            (1,) + dilation,
        )
    return kernel, stride, padding, dilation


def max_pool2d(input, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
               padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1) -> Tensor:
    """2-D max pooling: the largest value of each (dilated) window, padding with −∞.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)
        At most half the kernel size, as in PyTorch.
    dilation : int or (int, int)

    Returns
    -------
    Tensor, shape (N, C, Ho, Wo), Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.
    The gradient goes to the (first) argmax of each window.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> F.max_pool2d(x, 2).numpy()[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    kernel, stride, padding, dilation = _pool_args(2, input, kernel_size, stride, padding, dilation,
                                                   "max_pool2d")
    return MaxPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding,
                                   dilation=dilation)


def max_pool1d(input, kernel_size: int, stride: int | None = None, padding: int = 0,
               dilation: int = 1) -> Tensor:
    """1-D max pooling of (N, C, L) → (N, C, Lo); see :func:`max_pool2d`."""
    kernel, stride, padding, dilation = _pool_args(1, input, kernel_size, stride, padding, dilation,
                                                   "max_pool1d")
    return MaxPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding,
                                   dilation=dilation)


def avg_pool2d(input, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
               padding: int | Sequence[int] = 0) -> Tensor:
    """2-D average pooling, zero padding included in the average (``count_include_pad=True``).

    ``y[n, c, i, j] = (1/(kh·kw)) Σ_{p, q} x_pad[n, c, i·s_h + p, j·s_w + q]``

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)

    Returns
    -------
    Tensor, shape (N, C, Ho, Wo).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> F.avg_pool2d(x, 2).numpy()[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    kernel, stride, padding, _ = _pool_args(2, input, kernel_size, stride, padding, 1, "avg_pool2d")
    return AvgPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding)


def avg_pool1d(input, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor:
    """1-D average pooling of (N, C, L) → (N, C, Lo); see :func:`avg_pool2d`."""
    kernel, stride, padding, _ = _pool_args(1, input, kernel_size, stride, padding, 1, "avg_pool1d")
    return AvgPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding)


def adaptive_output_size(output_size, input_shape, owner: str) -> tuple:
    """Resolve an int or (int | None, int | None) output size against the input's (H, W)."""
    if isinstance(output_size, (int, xp.integer)) and not isinstance(output_size, bool):
        output_size = (int(output_size), int(output_size))
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(
            f"{owner}: expected output_size to be an int or a pair, received {output_size!r}"
        )
    sizes = []
    for size, full in zip(output_size, input_shape[-2:], strict=True):
        size = full if size is None else size
        if not isinstance(size, (int, xp.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(
                f"{owner}: expected output sizes to be ints ≥ 1 or None, received {output_size!r}"
            )
        sizes.append(int(size))
    return tuple(sizes)


def adaptive_avg_pool2d(input, output_size: int | Sequence[int | None]) -> Tensor:
    """Average pooling to a fixed output size, with PyTorch's window rule.

    Output cell i (along H) averages rows ⌊i·H/Ho⌋ … ⌈(i + 1)·H/Ho⌉ − 1, likewise along W;
    ``output_size=1`` is global average pooling. ``None`` keeps that input size.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
    output_size : int or (int | None, int | None)

    Returns
    -------
    Tensor, shape (N, C, Ho, Wo).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> F.adaptive_avg_pool2d(cr.tensor(np.ones((2, 3, 5, 7))), 1).shape
    (2, 3, 1, 1)
    """
    if input.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W), "
                         f"received {tuple(input.shape)}")
    size = adaptive_output_size(output_size, input.shape, "adaptive_avg_pool2d")
    return AdaptiveAvgPool2dFunction.apply(input, output_size=size)

