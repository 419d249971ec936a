"""Activation functions as modules (PyTorch's ``nn.ReLU``, ``nn.Softmax``, ...).

Each wraps a primitive of :mod:`chainrule.functional.activation` or
:mod:`chainrule.functional.activation_extra`. Only :class:`PReLU` holds a
parameter (its slopes); the others' ``reset_parameters`` does nothing.
"""

from __future__ import annotations

import math

from .. import functional as F
from ..backend import DEFAULT_FLOAT, xp
from ..tensor import Tensor
from .linear import as_input, check_positive_int
from .module import Module, Parameter

__all__ = [
    "ELU",
    "GELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


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
            raise TypeError(
                "LeakyReLU: negative_slope must be a number, received "
                f"{type(negative_slope).__name__}"
            )
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
            raise ValueError(
                f"GELU: approximate must be 'none' or 'tanh', received {approximate!r}"
            )
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
            raise TypeError(
                f"{type(self).__name__}: dim must be an int, received {type(dim).__name__}"
            )
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


def _real(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, received {type(value).__name__}")
    return float(value)


class SiLU(_Activation):
    """a = z σ(z) (the swish), elementwise. Shapes: any → the same.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.SiLU()(cr.tensor([2.0])).item(), 4)
    1.7616
    """

    def forward(self, input) -> Tensor:
        return F.silu(as_input(input))


class Mish(_Activation):
    """a = z tanh(softplus(z)), elementwise.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.Mish()(cr.tensor([1.0])).item(), 4)
    0.8651
    """

    def forward(self, input) -> Tensor:
        return F.mish(as_input(input))


class ELU(_Activation):
    """a = z if z > 0 else alpha·(eᶻ − 1) (default alpha 1).

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.ELU()(cr.tensor([-1.0])).item(), 4)
    -0.6321
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = _real("ELU", "alpha", alpha)

    def forward(self, input) -> Tensor:
        return F.elu(as_input(input), self.alpha)

    def get_config(self) -> dict:
        return {"alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(_Activation):
    """a = log(1 + e^(beta·z)) / beta, and a = z where beta·z > threshold (defaults 1 and 20).

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.Softplus()(cr.tensor([0.0])).item(), 4)  # ln 2
    0.6931
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = _real("Softplus", "beta", beta)
        self.threshold = _real("Softplus", "threshold", threshold)
        if not self.beta > 0:
            raise ValueError(f"Softplus: beta must be > 0, received {beta}")

    def forward(self, input) -> Tensor:
        return F.softplus(as_input(input), self.beta, self.threshold)

    def get_config(self) -> dict:
        return {"beta": self.beta, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(_Activation):
    """a = clip(z, min_val, max_val) (default −1, 1); gradient 1 strictly inside, 0 outside.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> nn.Hardtanh()(cr.tensor([-3.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        self.min_val = _real("Hardtanh", "min_val", min_val)
        self.max_val = _real("Hardtanh", "max_val", max_val)
        if not self.min_val < self.max_val:
            raise ValueError(
                f"Hardtanh: min_val must be below max_val, received {min_val} and {max_val}"
            )

    def forward(self, input) -> Tensor:
        return F.hardtanh(as_input(input), self.min_val, self.max_val)

    def get_config(self) -> dict:
        return {"min_val": self.min_val, "max_val": self.max_val}

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PReLU(Module):
    """a = z if z > 0 else w·z with learnable slopes w (PyTorch's ``nn.PReLU``).

    Parameters
    ----------
    num_parameters : int
        1 (one slope shared by all channels) or the number of channels C (axis 1 of the input).
    init : float
        The slopes' initial value (0.25).

    Notes
    -----
    Shapes: input (N, C, *) → the same; ``weight`` is (num_parameters,).

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> nn.PReLU()(cr.tensor([[-2.0, 3.0]])).tolist()
    [[-0.5, 3.0]]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        self.num_parameters = check_positive_int("PReLU", "num_parameters", num_parameters)
        self.init = _real("PReLU", "init", init)
        dtype = DEFAULT_FLOAT if dtype is None else xp.dtype(dtype)
        self.weight = Parameter(xp.empty(self.num_parameters, dtype=dtype), dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """Every slope back to ``init`` (no randomness)."""
        self.weight.data[...] = self.init

    def forward(self, input) -> Tensor:
        return F.prelu(as_input(input, self.weight.dtype), self.weight)

    def get_config(self) -> dict:
        return {"num_parameters": self.num_parameters, "init": self.init}

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
