"""Activation functions as modules (PyTorch's ``nn.ReLU``, ``nn.Softmax``, ...).

Each wraps the primitive of :mod:`chainrule.functional.activation`; they hold
no parameters, so ``reset_parameters`` does nothing.
"""

from __future__ import annotations

import math

from .. import functional as F
from ..tensor import Tensor
from .linear import as_input
from .module import Module

__all__ = ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class _Activation(Module):
    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def get_config(self) -> dict:
        return {}


class ReLU(_Activation):
    """a = max(z, 0), elementwise. Shapes: any → the same."""

    def forward(self, input) -> Tensor:
        return F.relu(as_input(input))


class LeakyReLU(_Activation):
    """a = z if z > 0 else negative_slope·z (default slope 0.01)."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, received {type(negative_slope).__name__}")
        self.negative_slope = float(negative_slope)

    def forward(self, input) -> Tensor:
        return F.leaky_relu(as_input(input), self.negative_slope)

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Activation):
    """a = 1 / (1 + e⁻ᶻ), elementwise."""

    def forward(self, input) -> Tensor:
        return F.sigmoid(as_input(input))


class Tanh(_Activation):
    """a = tanh(z), elementwise."""

    def forward(self, input) -> Tensor:
        return F.tanh(as_input(input))


class GELU(_Activation):
    """a = z Φ(z) (``approximate='none'``, exact erf) or the tanh approximation
    0.5 z (1 + tanh(√(2/π)(z + 0.044715 z³))) (``approximate='tanh'``), as PyTorch."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', received {approximate!r}")
        self.approximate = approximate

    def forward(self, input) -> Tensor:
        x = as_input(input)
        if self.approximate == "none":
            return F.gelu(x)
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + F.tanh(inner))

    def get_config(self) -> dict:
        return {"approximate": self.approximate}

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class _SoftmaxBase(_Activation):
    def __init__(self, dim: int = -1):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}: dim must be an int, received {type(dim).__name__}")
        self.dim = dim

    def get_config(self) -> dict:
        return {"dim": self.dim}

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """softmax(x)ᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim`` (default −1; PyTorch's implicit
    choice for ``dim=None`` is not copied: give the axis)."""

    def forward(self, input) -> Tensor:
        return F.softmax(as_input(input), axis=self.dim)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along ``dim`` (default −1), computed through log-sum-exp."""

    def forward(self, input) -> Tensor:
        return F.log_softmax(as_input(input), axis=self.dim)
