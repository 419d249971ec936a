"""Elementwise primitives with NumPy broadcasting.

Each class keeps its forward and its backward side by side. ``g`` is the
gradient of the loss with respect to the output (``grad_output``); each
backward returns ``g ⊙ ∂out/∂input`` at the broadcast shape, and the engine
sums it back to the input's own shape.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import errstate, is_float_dtype, xp
from ..tensor import Tensor
from ._util import check_broadcast, coerce_pair

__all__ = [
    "abs",
    "add",
    "astype",
    "clamp",
    "clip",
    "cos",
    "div",
    "eq",
    "exp",
    "ge",
    "gt",
    "le",
    "log",
    "lt",
    "masked_fill",
    "maximum",
    "minimum",
    "mul",
    "ne",
    "neg",
    "pow",
    "sin",
    "sqrt",
    "square",
    "sub",
    "where",
]


class Add(Function):
    """y = a + b;  ∂L/∂a = g,  ∂L/∂b = g."""

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    """y = a − b;  ∂L/∂a = g,  ∂L/∂b = −g."""

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a ⊙ b;  ∂L/∂a = g ⊙ b,  ∂L/∂b = g ⊙ a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        ga = g * self.b if self.needs_input_grad[0] else None
        gb = g * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  ∂L/∂a = g / b,  ∂L/∂b = −g ⊙ a / b² = −g ⊙ y / b."""

    def forward(self, a, b):
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, g):
        ga = g / self.b if self.needs_input_grad[0] else None
        gb = -g * self.y / self.b if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = −x;  ∂L/∂x = −g."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Pow(Function):
    """y = aᵇ;  ∂L/∂a = g ⊙ b aᵇ⁻¹ (0 where b = 0),  ∂L/∂b = g ⊙ aᵇ ln a  (b may be a constant)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g * b * a ** (b - 1)
            if xp.any(b == 0):  # d(a⁰)/da = 0, also at a = 0 where b·a⁻¹ would be 0·∞
                ga = xp.where(b == 0, 0, ga)
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            with errstate(divide="ignore", invalid="ignore"):
                log_a = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
            gb = g * self.y * log_a
        return ga, gb


class Exp(Function):
    """y = eˣ;  ∂L/∂x = g ⊙ y  (the saved output is reused)."""

    def forward(self, x):
        self.y = xp.exp(x)
        return self.y

    def backward(self, g):
        return (g * self.y,)


class Log(Function):
    """y = ln x;  ∂L/∂x = g / x."""

    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sin(Function):
    """y = sin x;  ∂L/∂x = g ⊙ cos x."""

    def forward(self, x):
        self.x = x
        return xp.sin(x)

    def backward(self, g):
        return (g * xp.cos(self.x),)


class Cos(Function):
    """y = cos x;  ∂L/∂x = −g ⊙ sin x."""

    def forward(self, x):
        self.x = x
        return xp.cos(x)

    def backward(self, g):
        return (-g * xp.sin(self.x),)


class Sqrt(Function):
    """y = √x;  ∂L/∂x = g / (2y)."""

    def forward(self, x):
        self.y = xp.sqrt(x)
        return self.y

    def backward(self, g):
        return (g / (2 * self.y),)


class Abs(Function):
    """y = |x|;  ∂L/∂x = g ⊙ sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, g):
        return (g * xp.sign(self.x),)


class Clip(Function):
    """y = min(max(x, lo), hi);  ∂L/∂x = g where lo ≤ x ≤ hi, else 0."""

    def forward(self, x, lo=None, hi=None):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: min must be <= max, received min={lo} and max={hi}")
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        self.inside = inside
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g):
        return (g * self.inside,)


class Maximum(Function):
    """y = max(a, b);  the gradient goes to a where a ≥ b, else to b (ties go to a)."""

    def forward(self, a, b):
        self.take_a = a >= b
        return xp.where(self.take_a, a, b)

    def backward(self, g):
        return g * self.take_a, g * ~self.take_a


class Minimum(Function):
    """y = min(a, b);  the gradient goes to a where a ≤ b, else to b (ties go to a)."""

    def forward(self, a, b):
        self.take_a = a <= b
        return xp.where(self.take_a, a, b)

    def backward(self, g):
        return g * self.take_a, g * ~self.take_a


