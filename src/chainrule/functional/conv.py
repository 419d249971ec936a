"""Convolutions ``conv1d`` and ``conv2d`` by im2col and GEMM (PyTorch's layouts).

How it works
------------
The padded input is viewed (no copy) as sliding windows with the strides that
``stride`` and ``dilation`` imply. One copy lays the windows out as columns,
grouped as ``(groups, C/groups · kh · kw, N · Ho · Wo)`` ("im2col"), and then
each group is one matrix product with its slice of the weight::

    y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x_pad[n, g·C_g + c, i·s_h + p·d_h, j·s_w +
    q·d_w]

where ``g`` is the group of output channel ``o``. The backward reuses the
columns for ∂L/∂W (one GEMM per group) and returns ∂L/∂x through "col2im":
a loop over the kh·kw kernel offsets, each adding one strided slice, so no
scatter (``np.add.at``) is needed. ``conv1d`` runs the same code with a height
of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d"]

_as_strided = xp.lib.stride_tricks.as_strided


def window_view(x, kernel, stride, dilation):
    """A read-only view of ``x`` (N, C, H, W) as windows (N, C, Ho, Wo, kh, kw).

    ``out[n, c, i, j, p, q] = x[n, c, i·s_h + p·d_h, j·s_w + q·d_w]``; no copy is made.
    """
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    Ho = (H - dh * (kh - 1) - 1) // sh + 1
    Wo = (W - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = x.strides
    return _as_strided(
        x,
        shape=(N, C, Ho, Wo, kh, kw),
        strides=(s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
        writeable=False,
    )


def offset_slices(out_hw, kernel, stride, dilation):
    """For each kernel offset (p, q), the (rows, cols) slices of the padded input it touches.

    Offset (p, q) meets the input at rows p·d_h, p·d_h + s_h, …, (Ho − 1 terms later);
    these are the strided slices col2im and the pools' backward add into.
    """
    (Ho, Wo), (kh, kw), (sh, sw), (dh, dw) = out_hw, kernel, stride, dilation
    slices = []
    for p in range(kh):
        rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
        for q in range(kw):
            slices.append((p, q, rows, slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)))
    return slices


def pad_spatial(x, padding, value=0.0):
    """Pad the last two axes by ``((top, bottom), (left, right))``; no copy when all are 0."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    N, C, H, W = x.shape
    out = xp.full((N, C, H + top + bottom, W + left + right), value, dtype=x.dtype)
    out[:, :, top:top + H, left:left + W] = x
    return out


def crop_spatial(x, padding, shape):
    """Undo :func:`pad_spatial`: the centre of ``x`` with the original ``shape``."""
    (top, _), (left, _) = padding
    return x[:, :, top:top + shape[2], left:left + shape[3]]


