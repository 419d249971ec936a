"""Convolution layers ``Conv1d``, ``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d``
(PyTorch's layouts and default initialisation)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import functional as F
from ..backend import xp
from ..functional.conv import conv_padding, to_tuple
from ..tensor import Tensor
from . import init
from .linear import as_input, check_positive_int, resolve_dtype
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


class _ConvNd(Module):
    """Shared constructor, initialisation, input checks and forward of Conv1d and Conv2d;
    a subclass sets ``spatial``, ``dims`` and ``_conv`` (the functional op)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        name = type(self).__name__
        n = self.spatial
        self.in_channels = check_positive_int(name, "in_channels", in_channels)
        self.out_channels = check_positive_int(name, "out_channels", out_channels)
        self.groups = check_positive_int(name, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                f"must both be divisible by groups, received groups={groups}"
            )
        self.kernel_size = to_tuple(kernel_size, n, "kernel_size", name)
        self.stride = to_tuple(stride, n, "stride", name)
        self.dilation = to_tuple(dilation, n, "dilation", name)
        for arg in ("kernel_size", "stride", "dilation"):
            if any(v < 1 for v in getattr(self, arg)):
                raise ValueError(f"{name}: expected {arg} ≥ 1, received {getattr(self, arg)}")
        self.padding = (
            padding if isinstance(padding, str) else to_tuple(padding, n, "padding", name)
        )
        conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, name)  # validates
        dtype = resolve_dtype(name, dtype)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(xp.empty(shape, dtype=dtype), dtype=dtype)
        if bias:
            self.bias = Parameter(xp.empty((self.out_channels,), dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) = U(±1/√fan_in) for the weight and the bias.

        fan_in = (in_channels / groups) · prod(kernel_size).
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input) -> Tensor:
        x = as_input(input, self.weight.dtype)
        self._check_input(x)
        return self._conv(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def _short_repr(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size})")

    def _check_input(self, x) -> None:
        expected = f"(N, {self.in_channels}, {', '.join(self.dims)})"
        if x.ndim != self.spatial + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self._short_repr()}: expected input of shape {expected}, "
                f"received {tuple(x.shape)}"
            )
        pads = conv_padding(
            self.padding, self.kernel_size, self.stride, self.dilation, type(self).__name__
        )
        for size, k, d, (lo, hi) in zip(
            x.shape[2:], self.kernel_size, self.dilation, pads, strict=True
        ):
            if size + lo + hi < d * (k - 1) + 1:
                extent = tuple(
                    d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True)
                )
                raise ValueError(
                    f"{self._short_repr()}: expected input of shape {expected} with each spatial "
                    f"size (after padding {self.padding}) at least the kernel extent {extent}, "
                    f"received {tuple(x.shape)}"
                )

    def get_config(self) -> dict:
        """The constructor arguments, JSON-serialisable (tuples become lists in JSON)."""
        unpack = (lambda v: v[0]) if self.spatial == 1 else list
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": unpack(self.kernel_size),
            "stride": unpack(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else unpack(self.padding),
            "dilation": unpack(self.dilation),
            "groups": self.groups,
            "bias": self.bias is not None,
        }

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        if self.padding != (0,) * self.spatial:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) inputs (PyTorch's ``nn.Conv2d``).

    ``y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, g·C/G + c]`` (cross-correlation ⋆, per group g),
    computed by im2col + GEMM (see :func:`chainrule.functional.conv2d`).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'
    groups : int
        ``groups == in_channels`` gives a depthwise convolution.
    bias : bool
    dtype : dtype, optional
        Parameter dtype (float32 by default).
    generator : numpy.random.Generator, optional
        Randomness for :meth:`reset_parameters`.

    Notes
    -----
    Shapes: input (N, C_in, H, W) → output (N, C_out, Ho, Wo),
    Ho = ⌊(H + pad_h − d_h(kh − 1) − 1)/s_h⌋ + 1; ``weight`` is (C_out, C_in/groups, kh, kw),
    ``bias`` (C_out,).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> conv = nn.Conv2d(3, 8, 3, padding=1, generator=np.random.default_rng(0))
    >>> conv(np.zeros((2, 3, 16, 16))).shape
    (2, 8, 16, 16)
    """

    spatial = 2
    dims = ("H", "W")

    _conv = staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs (PyTorch's ``nn.Conv1d``).

    Parameters are those of :class:`Conv2d` with single ints; ``weight`` is
    (C_out, C_in/groups, k). Output length Lo = ⌊(L + pad − d(k − 1) − 1)/s⌋ + 1.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> conv = nn.Conv1d(4, 6, 5, stride=2, generator=np.random.default_rng(0))
    >>> conv(np.zeros((2, 4, 20))).shape
    (2, 6, 8)
    """

    spatial = 1
    dims = ("L",)

    _conv = staticmethod(F.conv1d)


