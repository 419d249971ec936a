"""Tensor's operators and methods that call the primitives, installed on the class in one place.

:mod:`chainrule.tensor` cannot import the primitives (they import it), so the
methods that compute something are defined here and :func:`install` sets them on
:class:`~chainrule.tensor.Tensor` once, from ``chainrule/__init__.py``. Most are the
functional primitive itself (``Tensor.exp is F.exp``); the rest adapt PyTorch's
call forms (``x.max(1)``, ``x.view(2, -1)``, reflected operators).

In-place ops (``add_``, ``+=``, ``zero_``, ``x[i] = v`` ...) all go through
:func:`apply_inplace`, which follows PyTorch:

* on a leaf that requires grad while grad mode is on: RuntimeError (the update
  belongs in ``no_grad``);
* when nothing is recorded (``no_grad``, or nothing requires grad): the result is
  written into the tensor's array and its version count goes up, so a node that
  saved the array makes ``backward()`` raise instead of using the new values;
* when the op is recorded (the tensor or an operand requires grad): the tensor
  becomes the output of the recorded op (its ``grad_fn`` changes) and its version
  goes up, so nodes recorded earlier with this tensor as input refuse to run.
"""

from __future__ import annotations

from ..autograd.engine import VersionCounter, version_of
from ..autograd.grad_mode import no_grad, state
from ..backend import draw, xp
from ..rng import get_generator
from ..tensor import Tensor, check_device
from . import activation, elementwise, linalg, reduce, shape

__all__ = ["apply_inplace", "install"]


def _axes(args):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the tuple (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


# ------------------------------------------------------------------- in-place ops
def apply_inplace(tensor: Tensor, name: str, compute, operands=()) -> Tensor:
    """Make ``tensor`` hold ``compute(tensor)`` in place, with PyTorch's autograd rules
    (see the module docstring). ``operands`` are the other tensors the op reads."""
    records = state.grad_enabled and (
        tensor._requires_grad
        or any(isinstance(o, Tensor) and o._requires_grad for o in operands)
    )
    if records and tensor._ctx is None and tensor._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad cannot be modified in place while grad "
            "mode is on; do the update inside `with chainrule.no_grad():` (as an optimizer "
            "does), or write to its .data array"
        )
    if not records:
        with no_grad():
            result = compute(tensor)
        _check_result(name, tensor, result)
        try:
            xp.copyto(tensor.data, result.data, casting="same_kind")
        except ValueError as error:  # a read-only array: a broadcast view from expand()
            raise RuntimeError(
                f"{name}: cannot write into this tensor in place ({error})"
            ) from None
        counter = tensor._vc
        if counter is None:
            tensor._vc = counter = VersionCounter()
        counter.value += 1
        counter.last_op = name
        return tensor
    source = Tensor._from_op(tensor.data, tensor._ctx)  # the tensor before the op
    source._requires_grad, source._vc = tensor._requires_grad, tensor._vc
    result = compute(source)
    _check_result(name, tensor, result)
    if result.dtype != tensor.dtype:
        result = elementwise.astype(result, tensor.dtype)
    version = version_of(tensor) + 1
    tensor.data, tensor._ctx, tensor._requires_grad = result.data, result._ctx, True
    tensor._vc = VersionCounter(version)
    tensor._vc.last_op = name
    result._ctx.output_version = version
    return tensor


def _check_result(name, tensor, result):
    if result.shape != tensor.shape:
        raise ValueError(
            f"{name}: the result has shape {result.shape}, which cannot be written into "
            f"a tensor of shape {tensor.shape} in place"
        )
    if not xp.can_cast(result.dtype, tensor.dtype, casting="same_kind"):
        raise TypeError(
            f"{name}: the result has dtype {result.dtype}, which cannot be written into a "
            f"{tensor.dtype} tensor in place; convert the tensor first (e.g. .float())"
        )


def _replace(source: Tensor, values) -> Tensor:
    """``values`` in place of every element of ``source``: the gradient to source is 0."""
    if not isinstance(values, Tensor):
        values = xp.asarray(values, dtype=source.dtype)
    return elementwise.where(xp.ones(source.shape, dtype=bool), values, source)


def _scaled(other, alpha):
    return other if alpha == 1 else elementwise.mul(other, alpha)


def add_(self, other, alpha=1):
    """self += alpha·other, in place."""
    return apply_inplace(self, "add_", lambda s: elementwise.add(s, _scaled(other, alpha)),
                         (other,))


def sub_(self, other, alpha=1):
    """self −= alpha·other, in place."""
    return apply_inplace(self, "sub_", lambda s: elementwise.sub(s, _scaled(other, alpha)),
                         (other,))


def mul_(self, other):
    """self ⊙= other, in place."""
    return apply_inplace(self, "mul_", lambda s: elementwise.mul(s, other), (other,))


