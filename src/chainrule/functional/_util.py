"""Small helpers shared by the functional primitives (argument checks, operand coercion)."""

from __future__ import annotations

from numbers import Number

from ..backend import is_float_dtype, xp
from ..tensor import Tensor


def coerce_pair(a, b):
    """Make a binary op's operands Tensor-or-array with one floating dtype.

    Two tensors keep their dtypes, except that an integer or boolean tensor meeting a
    floating one takes the floating dtype (PyTorch's rule). A Python number stays a Python
    number (NumPy keeps the tensor's dtype); a NumPy scalar becomes one first
    (``np.float64(2)`` must not promote a float32
    graph); an ndarray or list is cast to the floating dtype of the tensor operand.
    """
    ref = a if isinstance(a, Tensor) else b
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        kind_a, kind_b = a.data.dtype.kind, b.data.dtype.kind
        if kind_a == kind_b or (kind_a != "f" and kind_b != "f"):
            return a, b
        # PyTorch's promotion: a float tensor with an integer or boolean one keeps its dtype
        # (NumPy would give float64); the integer operand is a constant (it has no gradient)
        return (a, b.data.astype(a.dtype)) if kind_a == "f" else (a.data.astype(b.dtype), b)
    dtype = ref.dtype if isinstance(ref, Tensor) else None

    def convert(x):
        if isinstance(x, xp.generic):
            x = x.item()
        if isinstance(x, (Tensor, Number)) and not isinstance(x, bool):
            return x
        array = xp.asarray(x)
        if dtype is not None and is_float_dtype(dtype) and array.dtype != dtype:
            array = array.astype(dtype)
        return array

    return convert(a), convert(b)


def shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


def check_broadcast(op: str, a, b):
    try:
        return xp.broadcast_shapes(shape_of(a), shape_of(b))
    except ValueError:
        raise ValueError(
            f"{op}: shapes {tuple(shape_of(a))} and {tuple(shape_of(b))} cannot be broadcast "
            "together"
        ) from None


def check_reduction(name: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none', received {reduction!r}"
        )


def normalize_axis(axis, ndim: int, name: str = "axis"):
    """Return ``axis`` as a sorted tuple of non-negative ints (None means all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(
                f"{name}: axis {ax} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(int(ax) % max(ndim, 1))
    return tuple(sorted(set(out)))


def as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def resolve_dim(owner: str, dim, axis, keepdim=None, keepdims=None):
    """Merge PyTorch's ``dim``/``keepdim`` with NumPy's ``axis``/``keepdims`` (either spelling,
    not both): returns ``(axis, keepdims)``."""
    if dim is not None and axis is not None:
        raise TypeError(f"{owner}: pass dim= or axis= (they are the same), not both")
    if keepdim is not None and keepdims is not None:
        raise TypeError(f"{owner}: pass keepdim= or keepdims= (they are the same), not both")
    return (axis if dim is None else dim), bool(keepdims if keepdim is None else keepdim)