class _ConvTransposeNd(Module):
    """Shared constructor, initialisation and forward of ConvTranspose1d and ConvTranspose2d;
    a subclass sets ``spatial``, ``dims`` and ``_conv`` (the functional op)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        name = type(self).__name__
        n = self.spatial
        self.in_channels = check_positive_int(name, "in_channels", in_channels)
        self.out_channels = check_positive_int(name, "out_channels", out_channels)
        self.groups = check_positive_int(name, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                f"must both be divisible by groups, received groups={groups}"
            )
        for arg, value, low in (
            ("kernel_size", kernel_size, 1),
            ("stride", stride, 1),
            ("padding", padding, 0),
            ("output_padding", output_padding, 0),
            ("dilation", dilation, 1),
        ):
            values = to_tuple(value, n, arg, name)
            if any(v < low for v in values):
                raise ValueError(f"{name}: expected {arg} ≥ {low}, received {values}")
            setattr(self, arg, values)
        if any(
            op >= max(s, d)
            for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True)
        ):
            raise ValueError(
                f"{name}: output_padding must be smaller than stride or dilation, received "
                f"{self.output_padding} with stride {self.stride}"
            )
        dtype = resolve_dtype(name, dtype)
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self.weight = Parameter(xp.empty(shape, dtype=dtype), dtype=dtype)
        if bias:
            self.bias = Parameter(xp.empty((self.out_channels,), dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) for the weight and U(±1/√fan_in) for the bias,
        fan_in = (out_channels / groups) · prod(kernel_size): the weight's dimension 1 times
        its kernel."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input) -> Tensor:
        x = as_input(input, self.weight.dtype)
        if x.ndim != self.spatial + 2 or x.shape[1] != self.in_channels:
            expected = f"(N, {self.in_channels}, {', '.join(self.dims)})"
            raise ValueError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}): expected "
                f"input of shape {expected}, received {tuple(x.shape)}"
            )
        return self._conv(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )

    def get_config(self) -> dict:
        """The constructor arguments, JSON-serialisable."""
        unpack = (lambda v: v[0]) if self.spatial == 1 else list
        config: dict[str, object] = {
            "in_channels": self.in_channels, "out_channels": self.out_channels
        }
        for arg in ("kernel_size", "stride", "padding", "output_padding", "dilation"):
            config[arg] = unpack(getattr(self, arg))
        config.update(groups=self.groups, bias=self.bias is not None)
        return config

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        for arg, default in (("padding", 0), ("output_padding", 0), ("dilation", 1)):
            if getattr(self, arg) != (default,) * self.spatial:
                text += f", {arg}={getattr(self, arg)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (PyTorch's ``nn.ConvTranspose2d``), the gradient map of Conv2d:

    ``y[n, o, i·s + p·d − pad, j·s + q·d − pad] += Σ_c x[n, c, i, j] W[c, o, p, q]`` (per group),
    see :func:`chainrule.functional.conv_transpose2d`.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, output_padding, dilation : int or (int, int)
        ``output_padding`` (< stride or dilation) adds rows/columns at the bottom/right, to
        pick among the input sizes a strided Conv2d maps to the same output size.
    groups : int
    bias : bool
    dtype, generator : optional

    Notes
    -----
    Shapes: input (N, C_in, H, W) → output (N, C_out, H_out, W_out) with
    H_out = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1; ``weight`` is
    (C_in, C_out/groups, kh, kw), ``bias`` (C_out,).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> up = nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1, generator=np.random.default_rng(0))
    >>> up(np.zeros((2, 8, 7, 7))).shape
    (2, 3, 14, 14)
    """

    spatial = 2
    dims = ("H", "W")

    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution of (N, C_in, L) (PyTorch's ``nn.ConvTranspose1d``);
    parameters of :class:`ConvTranspose2d` with single ints, ``weight`` (C_in, C_out/groups, k),
    L_out = (L − 1)·s − 2·pad + d·(k − 1) + output_padding + 1.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> up = nn.ConvTranspose1d(4, 2, 3, stride=2, generator=np.random.default_rng(0))
    >>> up(np.zeros((1, 4, 5))).shape
    (1, 2, 11)
    """

    spatial = 1
    dims = ("L",)

    _conv = staticmethod(F.conv_transpose1d)