class Conv2dFunction(Function):
    """y = conv2d(x, W) + b by im2col + GEMM, for x (N, C, H, W) and W (O, C/G, kh, kw).

    Forward, per group g (G = ``groups``, C_g = C/G, O_g = O/G, M = N·Ho·Wo)::

        cols_g = im2col(x_pad)_g            (C_g·kh·kw, M)
        y_g    = W_g · cols_g               (O_g, M),  W_g = W[g·O_g:(g+1)·O_g] as (O_g, C_g·kh·kw)

    Backward, with δ = ∂L/∂y laid out per group as δ_g (O_g, M):

    * ∂L/∂W_g = δ_g · cols_gᵀ
    * ∂L/∂b   = Σ_{n, i, j} δ[n, :, i, j]
    * ∂L/∂cols_g = W_gᵀ · δ_g, and ∂L/∂x = col2im(∂L/∂cols): for each kernel offset
      (p, q) the slab ∂L/∂cols[:, p, q] is added to the strided slice of ∂L/∂x_pad that
      offset read, and the padding is cropped off.

    A 3-D input (N, C, L) with a 3-D weight (O, C/G, k) is treated as height 1.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        self.one_d = x.ndim == 3
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        N, C, H, W = x.shape
        C_out, Cg, kh, kw = weight.shape
        G = groups
        C_out_g = C_out // G
        x_pad = pad_spatial(x, padding)
        windows = window_view(x_pad, (kh, kw), stride, dilation)
        Ho, Wo = windows.shape[2:4]
        # (N, G, Cg, Ho, Wo, kh, kw) -> (G, Cg, kh, kw, N, Ho, Wo): one copy, inner axis Wo
        cols = xp.ascontiguousarray(
            windows.reshape(N, G, Cg, Ho, Wo, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
        ).reshape(G, Cg * kh * kw, N * Ho * Wo)
        w_mat = weight.reshape(G, C_out_g, Cg * kh * kw)
        y = xp.matmul(w_mat, cols)  # (G, C_out_g, M)
        y = xp.ascontiguousarray(y.reshape(C_out, N, Ho, Wo).transpose(1, 0, 2, 3))
        if bias is not None:
            y += bias.reshape(1, C_out, 1, 1)
        self.cols, self.w_mat = cols, w_mat
        self.x_shape, self.x_pad_shape, self.w_shape = (N, C, H, W), x_pad.shape, weight.shape
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, G
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, grad_output):
        g = grad_output[:, :, None, :] if self.one_d else grad_output
        N, C_out, Ho, Wo = g.shape
        G = self.groups
        _, Cg, kh, kw = self.w_shape
        needs = self.needs_input_grad
        # δ laid out per group: (G, C_out_g, M)
        delta = xp.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(G, C_out // G, N * Ho * Wo)
        gx = gw = gb = None
        if needs[1]:
            gw = xp.matmul(delta, self.cols.transpose(0, 2, 1)).reshape(self.w_shape)
            if self.one_d:
                gw = gw[:, :, 0, :]
        if len(needs) > 2 and needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        if needs[0]:
            dcols = xp.matmul(self.w_mat.transpose(0, 2, 1), delta)  # (G, Cg·kh·kw, M)
            dcols = dcols.reshape(G, Cg, kh, kw, N, Ho, Wo)
            gx_pad = xp.zeros(self.x_pad_shape, dtype=g.dtype)
            grouped = gx_pad.reshape(N, G, Cg, *self.x_pad_shape[2:])
            for p, q, rows, cols in offset_slices((Ho, Wo), (kh, kw), self.stride, self.dilation):
                grouped[:, :, :, rows, cols] += dcols[:, :, p, q].transpose(2, 0, 1, 3, 4)
            gx = crop_spatial(gx_pad, self.padding, self.x_shape)
            if self.one_d:
                gx = gx[:, :, 0, :]
        return gx, gw, gb


# ----------------------------------------------------------------- argument checks
def to_tuple(value, n: int, name: str, owner: str) -> tuple:
    """An int or a length-``n`` sequence of ints as an n-tuple; raises naming ``owner``."""
    if isinstance(value, (int, xp.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, (int, xp.integer)) and not isinstance(v, bool) for v in value
    ):
        return tuple(int(v) for v in value)
    raise TypeError(
        f"{owner}: expected {name} to be an int or a tuple of {n} ints, received {value!r}"
    )


def conv_padding(padding, kernel, stride, dilation, owner: str) -> tuple:
    """Resolve ``padding`` (int, tuple, 'valid' or 'same') to ((lo, hi), …) per spatial axis.

    'same' pads a total of d·(k − 1) per axis, the extra one (if odd) at the end, as
    PyTorch does; like PyTorch it requires stride 1.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{owner}: padding='same' requires stride 1, received stride {stride}"
                )
            pads = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(
            f"{owner}: expected padding 'same', 'valid', an int or a tuple, received {padding!r}"
        )
    sizes = to_tuple(padding, n, "padding", owner)
    if any(p < 0 for p in sizes):
        raise ValueError(f"{owner}: expected padding ≥ 0, received {padding!r}")
    return tuple((p, p) for p in sizes)


def _check_positive(values, name, owner):
    if any(v < 1 for v in values):
        raise ValueError(f"{owner}: expected {name} ≥ 1, received {values}")


