"""Tensor factories with PyTorch's names and call forms: ``zeros(2, 3)``, ``randn((), dtype=...)``.

Sizes are given as separate ints or one tuple. Floating results are float32 unless
``dtype`` says otherwise; ``arange`` of ints and ``randint`` give int64, as PyTorch.
The random factories draw from ``generator`` (a ``numpy.random.Generator``, or an int
seed), by default from the library's generator that :func:`chainrule.manual_seed` seeds;
NumPy's global random state is never used. ``device`` is accepted for PyTorch scripts
and must be the CPU.
"""

from __future__ import annotations

from .backend import DEFAULT_FLOAT, draw, host, is_float_dtype, xp
from .rng import get_generator
from .tensor import Tensor, check_device

__all__ = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "zeros",
    "zeros_like",
]


def _size(owner: str, size) -> tuple:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(())`` as a shape tuple of ints >= 0."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(n) for n in size)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}: expected sizes as ints or one tuple, received {size!r}"
        ) from None
    if any(n < 0 for n in shape) or any(isinstance(n, float) for n in size):
        raise ValueError(f"{owner}: expected non-negative int sizes, received {size!r}")
    return shape


def _make(owner: str, array, dtype, device, requires_grad: bool) -> Tensor:
    check_device(device)
    if dtype is not None:
        array = array.astype(xp.dtype(dtype), copy=False)
    if requires_grad and not is_float_dtype(array.dtype):
        raise TypeError(f"{owner}: only floating tensors can require grad, received dtype "
                        f"{array.dtype}")
    out = Tensor._from_op(array, None)
    out.requires_grad = requires_grad
    return out


def _float(dtype):
    return DEFAULT_FLOAT if dtype is None else xp.dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.zeros(2, 3).shape
    (2, 3)
    """
    return _make("zeros", xp.zeros(_size("zeros", size), dtype=_float(dtype)), None, device,
                 requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _make("ones", xp.ones(_size("ones", size), dtype=_float(dtype)), None, device,
                 requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    return _make("empty", xp.empty(_size("empty", size), dtype=_float(dtype)), None, device,
                 requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value (bool, int64 or
    float32) unless ``dtype`` is given, as PyTorch."""
    if dtype is None:
        dtype = (xp.bool_ if isinstance(fill_value, bool) else
                 xp.int64 if isinstance(fill_value, int) else DEFAULT_FLOAT)
    shape = _size("full", (size,) if isinstance(size, int) else tuple(size))
    return _make("full", xp.full(shape, fill_value, dtype=xp.dtype(dtype)), None, device,
                 requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The n × m identity matrix (m defaults to n)."""
    return _make("eye", xp.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end`` by ``step``;
    int64 when all three are ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero, received 0")
    integral = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step))
    if dtype is None:
        dtype = xp.int64 if integral else DEFAULT_FLOAT
    array = xp.arange(start, end, step, dtype=xp.int64 if integral else xp.float64)
    return _make("arange", array, dtype, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 default)."""
    if int(steps) < 0:
        raise ValueError(f"linspace: steps must be >= 0, received {steps}")
    array = xp.linspace(start, end, int(steps), dtype=xp.float64)
    return _make("linspace", array, _float(dtype), device, requires_grad)


def _random_float(owner, draw, size, generator, dtype, device, requires_grad):
    dtype = _float(dtype)
    if not is_float_dtype(dtype):
        raise TypeError(f"{owner}: expected a floating dtype, received {dtype}")
    shape = _size(owner, size)
    kind = dtype if dtype in (xp.float32, xp.float64) else xp.float64  # what Generator draws
    array = xp.asarray(draw(get_generator(generator), shape, host.dtype(kind)))
    return _make(owner, array, dtype, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1)."""
    return _random_float("rand", lambda g, s, d: g.random(s, dtype=d), size, generator, dtype,
                         device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal N(0, 1).

    Examples
    --------
    >>> import chainrule as cr
    >>> g = cr.manual_seed(0)
    >>> a = cr.randn(3)
    >>> g = cr.manual_seed(0)
    >>> bool((cr.randn(3) == a).all())
    True
    """
    return _random_float("randn", lambda g, s, d: g.standard_normal(s, dtype=d), size,
                         generator, dtype, device, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (int64 unless ``dtype`` is given)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, high, shape = 0, args[0], args[1]
    elif len(args) == 3:
        low, high, shape = args
    else:
        raise TypeError("randint: expected (high, size) or (low, high, size), received "
                        f"{len(args)} arguments")
    if int(high) <= int(low):
        raise ValueError(f"randint: expected low < high, received low={low}, high={high}")
    shape = _size("randint", (shape,) if isinstance(shape, int) else tuple(shape))
    array = draw(get_generator(generator), "integers", int(low), int(high), size=shape,
                 dtype=host.int64)
    return _make("randint", array, dtype, device, requires_grad)


def _like(owner, factory, other, dtype, requires_grad, **kwargs):
    dtype = other.dtype if dtype is None else dtype
    return factory(other.shape, dtype=dtype, requires_grad=requires_grad, **kwargs)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape and dtype."""
    return _like("zeros_like", zeros, input, dtype, requires_grad, device=device)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape and dtype."""
    return _like("ones_like", ones, input, dtype, requires_grad, device=device)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uninitialised, with ``input``'s shape and dtype."""
    return _like("empty_like", empty, input, dtype, requires_grad, device=device)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape and dtype."""
    dtype = input.dtype if dtype is None else dtype
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """Samples of U[0, 1) with ``input``'s shape (and dtype, when floating)."""
    return _like("rand_like", rand, input, dtype, requires_grad, generator=generator,
                 device=device)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None,
               requires_grad: bool = False) -> Tensor:
    """Samples of N(0, 1) with ``input``'s shape (and dtype, when floating)."""
    return _like("randn_like", randn, input, dtype, requires_grad, generator=generator,
                 device=device)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, generator=None,
                 dtype=None, device=None) -> Tensor:
    """Random integers in [low, high) with ``input``'s shape (``randint_like(x, high)``
    as PyTorch)."""
    if high is None:
        low, high = 0, low
    dtype = input.dtype if dtype is None else dtype
    return randint(low, high, input.shape, generator=generator, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing ``array``'s memory and keeping its dtype (float64 stays float64),
    as ``torch.from_numpy``: writes to one show in the other."""
    if not isinstance(array, host.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, received {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: expected a numeric array, received dtype {array.dtype}")
    return Tensor._from_op(xp.asarray(array), None)
