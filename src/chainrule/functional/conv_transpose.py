"""Transposed convolutions ``conv_transpose1d`` and ``conv_transpose2d`` (PyTorch's layouts).

How it works
------------
A transposed convolution is the input-gradient map of a convolution: each input
pixel scatters its channels, through the kernel, onto a stride-spaced patch of
the output. With W of shape (C_in, C_out/G, kh, kw) and groups G::

    y_full[n, o, i·s_h + p·d_h, j·s_w + q·d_w] += Σ_c x[n, c, i, j] · W[c, o, p, q]

(c and o in the same group), then ``output_padding`` zero rows/columns are
appended at the bottom/right and ``padding`` is cropped from every side, so
H_out = (H − 1)·s − 2·pad + d·(k − 1) + output_padding + 1, as PyTorch. The
forward is one GEMM per group followed by "col2im" (the conv backward's loop
over kernel offsets); the backward is a convolution of δ:
windows(δ_full)[n, o, i, j, p, q] = δ_full[n, o, i·s + p·d, j·s + q·d] gives

* ∂L/∂x[n, c, i, j] = Σ_{o, p, q} W[c, o, p, q] · windows[n, o, i, j, p, q]
* ∂L/∂W[c, o, p, q] = Σ_{n, i, j} x[n, c, i, j] · windows[n, o, i, j, p, q]
* ∂L/∂b[o] = Σ_{n, i, j} δ[n, o, i, j]
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd import Function
from ..backend import is_float_dtype, xp
from ..tensor import Tensor
from ._util import as_tensor
from .conv import offset_slices, to_tuple, window_view

__all__ = ["conv_transpose1d", "conv_transpose2d"]


class ConvTranspose2dFunction(Function):
    """y = conv_transpose2d(x, W) + b for x (N, C, H, W) and W (C, O/G, kh, kw); see the module
    docstring for the equation and its VJP. A 3-D input with a 3-D weight is treated as height 1."""

    fresh_grads = True

    def forward(
        self,
        x,
        weight,
        bias=None,
        stride=(1, 1),
        padding=(0, 0),
        output_padding=(0, 0),
        dilation=(1, 1),
        groups=1,
    ):
        self.one_d = x.ndim == 3
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        N, C, H, W = x.shape
        _, Og, kh, kw = weight.shape
        G, Cg = groups, C // groups
        (sh, sw), (dh, dw) = stride, dilation
        Hf, Wf = (H - 1) * sh + dh * (kh - 1) + 1, (W - 1) * sw + dw * (kw - 1) + 1
        # per group: cols (G, Og·kh·kw, N·H·W) = W_gᵀ · x_g
        x_mat = xp.ascontiguousarray(x.reshape(N, G, Cg, H * W).transpose(1, 2, 0, 3)).reshape(
            G, Cg, -1
        )
        w_mat = weight.reshape(G, Cg, Og * kh * kw)
        cols = xp.matmul(w_mat.transpose(0, 2, 1), x_mat).reshape(G, Og, kh, kw, N, H, W)
        y_full = xp.zeros((N, G, Og, Hf + output_padding[0], Wf + output_padding[1]), dtype=x.dtype)
        for p, q, rows, columns in offset_slices((H, W), (kh, kw), stride, dilation):
            y_full[:, :, :, rows, columns] += cols[:, :, p, q].transpose(2, 0, 1, 3, 4)
        (ph, pw) = padding
        y = y_full.reshape(N, G * Og, *y_full.shape[3:])
        y = y[:, :, ph : y.shape[2] - ph, pw : y.shape[3] - pw]
        if bias is not None:
            y = y + bias.reshape(1, -1, 1, 1)
        self.x_mat, self.w_mat = x_mat, w_mat
        self.x_shape, self.w_shape, self.full_hw = (N, C, H, W), weight.shape, (Hf, Wf)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, G
        return xp.ascontiguousarray(y[:, :, 0, :] if self.one_d else y)

    def backward(self, grad_output):
        g = grad_output[:, :, None, :] if self.one_d else grad_output
        N, C_out, Ho, Wo = g.shape
        (ph, pw), (Hf, Wf) = self.padding, self.full_hw
        G = self.groups
        C, Og, kh, kw = self.w_shape
        H, W = self.x_shape[2:]
        g_full = xp.zeros(
            (N, C_out, Hf, Wf), dtype=g.dtype
        )  # undo the crop; the output padding is dropped
        rows, columns = min(Ho, Hf - ph), min(Wo, Wf - pw)
        g_full[:, :, ph : ph + rows, pw : pw + columns] = g[:, :, :rows, :columns]
        # (N, C_out, H, W, kh, kw)
        windows = window_view(g_full, (kh, kw), self.stride, self.dilation)
        windows = xp.ascontiguousarray(
            windows.reshape(N, G, Og, H, W, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
        ).reshape(G, Og * kh * kw, N * H * W)
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = xp.matmul(self.w_mat, windows)  # (G, Cg, N·H·W)
            gx = gx.reshape(C, N, H, W).transpose(1, 0, 2, 3)
            gx = gx[:, :, 0, :] if self.one_d else gx
        if needs[1]:
            gw = xp.matmul(self.x_mat, windows.transpose(0, 2, 1)).reshape(self.w_shape)
            gw = gw[:, :, 0, :] if self.one_d else gw
        if len(needs) > 2 and needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb


def _conv_transpose(
    spatial, input, weight, bias, stride, padding, output_padding, groups, dilation, owner
):
    x, weight = as_tensor(input), as_tensor(weight)
    if x.ndim != spatial + 2 or weight.ndim != spatial + 2:
        dims = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
        raise ValueError(
            f"{owner}: expected input {dims} and a weight with {spatial + 2} dimensions, "
            f"received {x.shape} and {weight.shape}"
        )
    if not is_float_dtype(x.dtype):
        raise TypeError(f"{owner}: expected a floating input, received dtype {x.dtype}")
    stride, padding = (
        to_tuple(stride, spatial, "stride", owner),
        to_tuple(padding, spatial, "padding", owner),
    )
    output_padding = to_tuple(output_padding, spatial, "output_padding", owner)
    dilation = to_tuple(dilation, spatial, "dilation", owner)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{owner}: groups must be a positive int, received {groups!r}")
    for name, values, low in (
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
        ("output_padding", output_padding, 0),
    ):
        if any(v < low for v in values):
            raise ValueError(f"{owner}: expected {name} ≥ {low}, received {values}")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation, strict=True)):
        raise ValueError(
            f"{owner}: output_padding must be smaller than stride or dilation, received "
            f"output_padding {output_padding} with stride {stride}, dilation {dilation}"
        )
    C = x.shape[1]
    if weight.shape[0] != C or C % groups:
        raise ValueError(
            f"{owner}: expected a weight of shape ({C}, out_channels/groups, ...) with {C} "
            f"divisible by groups={groups}, received weight {weight.shape}"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(
            f"{owner}: expected bias of shape ({out_channels},), received {tuple(bias.shape)}"
        )
    kernel = weight.shape[2:]
    out = [
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(
            x.shape[2:], stride, padding, dilation, kernel, output_padding, strict=True
        )
    ]
    if any(o < 1 for o in out):
        raise ValueError(f"{owner}: padding {padding} leaves an empty output for input {x.shape}")
    if spatial == 1:  # height 1: unit stride and dilation, no padding along it
        stride, dilation = (1,) + stride, (1,) + dilation
        padding, output_padding = (0,) + padding, (0,) + output_padding
    args = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2dFunction.apply(
        *args,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """2-D transposed convolution ("deconvolution"), PyTorch's ``F.conv_transpose2d``.

    Shapes: input (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,) →
    output (N, C_out, H_out, W_out), H_out = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> F.conv_transpose2d(cr.tensor(np.ones((1, 2, 3, 3))), cr.tensor(np.ones((2, 4, 2, 2))),
    ...                    stride=2).shape
    (1, 4, 6, 6)
    """
    return _conv_transpose(
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        "conv_transpose2d",
    )


def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    groups: int = 1,
    dilation: int = 1,
) -> Tensor:
    """1-D transposed convolution of (N, C_in, L) with weight (C_in, C_out/groups, k);
    see :func:`conv_transpose2d`."""
    return _conv_transpose(
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        "conv_transpose1d",
    )
