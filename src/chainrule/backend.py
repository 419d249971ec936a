"""The one switch for the array library: every call that differs between NumPy and CuPy.

Every other module of chainrule reaches the array library through this one,
never by importing NumPy or SciPy itself (a test checks it):

- ``xp``, the array module, for the calls NumPy and CuPy spell alike
  (``xp.zeros``, ``xp.matmul``, ``xp.float32``, ...);
- ``host``, NumPy itself, for what stays on the CPU whatever ``xp`` is:
  random generators (``numpy.random.Generator`` is the public contract),
  file formats and the scikit-learn boundary;
- the functions below, for each call that differs: :func:`errstate`
  (floating-point warnings), :func:`scatter_add` (``np.add.at``),
  :func:`erf`, :func:`to_numpy` / :func:`from_host` (host ↔ device),
  :func:`draw` (random draws made on the host generator, delivered as ``xp``
  arrays), :func:`xlogy`, and :func:`minimize` (SciPy's optimizer, for the estimators'
  L-BFGS).

The library is chosen once, when chainrule is imported, by the environment
variable ``CHAINRULE_BACKEND``: ``numpy`` (the default) is the only one
implemented. An unknown or unavailable name raises ImportError naming the
variable, the value received and the choices. CuPy is not supported yet;
supporting it is meant to be a change to this file alone (a ``cupy`` entry
whose functions use ``cupy.asnumpy``, ``cupyx.scatter_add``,
``cupyx.scipy.special.erf`` and a no-op ``errstate``), and it is not
claimed to work before it is tested on a GPU.
"""

from __future__ import annotations

import math
import os
from contextlib import AbstractContextManager

import numpy

BACKEND_ENV = "CHAINRULE_BACKEND"
"""The environment variable that selects the array library (read once, at import)."""

BACKENDS = ("numpy",)
"""The array libraries chainrule implements."""


def _selected_backend() -> str:
    name = os.environ.get(BACKEND_ENV, "").strip().lower() or "numpy"
    if name not in BACKENDS:
        remedy = ("CuPy is not supported yet" if name == "cupy"
                  else f"expected one of {', '.join(BACKENDS)}")
        raise ImportError(f"{BACKEND_ENV}: {remedy}, received {name!r}; unset {BACKEND_ENV} "
                          "to use NumPy")
    return name


name = _selected_backend()
"""The name of the array library in use."""

xp = numpy
"""The array module in use (NumPy)."""

host = numpy
"""Host-side NumPy, for what must stay on the CPU whatever ``xp`` is: random
generators (``numpy.random.Generator`` is the public contract), file formats
and the scikit-learn boundary."""

ndarray = xp.ndarray
float32 = xp.float32
float64 = xp.float64
int64 = xp.int64

DEFAULT_FLOAT = xp.dtype(xp.float32)


def get_array_module(*arrays):
    """Return the array module that the given arrays belong to (always ``xp`` here)."""
    return xp


def is_float_dtype(dtype) -> bool:
    """True for real floating dtypes (float16/32/64)."""
    return xp.dtype(dtype).kind == "f"


def to_numpy(array):
    """Return ``array`` as a host NumPy array (a no-op on NumPy)."""
    return numpy.asarray(array)


def from_host(array, dtype=None):
    """Return a host (NumPy) array as an array of ``xp`` (a no-op on NumPy)."""
    return xp.asarray(array, dtype=dtype)


