"""Activation functions g(z) and dropout.

In the tutorial's notation a layer computes a = g(z); backprop multiplies the
incoming error by g'(z): δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾). Each backward
below is that ⊙ g'(z), evaluated at z (or, where cheaper and equal, from the
saved output a, e.g. σ'(z) = a(1 − a)) — never g' applied to a.
"""

from __future__ import annotations

import math

from ..autograd import Function
from ..backend import draw, erf, xp
from ..rng import get_generator
from ..tensor import Tensor
from ._util import resolve_dim

__all__ = ["dropout", "gelu", "leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "tanh"]


class ReLU(Function):
    """a = max(z, 0);  δ = g ⊙ 1[z > 0]  (the derivative at 0 is taken as 0).

    The mask is applied to g in place when the engine owns g, saving an array per layer.
    """

    fresh_grads = True  # the masked g is a new array, or the owned g itself

    def forward(self, z):
        self.positive = z > 0
        return z * self.positive

    def backward(self, g):
        return (xp.multiply(g, self.positive, out=g if self.owns_grad_output else None),)


class LeakyReLU(Function):
    """a = z if z > 0 else slope·z;  δ = g ⊙ (1 if z > 0 else slope)."""

    def forward(self, z, negative_slope=0.01):
        self.positive = z > 0
        self.slope = negative_slope
        return xp.where(self.positive, z, z * negative_slope)

    def backward(self, g):
        return (xp.where(self.positive, g, g * self.slope),)


class Sigmoid(Function):
    """a = σ(z) = 1 / (1 + e⁻ᶻ);  δ = g ⊙ σ'(z) = g ⊙ a(1 − a).

    Computed as 1/(1+e^(−|z|)) or e^(−|z|)/(1+e^(−|z|)) by the sign of z, so
    the exponent is never positive: exact and warning-free for |z| ≥ 1000.
    """

    def forward(self, z):
        e = xp.exp(-xp.abs(z))
        self.a = xp.where(z >= 0, 1, e) / (1 + e)
        return self.a

    def backward(self, g):
        a = self.a
        return (g * a * (1 - a),)


class Tanh(Function):
    """a = tanh(z);  δ = g ⊙ (1 − a²)."""

    def forward(self, z):
        self.a = xp.tanh(z)
        return self.a

    def backward(self, g):
        return (g * (1 - self.a * self.a),)


class GELU(Function):
    """a = z Φ(z), Φ(z) = ½(1 + erf(z/√2)) (exact form, PyTorch's default);
    δ = g ⊙ (Φ(z) + z φ(z)), φ(z) = e^(−z²/2)/√(2π)."""

    def forward(self, z):
        self.z = z
        self.cdf = 0.5 * (1 + erf(z * (1 / math.sqrt(2))))
        return z * self.cdf

    def backward(self, g):
        z = self.z
        pdf = xp.exp(-0.5 * z * z) * (1 / math.sqrt(2 * math.pi))
        return (g * (self.cdf + z * pdf),)


class Softmax(Function):
    """y = e^(x − max) / Σ e^(x − max) along ``axis``;  ∂L/∂x = y ⊙ (g − Σ g ⊙ y)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        self.y = e / e.sum(axis=axis, keepdims=True)
        return self.y

    def backward(self, g):
        y = self.y
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y = x − logsumexp(x) along ``axis`` (stable: the max is subtracted first);
    ∂L/∂x = g − softmax(x) Σ g."""

    def forward(self, x, axis=-1):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return self.y

    def backward(self, g):
        return (g - xp.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)


def relu(x) -> Tensor:
    """max(x, 0), elementwise."""
    return ReLU.apply(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope·x."""
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x) -> Tensor:
    """The logistic function 1 / (1 + e⁻ˣ), overflow-free."""
    return Sigmoid.apply(x)


def tanh(x) -> Tensor:
    return Tanh.apply(x)


def gelu(x) -> Tensor:
    """x Φ(x) with the exact normal CDF (erf), as PyTorch's default GELU."""
    return GELU.apply(x)


def _check_axis(name, x, axis):
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(
            f"{name}: axis {axis} is out of range for a tensor of shape {tuple(x.shape)}"
        )


def _softmax_dim(owner, dim, axis) -> int:
    axis, _ = resolve_dim(owner, dim, axis)
    return -1 if axis is None else axis


def softmax(x, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Softmax along ``dim`` (or ``axis``; default the last), computed stably."""
    axis = _softmax_dim("softmax", dim, axis)
    _check_axis("softmax", x, axis)
    return Softmax.apply(x, axis=axis)


def log_softmax(x, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log(softmax(x)) along ``dim`` (or ``axis``; default the last) through log-sum-exp
    (stable for large logits)."""
    axis = _softmax_dim("log_softmax", dim, axis)
    _check_axis("log_softmax", x, axis)
    return LogSoftmax.apply(x, axis=axis)


def dropout(x, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1 − p).

    Composed as x ⊙ mask, so its gradient is g ⊙ mask. Identity when not
    ``training`` or when p == 0. ``generator`` is a numpy.random.Generator
    (default: the library's, seeded by ``chainrule.manual_seed``).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], received {p}")
    if not training or p == 0:
        return x
    data = x.data if isinstance(x, Tensor) else xp.asarray(x)
    if p == 1:
        return x * xp.zeros(data.shape, dtype=data.dtype)
    keep = draw(get_generator(generator), "random", data.shape, dtype=xp.float64) >= p
    mask = keep.astype(data.dtype) * data.dtype.type(1 / (1 - p))
    return x * mask