def div_(self, other):
    """self /= other, in place."""
    return apply_inplace(self, "div_", lambda s: elementwise.div(s, other), (other,))


def clamp_(self, min=None, max=None):
    """Clamp into [min, max], in place."""
    return apply_inplace(self, "clamp_", lambda s: elementwise.clip(s, min, max))


def masked_fill_(self, mask, value):
    """Set the elements where ``mask`` is True to ``value``, in place."""
    return apply_inplace(self, "masked_fill_",
                         lambda s: elementwise.masked_fill(s, mask, value), (value,))


def zero_(self):
    """Set every element to 0, in place."""
    return apply_inplace(self, "zero_", lambda s: _replace(s, 0))


def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor), in place."""
    return apply_inplace(self, "fill_", lambda s: _replace(s, value), (value,))


def copy_(self, src):
    """Copy ``src`` (broadcast to this shape, cast to this dtype) into the tensor, in place."""
    def compute(s):
        values = src
        if isinstance(src, Tensor) and src.dtype != s.dtype:
            values = elementwise.astype(src, s.dtype)
        if isinstance(values, Tensor) and values.shape != s.shape:
            values = shape.expand(values, s.shape)
        return _replace(s, values)

    return apply_inplace(self, "copy_", compute, (src,))


def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill with samples of N(mean, std²) from ``generator`` (default: the library's), in place."""
    values = draw(get_generator(generator), "normal", mean, std, size=self.shape)
    return apply_inplace(self, "normal_", lambda s: _replace(s, values))


def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fill with samples of U(a, b) from ``generator`` (default: the library's), in place."""
    values = draw(get_generator(generator), "uniform", a, b, size=self.shape)
    return apply_inplace(self, "uniform_", lambda s: _replace(s, values))


def _setitem(self, index, value):
    apply_inplace(self, "__setitem__", lambda s: shape.setitem(s, index, value), (value,))


def _inplace_operator(name, function):
    def operator(self, other):
        return apply_inplace(self, name, lambda s: function(s, other), (other,))

    operator.__name__ = name
    return operator


# ----------------------------------------------------------- adapted call forms
def _all(self, dim=None, keepdim: bool = False):
    """True where every element (along ``dim``) is non-zero: a boolean tensor."""
    return Tensor(xp.all(self.data, axis=dim, keepdims=keepdim))


def _any(self, dim=None, keepdim: bool = False):
    """True where some element (along ``dim``) is non-zero: a boolean tensor."""
    return Tensor(xp.any(self.data, axis=dim, keepdims=keepdim))


def _reflected(function):
    def reflected(self, other):
        return function(other, self)

    reflected.__name__ = "__r" + function.__name__ + "__"
    return reflected


def reshape(self, *shape_):
    """A tensor with the same data and a new shape (one size may be -1)."""
    return shape.reshape(self, _axes(shape_))


def view_as(self, other):
    """``reshape`` to ``other``'s shape."""
    return shape.reshape(self, other.shape)


def transpose(self, *axes):
    """Swap two axes (``transpose(0, 1)``, as PyTorch) or reverse them all (no arguments).

    With as many axes as dimensions (ndim > 2) it permutes, as NumPy does.
    """
    axes = _axes(axes)
    return shape.transpose(self, axes if axes else None)


def permute(self, *axes):
    return shape.permute(self, _axes(axes))


def expand(self, *sizes):
    return shape.expand(self, _axes(sizes))


def expand_as(self, other):
    return shape.expand(self, other.shape)


def repeat(self, *repeats):
    return shape.repeat(self, _axes(repeats))


def squeeze(self, dim=None):
    return shape.squeeze(self, dim)


def unsqueeze(self, dim):
    return shape.unsqueeze(self, dim)


def gather(self, dim, index):
    return shape.gather(self, dim, index)


def index_select(self, dim, index):
    return shape.index_select(self, dim, index)


def contiguous(self):
    """The tensor itself when its array is C-contiguous, else a contiguous copy (differentiable)."""
    return self if self.data.flags.c_contiguous else shape.clone(self)


def _transpose_property(self):
    return shape.transpose(self, None)


def mm(self, other):
    return linalg.mm(self, other)


def bmm(self, other):
    return linalg.bmm(self, other)


def _cast(dtype):
    def cast(self):
        return elementwise.astype(self, dtype)

    cast.__doc__ = f"The tensor as {xp.dtype(dtype)} (differentiable between float dtypes)."
    return cast


def astype(self, dtype):
    return elementwise.astype(self, dtype)


def to(self, *args, **kwargs):
    """``to(dtype)``, ``to('cpu')``, ``to(device)``, ``to(other)`` (its dtype), as PyTorch.

    chainrule runs on the CPU: any device but ``'cpu'`` raises ValueError. Returns the
    tensor itself when nothing changes.
    """
    dtype = kwargs.pop("dtype", None)
    device_ = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None), kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) or type(arg).__name__ == "device":
            device_ = arg
        else:
            dtype = arg
    check_device(device_)  # raises for a device other than the CPU
    if dtype is None:
        return self
    try:
        dtype = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"to: expected a dtype, a device or a tensor, received {dtype!r}") from None
    return elementwise.astype(self, dtype)


