"""More activations g(z), PyTorch's: ``silu elu softplus mish hardtanh prelu``.

They sit beside :mod:`chainrule.functional.activation` (the tutorial's
activations) and follow the same rule: each backward is g ⊙ g'(z), evaluated
at z (or from the saved output a where that is equal and cheaper).
Softplus and its relatives are computed without overflow: log(1 + eᵗ) as
max(t, 0) + log1p(e^(−|t|)), σ(t) from e^(−|t|).
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import as_tensor
from .shape import reshape

__all__ = ["elu", "hardtanh", "mish", "prelu", "silu", "softplus"]


def _sigmoid(t):
    """σ(t) = 1 / (1 + e^(−t)), from e^(−|t|) so no exponent is positive."""
    e = xp.exp(-xp.abs(t))
    return xp.where(t >= 0, 1, e) / (1 + e)


def _softplus(t):
    """log(1 + eᵗ) = max(t, 0) + log1p(e^(−|t|)), overflow-free."""
    return xp.maximum(t, 0) + xp.log1p(xp.exp(-xp.abs(t)))


class SiLU(Function):
    """a = z σ(z) (the swish);  δ = g ⊙ (σ(z) + z σ(z)(1 − σ(z)))."""

    def forward(self, z):
        self.z, self.s = z, _sigmoid(z)
        return z * self.s

    def backward(self, g):
        s = self.s
        return (g * (s + self.z * s * (1 - s)),)


class ELU(Function):
    """a = z if z > 0 else α(eᶻ − 1);  δ = g ⊙ (1 if z > 0 else α eᶻ = a + α)."""

    def forward(self, z, alpha=1.0):
        self.positive = z > 0
        self.a = xp.where(self.positive, z, alpha * xp.expm1(xp.minimum(z, 0)))
        self.alpha = alpha
        return self.a

    def backward(self, g):
        return (xp.where(self.positive, g, g * (self.a + self.alpha)),)


class Softplus(Function):
    """a = log(1 + e^(βz)) / β, and a = z where βz > threshold (PyTorch's linear region);
    δ = g ⊙ σ(βz) (g ⊙ 1 in the linear region)."""

    def forward(self, z, beta=1.0, threshold=20.0):
        t = beta * z
        self.linear = t > threshold
        self.s = _sigmoid(t)
        return xp.where(self.linear, z, _softplus(t) / beta)

    def backward(self, g):
        return (xp.where(self.linear, g, g * self.s),)


class Mish(Function):
    """a = z tanh(softplus(z));  with s = softplus(z), t = tanh(s):
    δ = g ⊙ (t + z (1 − t²) σ(z)), since d softplus(z)/dz = σ(z)."""

    def forward(self, z):
        self.z = z
        self.t = xp.tanh(_softplus(z))
        return z * self.t

    def backward(self, g):
        t = self.t
        return (g * (t + self.z * (1 - t * t) * _sigmoid(self.z)),)


class Hardtanh(Function):
    """a = clip(z, min_val, max_val);  δ = g ⊙ 1[min_val < z < max_val] (0 at the corners,
    as PyTorch)."""

    def forward(self, z, min_val=-1.0, max_val=1.0):
        self.inside = (z > min_val) & (z < max_val)
        return xp.clip(z, min_val, max_val)

    def backward(self, g):
        return (g * self.inside,)


class PReLU(Function):
    """a = z if z > 0 else w z, with a learnable slope w broadcast over the channel axis;
    δz = g ⊙ (1 if z > 0 else w),  δw = g ⊙ z ⊙ 1[z ≤ 0] (the engine sums it to w's shape)."""

    fresh_grads = True

    def forward(self, z, w):
        self.z, self.w = z, w
        self.positive = z > 0
        return xp.where(self.positive, z, w * z)

    def backward(self, g):
        gz = xp.where(self.positive, g, g * self.w) if self.needs_input_grad[0] else None
        gw = xp.where(self.positive, 0, g * self.z) if self.needs_input_grad[1] else None
        return gz, gw


def silu(x) -> Tensor:
    """x σ(x), elementwise (SiLU, the swish).

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> round(F.silu(cr.tensor([1.0])).item(), 4)
    0.7311
    """
    return SiLU.apply(as_tensor(x))


def elu(x, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha·(eˣ − 1)."""
    return ELU.apply(as_tensor(x), alpha=float(alpha))


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta·x)) / beta, reverting to x where beta·x > threshold."""
    if not beta > 0:
        raise ValueError(f"softplus: beta must be > 0, received {beta}")
    return Softplus.apply(as_tensor(x), beta=float(beta), threshold=float(threshold))


def mish(x) -> Tensor:
    """x tanh(softplus(x)), elementwise."""
    return Mish.apply(as_tensor(x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """clip(x, min_val, max_val), with gradient 1 strictly inside the interval."""
    if not min_val < max_val:
        raise ValueError(
            f"hardtanh: min_val must be below max_val, received {min_val} and {max_val}"
        )
    return Hardtanh.apply(as_tensor(x), min_val=float(min_val), max_val=float(max_val))


def prelu(x, weight) -> Tensor:
    """x if x > 0 else weight·x, ``weight`` of shape (1,) or (C,) along axis 1 (axis 0 for 1-D x).

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> F.prelu(cr.tensor([[-2.0, 3.0]]), cr.tensor([0.25])).tolist()
    [[-0.5, 3.0]]
    """
    x, weight = as_tensor(x), as_tensor(weight)
    channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
    if weight.ndim != 1 or weight.shape[0] not in (1, channels):
        raise ValueError(
            f"prelu: expected weight of shape (1,) or ({channels},) for input {tuple(x.shape)}, "
            f"received {tuple(weight.shape)}"
        )
    if weight.shape[0] > 1 and x.ndim >= 2:  # slopes along the channel axis
        weight = reshape(weight, (1, -1) + (1,) * (x.ndim - 2))
    return PReLU.apply(x, weight)
