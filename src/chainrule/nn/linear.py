"""The affine layer ``Linear`` and the pass-through ``Identity``."""

from __future__ import annotations

import math

from ..backend import DEFAULT_FLOAT, is_float_dtype, xp
from ..functional import linalg
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Identity", "Linear"]


def as_input(x, dtype=None) -> Tensor:
    """A layer's input as a Tensor: Tensors pass through, arrays become Tensors.

    A floating ndarray (or list) is cast to ``dtype`` (the layer's parameter
    dtype) so a float64 model keeps float64 inputs and a float32 one float32;
    without ``dtype`` the Tensor default applies (float32).
    """
    if isinstance(x, Tensor):
        return x
    array = xp.asarray(x)
    if dtype is not None and is_float_dtype(array.dtype):
        return Tensor(array, dtype=dtype)
    return Tensor(array)


def check_positive_int(layer: str, name: str, value) -> int:
    """Validate a size argument: a positive int (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
        raise TypeError(f"{layer}: {name} must be an int, received {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{layer}: {name} must be positive, received {value}")
    return int(value)


def resolve_dtype(layer: str, dtype):
    dtype = DEFAULT_FLOAT if dtype is None else xp.dtype(dtype)
    if not is_float_dtype(dtype):
        raise TypeError(f"{layer}: dtype must be a floating dtype, received {dtype}")
    return dtype


class Linear(Module):
    """Affine map y = x Wᵀ + b (PyTorch's ``nn.Linear``).

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output row.
    bias : bool
        Learn an additive bias b (default True).
    dtype : dtype, optional
        Parameter dtype (float32 by default).
    generator : numpy.random.Generator, optional
        Randomness for :meth:`reset_parameters`.

    Notes
    -----
    Shapes: input (N, *, in_features) → output (N, *, out_features);
    ``weight`` is (out_features, in_features), ``bias`` (out_features,).

    Initialisation (PyTorch's default): ``kaiming_uniform_(weight, a=√5)``,
    which is U(−1/√in_features, 1/√in_features), and bias
    U(−1/√fan_in, 1/√fan_in) with fan_in = in_features.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> layer = nn.Linear(4, 2, generator=np.random.default_rng(0))
    >>> layer(np.ones((3, 4))).shape
    (3, 2)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype=None, generator=None
    ):
        super().__init__()
        self.in_features = check_positive_int("Linear", "in_features", in_features)
        self.out_features = check_positive_int("Linear", "out_features", out_features)
        dtype = resolve_dtype("Linear", dtype)
        self.weight = Parameter(
            xp.empty((self.out_features, self.in_features), dtype=dtype), dtype=dtype
        )
        if bias:
            self.bias = Parameter(xp.empty((self.out_features,), dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: weight by kaiming_uniform_(a=√5) = U(±1/√in), bias U(±1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input) -> Tensor:
        x = as_input(input, self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: expected input with last dimension {self.in_features}, "
                f"received shape {tuple(x.shape)}"
            )
        # the primitive directly: the shapes are checked above and at construction
        if self.bias is None:
            return linalg.Linear.apply(x, self.weight)
        return linalg.Linear.apply(x, self.weight, self.bias)

    def get_config(self) -> dict:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
        }

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}" + (
            "" if self.bias is not None else ", bias=False"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder, as PyTorch's ``nn.Identity``)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        return as_input(input)

    def get_config(self) -> dict:
        return {}