def cpu(self):
    """The tensor itself: chainrule's arrays are on the CPU."""
    return self


# The whole table: the one place Tensor gets its operators and computing methods.
_METHODS = {
    # arithmetic operators (the forward functions themselves: no extra call on the hot path)
    "__add__": elementwise.add,
    "__radd__": _reflected(elementwise.add),
    "__sub__": elementwise.sub,
    "__rsub__": _reflected(elementwise.sub),
    "__mul__": elementwise.mul,
    "__rmul__": _reflected(elementwise.mul),
    "__truediv__": elementwise.div,
    "__rtruediv__": _reflected(elementwise.div),
    "__pow__": elementwise.pow,
    "__rpow__": _reflected(elementwise.pow),
    "__matmul__": linalg.matmul,
    "__rmatmul__": _reflected(linalg.matmul),
    "__neg__": elementwise.neg,
    "__getitem__": shape.getitem,
    "__setitem__": _setitem,
    # comparisons: boolean tensors (hashing stays by identity, set in tensor.py)
    "__eq__": elementwise.eq,
    "__ne__": elementwise.ne,
    "__lt__": elementwise.lt,
    "__le__": elementwise.le,
    "__gt__": elementwise.gt,
    "__ge__": elementwise.ge,
    "eq": elementwise.eq,
    "ne": elementwise.ne,
    "lt": elementwise.lt,
    "le": elementwise.le,
    "gt": elementwise.gt,
    "ge": elementwise.ge,
    # in-place
    "__iadd__": _inplace_operator("__iadd__", elementwise.add),
    "__isub__": _inplace_operator("__isub__", elementwise.sub),
    "__imul__": _inplace_operator("__imul__", elementwise.mul),
    "__itruediv__": _inplace_operator("__itruediv__", elementwise.div),
    "add_": add_,
    "sub_": sub_,
    "mul_": mul_,
    "div_": div_,
    "clamp_": clamp_,
    "clip_": clamp_,
    "masked_fill_": masked_fill_,
    "zero_": zero_,
    "fill_": fill_,
    "copy_": copy_,
    "normal_": normal_,
    "uniform_": uniform_,
    # elementwise math
    "add": elementwise.add,
    "sub": elementwise.sub,
    "mul": elementwise.mul,
    "div": elementwise.div,
    "pow": elementwise.pow,
    "exp": elementwise.exp,
    "log": elementwise.log,
    "sqrt": elementwise.sqrt,
    "abs": elementwise.abs,
    "sin": elementwise.sin,
    "cos": elementwise.cos,
    "clip": elementwise.clip,
    "clamp": elementwise.clip,
    "maximum": elementwise.maximum,
    "minimum": elementwise.minimum,
    "masked_fill": elementwise.masked_fill,
    "relu": activation.relu,
    "sigmoid": activation.sigmoid,
    "tanh": activation.tanh,
    "softmax": activation.softmax,
    "log_softmax": activation.log_softmax,
    # reductions
    "sum": reduce.sum,
    "mean": reduce.mean,
    "var": reduce.var,
    "std": reduce.std,
    "max": reduce.max,
    "min": reduce.min,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "all": _all,
    "any": _any,
    # shape
    "reshape": reshape,
    "view": reshape,
    "view_as": view_as,
    "flatten": shape.flatten,
    "transpose": transpose,
    "permute": permute,
    "T": property(_transpose_property),
    "t": shape.t,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "expand": expand,
    "expand_as": expand_as,
    "repeat": repeat,
    "chunk": shape.chunk,
    "split": shape.split,
    "gather": gather,
    "index_select": index_select,
    "contiguous": contiguous,
    "clone": shape.clone,
    # products
    "matmul": linalg.matmul,
    "mm": mm,
    "bmm": bmm,
    # dtype and device
    "astype": astype,
    "type_as": lambda self, other: elementwise.astype(self, other.dtype),
    "float": _cast(xp.float32),
    "double": _cast(xp.float64),
    "half": _cast(xp.float16),
    "long": _cast(xp.int64),
    "int": _cast(xp.int32),
    "bool": _cast(xp.bool_),
    "to": to,
    "cpu": cpu,
}


def install(tensor_class: type) -> None:
    """Set every entry of the table above on ``tensor_class`` (called once, at import)."""
    for name, method in _METHODS.items():
        setattr(tensor_class, name, method)
