"""The Tensor: an array, its gradient, and the node that made it.

A :class:`Tensor` wraps an ndarray (``.data``). When it ``requires_grad``,
operations on it are recorded (see :mod:`chainrule.autograd`) and
``backward()`` fills ``.grad`` of every leaf tensor that requires grad.

Gradients **accumulate**: each ``backward()`` adds into ``.grad`` with ``+=``,
as in PyTorch, so mini-batch gradients can be summed over several calls. Call
``zero_grad()`` (or the optimizer's / module's ``zero_grad``) between steps.
"""

from __future__ import annotations

from numbers import Number

from . import autograd
from .backend import DEFAULT_FLOAT, is_float_dtype, xp

__all__ = ["Tensor", "tensor"]

F = None  # chainrule.functional, bound when it is imported (it imports this module)


def _to_array(data, dtype=None):
    if isinstance(data, Tensor):  # a copy that keeps the dtype, as torch.tensor(t) does
        return xp.array(data.data, dtype=None if dtype is None else xp.dtype(dtype), copy=True)
    if dtype is not None:
        return xp.array(data, dtype=xp.dtype(dtype))
    array = xp.asarray(data)
    if array.dtype.kind == "O":
        raise TypeError(f"Tensor: expected numeric data, received an object array ({data!r:.60})")
    if array.dtype.kind == "c":
        raise TypeError("Tensor: expected real data, received complex dtype " + str(array.dtype))
    if array.dtype.kind == "f" and array.dtype != DEFAULT_FLOAT:
        return array.astype(DEFAULT_FLOAT)  # Python floats and float64/float16 arrays become float32
    return array


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Parameters
    ----------
    data : array_like
        Python numbers, nested lists or an ndarray. Floating data becomes
        float32 unless ``dtype`` is given (float64 is kept only on request);
        integers and booleans keep their dtype.
    requires_grad : bool
        Record operations on this tensor so ``backward()`` computes ``.grad``.
        Only floating tensors can require grad.
    dtype : dtype, optional
        Force the dtype, e.g. ``numpy.float64`` for gradient checks.

    Examples
    --------
    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4.]], dtype=float32)
    """

    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op
    __slots__ = ("__dict__", "__weakref__", "_ctx", "_requires_grad", "data", "grad", "name")

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._requires_grad = False
        self.name = None
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data, ctx):
        """Wrap an op's output without any dtype conversion."""
        out = cls.__new__(Tensor)
        out.data = data if isinstance(data, xp.ndarray) else xp.asarray(data)
        out.grad = None
        out._ctx = ctx
        out._requires_grad = ctx is not None
        out.name = None
        return out

    # ----------------------------------------------------------------- basics
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if flag and not is_float_dtype(self.data.dtype):
            raise TypeError(
                f"requires_grad: only floating tensors can require grad, received dtype "
                f"{self.data.dtype}; convert with .float() first"
            )
        if not flag and self._ctx is not None:
            raise RuntimeError("requires_grad: cannot turn off grad on a non-leaf tensor; use .detach()")
        self._requires_grad = flag

    def requires_grad_(self, flag: bool = True) -> Tensor:
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self):
        """The data as an ndarray (shared, not copied). Refuses tensors in a graph."""
        if self.requires_grad:
            raise RuntimeError("numpy(): call .detach().numpy() on a tensor that requires grad")
        return self.data

    def item(self) -> Number:
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one element, received shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut from the graph."""
        return Tensor._from_op(self.data, None)

    def clone(self) -> Tensor:
        return F.clone(self)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor into the ``.grad`` of every leaf that requires grad.

        ``grad`` defaults to 1 for a scalar; a non-scalar needs it given. Gradients
        accumulate (``+=``). The saved arrays are released afterwards unless
        ``retain_graph=True``.
        """
        autograd.run_backward(self, grad, retain_graph=retain_graph)

    def astype(self, dtype) -> Tensor:
        return F.astype(self, dtype)

    def float(self) -> Tensor:
        return self.astype(DEFAULT_FLOAT)

    def double(self) -> Tensor:
        return self.astype(xp.float64)

    def long(self) -> Tensor:
        return Tensor(self.data.astype(xp.int64))

    def __repr__(self) -> str:
        body = xp.array2string(self.data, separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}" if self.dtype != DEFAULT_FLOAT else ""
        if self._ctx is not None:
            extra += f", grad_fn={type(self._ctx).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # by identity, as PyTorch (== is elementwise); the C slot keeps dict lookups fast

    # -------------------------------------------------------------- operators
    def __add__(self, other):
        return F.add(self, other)

    def __radd__(self, other):
        return F.add(other, self)

    def __sub__(self, other):
        return F.sub(self, other)

    def __rsub__(self, other):
        return F.sub(other, self)

    def __mul__(self, other):
        return F.mul(self, other)

    def __rmul__(self, other):
        return F.mul(other, self)

    def __truediv__(self, other):
        return F.div(self, other)

    def __rtruediv__(self, other):
        return F.div(other, self)

    def __pow__(self, other):
        return F.pow(self, other)

    def __rpow__(self, other):
        return F.pow(other, self)

    def __matmul__(self, other):
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        return F.matmul(other, self)

    def __neg__(self):
        return F.neg(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return F.getitem(self, index)

    # comparisons are not differentiable: they return boolean tensors
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, xp.less)

    def __le__(self, other):
        return self._compare(other, xp.less_equal)

    def __gt__(self, other):
        return self._compare(other, xp.greater)

    def __ge__(self, other):
        return self._compare(other, xp.greater_equal)

    def eq(self, other):
        return self._compare(other, xp.equal)

    # ---------------------------------------------------------------- methods
    def sum(self, axis=None, keepdims: bool = False):
        return F.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return F.mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, unbiased: bool = False):
        return F.var(self, axis=axis, keepdims=keepdims, unbiased=unbiased)

    def max(self, axis=None, keepdims: bool = False):
        return F.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return F.min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None):
        return Tensor(xp.argmax(self.data, axis=axis))

    def argmin(self, axis=None):
        return Tensor(xp.argmin(self.data, axis=axis))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.reshape(self, shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return F.flatten(self, start_dim, end_dim)

    def transpose(self, *axes):
        """Swap two axes (``transpose(0, 1)``, as PyTorch) or reverse them all (no arguments).

        With as many axes as dimensions (ndim > 2) it permutes, as NumPy does.
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return F.transpose(self, axes if axes else None)

    def permute(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return F.permute(self, axes)

    @property
    def T(self):
        return F.transpose(self, None)

    def squeeze(self, axis=None):
        return F.squeeze(self, axis)

    def unsqueeze(self, axis: int):
        return F.unsqueeze(self, axis)

    def exp(self):
        return F.exp(self)

    def log(self):
        return F.log(self)

    def sqrt(self):
        return F.sqrt(self)

    def abs(self):
        return F.abs(self)

    def clip(self, min=None, max=None):
        return F.clip(self, min, max)

    clamp = clip

    def pow(self, exponent):
        return F.pow(self, exponent)

    def relu(self):
        return F.relu(self)

    def sigmoid(self):
        return F.sigmoid(self)

    def tanh(self):
        return F.tanh(self)

    def softmax(self, axis: int = -1):
        return F.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1):
        return F.log_softmax(self, axis=axis)


autograd._Tensor = Tensor  # Function.apply wraps outputs without importing this module per call


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Create a :class:`Tensor` (float32 by default for floating data)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