class Where(Function):
    """y = cond ? a : b;  ∂L/∂a = g ⊙ cond,  ∂L/∂b = g ⊙ ¬cond."""

    def forward(self, cond, a, b):
        self.cond = xp.asarray(cond, dtype=bool)
        return xp.where(self.cond, a, b)

    def backward(self, g):
        ga = xp.where(self.cond, g, 0) if self.needs_input_grad[1] else None
        gb = xp.where(self.cond, 0, g) if self.needs_input_grad[2] else None
        return None, ga, gb


class AsType(Function):
    """y = x cast to ``dtype``;  ∂L/∂x = g cast back to x's dtype."""

    def forward(self, x, dtype=None):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype),)


def _binary(function, name, a, b):
    a, b = coerce_pair(a, b)
    check_broadcast(name, a, b)
    return function.apply(a, b)


def add(a, b) -> Tensor:
    """Elementwise a + b, broadcasting."""
    return _binary(Add, "add", a, b)


def sub(a, b) -> Tensor:
    """Elementwise a − b, broadcasting."""
    return _binary(Sub, "sub", a, b)


def mul(a, b) -> Tensor:
    """Elementwise a ⊙ b, broadcasting."""
    return _binary(Mul, "mul", a, b)


def div(a, b) -> Tensor:
    """Elementwise a / b, broadcasting."""
    return _binary(Div, "div", a, b)


def neg(x) -> Tensor:
    return Neg.apply(x)


def pow(a, b) -> Tensor:
    """Elementwise aᵇ; either may be a tensor, the exponent may be a number."""
    return _binary(Pow, "pow", a, b)


def square(x) -> Tensor:
    return Mul.apply(x, x)


def exp(x) -> Tensor:
    return Exp.apply(x)


def log(x) -> Tensor:
    return Log.apply(x)


def sin(x) -> Tensor:
    return Sin.apply(x)


def cos(x) -> Tensor:
    return Cos.apply(x)


def sqrt(x) -> Tensor:
    return Sqrt.apply(x)


def abs(x) -> Tensor:
    return Abs.apply(x)


def clip(x, min=None, max=None) -> Tensor:
    """Clamp into [min, max]; the gradient passes where min ≤ x ≤ max."""
    return Clip.apply(x, lo=min, hi=max)


clamp = clip


def maximum(a, b) -> Tensor:
    return _binary(Maximum, "maximum", a, b)


def minimum(a, b) -> Tensor:
    return _binary(Minimum, "minimum", a, b)


def where(condition, a, b) -> Tensor:
    """Choose a where ``condition`` holds, else b (broadcasting all three)."""
    if isinstance(condition, Tensor):
        condition = condition.data
    a, b = coerce_pair(a, b)
    check_broadcast("where", a, b)
    check_broadcast("where", condition, a)
    return Where.apply(condition, a, b)


def masked_fill(x, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, else x (mask broadcasts to x's shape);
    composed as ``where(mask, value, x)``, so ∂L/∂x = g ⊙ ¬mask."""
    mask = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: expected a boolean mask, received dtype {mask.dtype}")
    if check_broadcast("masked_fill", mask, x) != tuple(x.shape):
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} does not broadcast to the tensor's "
            f"shape {tuple(x.shape)}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, received "
                             f"shape {value.shape}")
        return where(mask, value, x)
    return where(mask, x.dtype.type(value), x)


def _compare(ufunc):
    def compare(a, b) -> Tensor:
        a, b = (t.data if isinstance(t, Tensor) else t for t in (a, b))
        return Tensor(ufunc(a, b))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise ``{ufunc.__name__}``, a boolean tensor (not differentiable)."
    return compare


eq = _compare(xp.equal)
ne = _compare(xp.not_equal)
lt = _compare(xp.less)
le = _compare(xp.less_equal)
gt = _compare(xp.greater)
ge = _compare(xp.greater_equal)


def astype(x, dtype) -> Tensor:
    """Cast to ``dtype``; between float dtypes gradients flow back in the original dtype.

    A cast to an integer or boolean dtype is not differentiable: the result is a constant.
    """
    dtype = xp.dtype(dtype)
    if x.dtype == dtype:
        return x
    if not is_float_dtype(dtype):
        return Tensor(x.data.astype(dtype))
    return AsType.apply(x, dtype=dtype)