def errstate(**kwargs) -> AbstractContextManager:
    """Context manager setting how floating-point errors are handled, as ``numpy.errstate``.

    Examples
    --------
    >>> with errstate(divide="ignore"):
    ...     print(xp.float64(1.0) / xp.float64(0.0))
    inf
    """
    return xp.errstate(**kwargs)


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` with repeated indices adding up (``numpy.add.at``), in place.

    Examples
    --------
    >>> target = xp.zeros(3)
    >>> scatter_add(target, xp.array([0, 0, 2]), xp.array([1.0, 2.0, 5.0]))
    >>> target
    array([3., 0., 5.])
    """
    xp.add.at(target, indices, values)


def draw(generator, method: str, *args, **kwargs):
    """A random draw ``getattr(generator, method)(*args, **kwargs)`` as an ``xp`` array.

    Draws come from the host generator (a ``numpy.random.Generator``, chainrule's
    public contract for randomness), so a seed gives the same numbers whatever
    the array library; the result is moved to ``xp``.

    Examples
    --------
    >>> draw(host.random.default_rng(0), "random", (2,)).shape
    (2,)
    """
    return from_host(getattr(generator, method)(*args, **kwargs))


_SERIES_TERMS = 45
"""Terms of erf's series, enough for float64 on |x| < 3 (the last one is below 1e-17 of the sum)."""
_FRACTION_DEPTH = 60
"""Depth of erfc's continued fraction, enough for float64 on 3 ≤ |x| < 6."""


def erf(x):
    """The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise, in the dtype of ``x``.

    Computed in float64 to about 2e-15 relative error: for |x| < 3 by the series
    erf(x) = 2/√π e^(−x²) Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (all terms positive,
    so nothing cancels); for 3 ≤ |x| < 6 as 1 − erfc(x) with erfc's continued
    fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))); beyond, ±1
    (erfc(6) < 2.2e-17).

    Examples
    --------
    >>> round(float(erf(xp.array([0.5]))[0]), 12)
    0.520499877813
    """
    x = xp.asarray(x)
    a = xp.minimum(xp.abs(x.astype(xp.float64)), 6.0)
    result = xp.ones_like(a)
    near = a < 3.0
    s = a[near]
    term, total, ratio = s.copy(), s.copy(), 2.0 * s * s
    for n in range(1, _SERIES_TERMS + 1):
        term *= ratio / (2 * n + 1)
        total += term
    result[near] = (2.0 / math.sqrt(math.pi)) * xp.exp(-s * s) * total
    far = ~near & (a < 6.0)
    t = a[far]
    fraction = t.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        fraction = t + (k / 2.0) / fraction
    result[far] = 1.0 - xp.exp(-t * t) / (math.sqrt(math.pi) * fraction)
    result[xp.isnan(a)] = xp.nan
    dtype = x.dtype if is_float_dtype(x.dtype) else xp.float64
    return xp.copysign(result, x).astype(dtype, copy=False)


def xlogy(x, y):
    """x · log(y) elementwise, 0 where x = 0 (as ``scipy.special.xlogy``), in float64 or x's dtype.

    Examples
    --------
    >>> xlogy(xp.array([0.0, 2.0]), xp.array([0.0, 1.0]))
    array([0., 0.])
    """
    x, y = xp.asarray(x), xp.asarray(y)
    zero = x == 0
    with errstate(divide="ignore", invalid="ignore"):
        return xp.where(zero, 0.0, x * xp.log(xp.where(zero, 1.0, y)))


def minimize(*args, **kwargs):
    """SciPy's ``scipy.optimize.minimize`` on host arrays (the estimators' L-BFGS solver).

    SciPy comes with scikit-learn; the estimators are its only user.
    """
    from scipy.optimize import minimize as scipy_minimize

    return scipy_minimize(*args, **kwargs)


# glibc's mallopt parameters and the values :func:`retain_freed_memory` sets
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_DEFAULT = 128 * 1024  # both thresholds' documented defaults
_RETAINED_MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc documents for 64-bit systems
_RETAINED_TRIM_THRESHOLD = 2 ** 31 - 1

RETAIN_MEMORY_ENV = "CHAINRULE_RETAIN_MEMORY"
"""Set this environment variable to ``0`` (or false, no, off) before importing chainrule to keep
glibc's defaults."""


def retain_freed_memory(enable: bool = True) -> bool:
    """Keep freed array memory in the process for reuse instead of returning it to the OS.

    A training step allocates and frees the same large arrays (activations, im2col
    buffers, gradients) every time. With glibc's defaults, blocks above a threshold
    (128 KiB, raised dynamically up to the largest block freed) are returned to the kernel
    when freed, so the next step faults them back in page by page, zero-filled. On
    the benchmark machine that roughly doubled the time of a LeNet or LSTM training
    step (see README.md, Performance). This sets glibc's ``M_MMAP_THRESHOLD`` to 32 MiB
    and ``M_TRIM_THRESHOLD`` to 2 GiB: arrays under 32 MiB come from the heap and the
    heap is not trimmed, the effect that PyTorch's CPU tuning guides get by preloading
    tcmalloc or jemalloc. The cost: the process keeps its peak heap size.

    ``import chainrule`` calls this once unless the environment variable
    ``CHAINRULE_RETAIN_MEMORY`` is ``0`` (or false, no, off). ``enable=False`` sets both
    thresholds back to
    glibc's defaults (without the dynamic raising, which glibc turns off once set).
    Returns True when the setting was applied, False where glibc's ``mallopt`` is
    unavailable (macOS, Windows, musl); nothing changes there.
    """
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc always exports mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    retained = (_RETAINED_MMAP_THRESHOLD, _RETAINED_TRIM_THRESHOLD)
    mmap, trim = retained if enable else (_GLIBC_DEFAULT, _GLIBC_DEFAULT)
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))
