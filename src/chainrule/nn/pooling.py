"""Pooling layers: ``MaxPool1d``, ``MaxPool2d``, ``AvgPool1d``, ``AvgPool2d`` and the adaptive
``AdaptiveAvgPool1d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool1d``, ``AdaptiveMaxPool2d``.

They hold no parameters; each forwards to the functional pool of the same
name and checks its input first, naming the layer in the error.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import functional as F
from ..functional.conv import to_tuple
from ..functional.pool import adaptive_output_size
from ..tensor import Tensor
from .linear import as_input
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "MaxPool1d",
    "MaxPool2d",
]


class _PoolNd(Module):
    spatial = 2
    dims: tuple[str, ...] = ("H", "W")
    has_dilation = True

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        name, n = type(self).__name__, self.spatial
        self.kernel_size = to_tuple(kernel_size, n, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else to_tuple(stride, n, "stride", name)
        self.padding = to_tuple(padding, n, "padding", name)
        self.dilation = to_tuple(dilation, n, "dilation", name)
        for arg, low in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0)):
            if any(v < low for v in getattr(self, arg)):
                raise ValueError(f"{name}: expected {arg} ≥ {low}, received {getattr(self, arg)}")
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"{name}: padding should be at most half of kernel_size, received "
                f"padding {self.padding} with kernel_size {self.kernel_size}"
            )

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def _short_repr(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"

    def _input(self, input) -> Tensor:
        x = as_input(input, None)
        expected = f"(N, C, {', '.join(self.dims)})"
        if x.ndim != self.spatial + 2:
            raise ValueError(
                f"{self._short_repr()}: expected input of shape {expected}, "
                f"received {tuple(x.shape)}"
            )
        for size, k, p, d in zip(
            x.shape[2:], self.kernel_size, self.padding, self.dilation, strict=True
        ):
            if size + 2 * p < d * (k - 1) + 1:
                raise ValueError(
                    f"{self._short_repr()}: expected input of shape {expected} with each "
                    f"spatial size (after padding {self.padding}) at least the kernel size "
                    f"{self.kernel_size}, "
                    f"received {tuple(x.shape)}"
                )
        return x

    def _unpack(self, value):
        return value[0] if self.spatial == 1 else list(value)

    def get_config(self) -> dict:
        """The constructor arguments, JSON-serialisable."""
        config = {
            "kernel_size": self._unpack(self.kernel_size),
            "stride": self._unpack(self.stride),
            "padding": self._unpack(self.padding),
        }
        if self.has_dilation:
            config["dilation"] = self._unpack(self.dilation)
        return config

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.has_dilation and self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        return text


class MaxPool2d(_PoolNd):
    """2-D max pooling (PyTorch's ``nn.MaxPool2d``): the maximum of each window, padding with −∞.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)
        At most half the kernel size.
    dilation : int or (int, int)

    Notes
    -----
    Shapes: (N, C, H, W) → (N, C, Ho, Wo), Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.MaxPool2d(2)(np.zeros((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    """

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
    ):
        super().__init__(kernel_size, stride, padding, dilation)

    def forward(self, input) -> Tensor:
        return F.max_pool2d(
            self._input(input), self.kernel_size, self.stride, self.padding, self.dilation
        )


class MaxPool1d(_PoolNd):
    """1-D max pooling of (N, C, L) inputs (PyTorch's ``nn.MaxPool1d``); see :class:`MaxPool2d`.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.MaxPool1d(3, stride=2)(np.zeros((2, 4, 9))).shape
    (2, 4, 4)
    """

    spatial = 1
    dims = ("L",)

    def __init__(
        self, kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1
    ):
        super().__init__(kernel_size, stride, padding, dilation)

    def forward(self, input) -> Tensor:
        return F.max_pool1d(
            self._input(input), self.kernel_size, self.stride, self.padding, self.dilation
        )


class AvgPool2d(_PoolNd):
    """2-D average pooling (PyTorch's ``nn.AvgPool2d``, ``count_include_pad=True``).

    ``y[n, c, i, j] = (1/(kh·kw)) Σ_{p, q} x_pad[n, c, i·s_h + p, j·s_w + q]``, zero padding
    counted.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AvgPool2d(2)(np.ones((1, 1, 4, 4))).numpy().ravel()
    array([1., 1., 1., 1.], dtype=float32)
    """

    has_dilation = False

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
    ):
        super().__init__(kernel_size, stride, padding)

    def forward(self, input) -> Tensor:
        return F.avg_pool2d(self._input(input), self.kernel_size, self.stride, self.padding)


class AvgPool1d(_PoolNd):
    """1-D average pooling of (N, C, L) inputs (PyTorch's ``nn.AvgPool1d``); see :class:`AvgPool2d`.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AvgPool1d(2)(np.ones((2, 3, 8))).shape
    (2, 3, 4)
    """

    spatial = 1
    dims = ("L",)
    has_dilation = False

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0):
        super().__init__(kernel_size, stride, padding)

    def forward(self, input) -> Tensor:
        return F.avg_pool1d(self._input(input), self.kernel_size, self.stride, self.padding)


class _AdaptivePool2d(Module):
    """Shared constructor and checks of the 2-D adaptive pools; a subclass sets ``_pool``."""

    def __init__(self, output_size: int | Sequence[int | None]):
        super().__init__()
        if isinstance(output_size, (tuple, list)):
            output_size = tuple(output_size)
        adaptive_output_size(output_size, (1, 1), type(self).__name__)  # validates
        self.output_size = output_size

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        x = as_input(input, None)
        if x.ndim != 4:
            raise ValueError(
                f"{type(self).__name__}(output_size={self.output_size!r}): expected input "
                f"of shape (N, C, H, W), received {tuple(x.shape)}"
            )
        return self._pool(x, self.output_size)

    def get_config(self) -> dict:
        size = self.output_size
        return {"output_size": list(size) if isinstance(size, tuple) else size}

    def extra_repr(self) -> str:
        return f"output_size={self.output_size!r}"


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """Average pooling to a fixed output size (PyTorch's ``nn.AdaptiveAvgPool2d``).

    Output cell i along H averages rows ⌊i·H/Ho⌋ … ⌈(i + 1)·H/Ho⌉ − 1 (likewise W);
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Parameters
    ----------
    output_size : int or (int | None, int | None)
        None keeps that input dimension.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AdaptiveAvgPool2d(1)(np.ones((2, 5, 7, 7))).shape
    (2, 5, 1, 1)
    """

    _pool = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """Max pooling to a fixed output size (PyTorch's ``nn.AdaptiveMaxPool2d``), with the
    windows of :class:`AdaptiveAvgPool2d`; the gradient goes to each window's maximum.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AdaptiveMaxPool2d((2, 3))(np.ones((2, 5, 7, 7))).shape
    (2, 5, 2, 3)
    """

    _pool = staticmethod(F.adaptive_max_pool2d)


class _AdaptivePool1d(Module):
    def __init__(self, output_size: int):
        super().__init__()
        name = type(self).__name__
        if isinstance(output_size, bool) or not isinstance(output_size, int) or output_size < 1:
            raise ValueError(f"{name}: output_size must be an int ≥ 1, received {output_size!r}")
        self.output_size = output_size

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def _input(self, input) -> Tensor:
        x = as_input(input, None)
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__}(output_size={self.output_size}): expected input of "
                f"shape (N, C, L), received {tuple(x.shape)}"
            )
        return x

    def get_config(self) -> dict:
        return {"output_size": self.output_size}

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool1d):
    """Average pooling of (N, C, L) to (N, C, output_size) (PyTorch's ``nn.AdaptiveAvgPool1d``):
    output i averages positions ⌊i·L/Lo⌋ … ⌈(i + 1)·L/Lo⌉ − 1.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AdaptiveAvgPool1d(1)(np.ones((2, 5, 9))).shape
    (2, 5, 1)
    """

    def forward(self, input) -> Tensor:
        return F.adaptive_avg_pool1d(self._input(input), self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool1d):
    """Max pooling of (N, C, L) to (N, C, output_size), the windows of :class:`AdaptiveAvgPool1d`.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.AdaptiveMaxPool1d(3)(np.ones((2, 5, 9))).shape
    (2, 5, 3)
    """

    def forward(self, input) -> Tensor:
        return F.adaptive_max_pool1d(self._input(input), self.output_size)