def _conv(spatial: int, input, weight, bias, stride, padding, dilation, groups, owner):
    dims = ("L",) if spatial == 1 else ("H", "W")
    if input.ndim != spatial + 2:
        raise ValueError(
            f"{owner}: expected input of shape (N, C, {', '.join(dims)}), received "
            f"{tuple(input.shape)}"
        )
    if weight.ndim != spatial + 2:
        raise ValueError(
            f"{owner}: expected a {spatial + 2}-D weight (out, in/groups, "
            f"{', '.join('k' + d.lower() for d in dims)}), received {tuple(weight.shape)}"
        )
    if not isinstance(groups, (int, xp.integer)) or groups < 1:
        raise ValueError(f"{owner}: expected groups to be an int ≥ 1, received {groups!r}")
    kernel = tuple(weight.shape[2:])
    stride = to_tuple(stride, spatial, "stride", owner)
    dilation = to_tuple(dilation, spatial, "dilation", owner)
    _check_positive(stride, "stride", owner)
    _check_positive(dilation, "dilation", owner)
    pads = conv_padding(padding, kernel, stride, dilation, owner)
    out_channels, in_per_group = weight.shape[:2]
    channels = in_per_group * groups
    if out_channels % groups:
        raise ValueError(f"{owner}: expected out channels divisible by groups={groups}, "
                         f"received weight of shape {tuple(weight.shape)}")
    if input.shape[1] != channels:
        raise ValueError(
            f"{owner}: expected input of shape (N, {channels}, {', '.join(dims)}), "
            f"received {tuple(input.shape)}"
        )
    for axis, (size, k, d, (lo, hi)) in enumerate(
        zip(input.shape[2:], kernel, dilation, pads, strict=True)
    ):
        if size + lo + hi < d * (k - 1) + 1:
            raise ValueError(
                f"{owner}: input {dims[axis]}={size} (padded {size + lo + hi}) is smaller than the "
                f"dilated kernel size {d * (k - 1) + 1}; expected input of shape (N, {channels}, "
                f"{', '.join(dims)}) with each padded spatial size ≥ the dilated kernel, "
                f"received {tuple(input.shape)}"
            )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(
            f"{owner}: expected bias of shape ({out_channels},), received {tuple(bias.shape)}"
        )
    if spatial == 1:
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    options = {"stride": stride, "padding": pads, "dilation": dilation, "groups": int(groups)}
    if bias is None:
        return Conv2dFunction.apply(input, weight, **options)
    return Conv2dFunction.apply(input, weight, bias, **options)


def conv2d(input, weight, bias=None, stride: int | Sequence[int] = 1,
           padding: int | Sequence[int] | str = 0, dilation: int | Sequence[int] = 1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), PyTorch's semantics.

    ``y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x_pad[n, g·C/G + c, i·s_h + p·d_h, j·s_w +
    q·d_w]``
    with ``g = o // (O/G)`` the group of output channel ``o``.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W)
    weight : Tensor, shape (O, C/groups, kh, kw)
    bias : Tensor, shape (O,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'
        Zero padding on each side; 'same' (stride 1 only) keeps H and W.
    groups : int
        Split the channels into this many independent convolutions (C for depthwise).

    Returns
    -------
    Tensor, shape (N, O, Ho, Wo) with Ho = ⌊(H + pad_h − d_h(kh − 1) − 1) / s_h⌋ + 1 (likewise Wo).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.ones((1, 1, 4, 4)))
    >>> F.conv2d(x, cr.tensor(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups,
                 f"conv2d (weight shape {tuple(weight.shape)})")


def conv1d(input, weight, bias=None, stride: int | Sequence[int] = 1,
           padding: int | Sequence[int] | str = 0, dilation: int | Sequence[int] = 1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation, PyTorch's semantics.

    ``y[n, o, i] = b[o] + Σ_{c, p} W[o, c, p] · x_pad[n, g·C/G + c, i·s + p·d]``.

    Parameters
    ----------
    input : Tensor, shape (N, C, L)
    weight : Tensor, shape (O, C/groups, k)
    bias : Tensor, shape (O,), optional
    stride, dilation : int
    padding : int, 'valid' or 'same'
    groups : int

    Returns
    -------
    Tensor, shape (N, O, Lo) with Lo = ⌊(L + 2·pad − d(k − 1) − 1) / s⌋ + 1.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.ones((2, 3, 10)))
    >>> F.conv1d(x, cr.tensor(np.ones((4, 3, 3))), stride=2).shape
    (2, 4, 4)
    """
    return _conv(1, input, weight, bias, stride, padding, dilation, groups,
                 f"conv1d (weight shape {tuple(weight.shape)})")
