"""The Tensor: an array, its gradient, and the node that made it.

A :class:`Tensor` wraps an ndarray (``.data``). When it ``requires_grad``,
operations on it are recorded (see :mod:`chainrule.autograd`) and
``backward()`` fills ``.grad`` of every leaf tensor that requires grad.

Gradients **accumulate**: each ``backward()`` adds into ``.grad`` with ``+=``,
as in PyTorch, so mini-batch gradients can be summed over several calls. Call
``zero_grad()`` (or the optimizer's / module's ``zero_grad``) between steps.
``.grad`` is an ndarray (not a Tensor): the optimizers update with it directly.

This module holds what a tensor *is* (data, grad, graph node, hooks, version
count). The operators and the methods that compute (``+``, ``==``, ``sum``,
``view``, ``add_`` ...) are the functional primitives, set on the class by
:func:`chainrule.functional.methods.install`, called once by ``import chainrule``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .autograd.engine import VersionCounter, run_backward, seed_gradients
from .autograd.hooks import HooksDict, RemovableHandle
from .backend import DEFAULT_FLOAT, is_float_dtype, xp

__all__ = ["Tensor", "device", "tensor"]


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
        return array.astype(DEFAULT_FLOAT)  # Python floats, float64/float16 arrays: float32
    return array


class device:
    """Where a tensor's array lives: always the CPU (NumPy), as ``torch.device('cpu')``.

    ``device('cpu')`` and ``device('cpu', 0)`` are accepted so PyTorch scripts run;
    any other type raises ValueError.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.device("cpu")
    device(type='cpu')
    """

    type: str
    index: int | None

    def __init__(self, type: str | device = "cpu", index: int | None = None):
        if isinstance(type, device):
            index = type.index
            type = type.type
        name = str(type).split(":")[0]
        if name != "cpu":
            raise ValueError(
                f"device: chainrule computes on the CPU with NumPy, received device {type!r}; "
                "use 'cpu'"
            )
        self.type, self.index = "cpu", index

    def __eq__(self, other) -> bool:
        return isinstance(other, (device, str)) and device(other).type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


def check_device(value) -> None:
    """Accept None, ``'cpu'`` or a cpu :class:`device`; raise ValueError for any other device."""
    if value is not None:
        device(value)


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
    # Rarely set, so class-level defaults (an instance sets its own only when needed)
    _vc: VersionCounter | None = None  # in-place version count, shared with detach()
    _hooks: HooksDict | None = None  # register_hook's {id: hook}
    _retains_grad: bool = False  # retain_grad() on a non-leaf

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
            raise RuntimeError(
                "requires_grad: cannot turn off grad on a non-leaf tensor; use .detach()"
            )
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

    def size(self, dim: int | None = None):
        """The shape (a tuple), or the size of dimension ``dim``, as PyTorch; ``numel()`` counts."""
        if dim is None:
            return self.data.shape
        if not -max(self.data.ndim, 1) <= dim < max(self.data.ndim, 1):
            raise IndexError(f"size: dim {dim} is out of range for a tensor with "
                             f"{self.data.ndim} dimensions")
        return self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> device:
        return device("cpu")

    @property
    def grad_fn(self):
        """The recorded node that produced this tensor (None for a leaf): a
        :class:`~chainrule.autograd.Function` with ``name()`` and ``next_functions``."""
        return self._ctx

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self):
        """The data as an ndarray (shared, not copied). Refuses tensors in a graph."""
        if self.requires_grad:
            raise RuntimeError("numpy(): call .detach().numpy() on a tensor that requires grad")
        return self.data

    def item(self) -> Any:  # a Python number: float, int or bool
        if self.data.size != 1:
            raise ValueError(
                f"item(): expected a tensor with one element, received shape {self.shape}"
            )
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data (and its in-place version count), cut from the graph."""
        out = Tensor._from_op(self.data, None)
        if self._vc is None:
            self._vc = VersionCounter()
        out._vc = self._vc
        return out

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, *, grad=None) -> None:
        """Backpropagate from this tensor into the ``.grad`` of every leaf that requires grad.

        ``gradient`` (or ``grad=``) defaults to 1 for a scalar; a non-scalar needs it given.
        Gradients accumulate (``+=``). The saved arrays are released afterwards unless
        ``retain_graph=True``. ``create_graph=True`` is not supported (see
        :func:`chainrule.autograd.grad`).
        """
        if create_graph:
            raise NotImplementedError(
                "backward: create_graph=True is not supported; chainrule's backward functions "
                "compute on arrays, so gradients cannot be differentiated again"
            )
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward: pass gradient= or grad= (the same), not both")
            gradient = grad
        seeds = seed_gradients([self], None if gradient is None else [gradient], "backward")
        run_backward([self], seeds, retain_graph=bool(retain_graph))

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` each time the gradient of this tensor is computed.

        As PyTorch: ``grad`` is a Tensor; a hook that returns a tensor (or array) replaces
        the gradient passed on (and, for a leaf, accumulated into ``.grad``); one that
        returns None leaves it unchanged. A leaf's hooks see the sum of every path, once
        per backward. Returns a handle whose ``remove()`` unregisters the hook.

        Examples
        --------
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = w.register_hook(lambda g: g * 0)
        >>> (w * 3).sum().backward()
        >>> w.grad
        array([0., 0.], dtype=float32)
        >>> handle.remove()
        """
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that does not require grad"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: expected a callable, received {type(hook).__name__}")
        if self._hooks is None:
            self._hooks = HooksDict()
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` on backward (leaves always do)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: cannot retain the gradient of a tensor that does "
                               "not require grad")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        """How many in-place ops changed this tensor's array (PyTorch's ``_version``)."""
        return 0 if self._vc is None else self._vc.value

    def __repr__(self) -> str:
        body = xp.array2string(self.data, separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}" if self.dtype != DEFAULT_FLOAT else ""
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # by identity, as PyTorch (== is elementwise); the C slot keeps dict lookups fast
    __hash__ = object.__hash__

    if TYPE_CHECKING:
        # The operators and the computing methods are set on the class by
        # chainrule.functional.methods.install (the primitives import this module, so they
        # cannot be defined here); these declarations tell the type checker they exist.
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __neg__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...


def tensor(data, requires_grad: bool = False, dtype=None, *, device=None) -> Tensor:
    """Create a :class:`Tensor` (float32 by default for floating data); ``device`` must be
    the CPU."""
    check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
