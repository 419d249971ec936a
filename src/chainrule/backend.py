"""The one place that names the array module.

Every other module of chainrule reaches NumPy through ``xp`` (or the helpers
below), so a GPU array library with NumPy's API (CuPy) can stand in later by
changing this file alone.
"""

from __future__ import annotations

import math

import numpy

xp = numpy
"""The array module in use (NumPy today)."""

host = numpy
"""Host-side NumPy, for what must stay on the CPU whatever ``xp`` is: random
generators (``numpy.random.Generator`` is the public contract) and the
scikit-learn boundary."""

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


_scipy_erf = None


def erf(x):
    """The error function, elementwise, in the dtype of ``x``.

    SciPy's exact, vectorised erf when SciPy is installed (it comes with
    scikit-learn); otherwise ``math.erf`` elementwise.
    """
    global _scipy_erf
    if _scipy_erf is None:
        try:
            from scipy.special import erf as found
        except ImportError:  # pragma: no cover - exercised only without SciPy
            found = False
        _scipy_erf = found
    if _scipy_erf:
        return _scipy_erf(x).astype(x.dtype, copy=False)
    return xp.vectorize(math.erf, otypes=[x.dtype])(x)


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
    ``CHAINRULE_RETAIN_MEMORY`` is ``0`` (or false, no, off). ``enable=False`` sets both thresholds back to
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
    mmap, trim = (_RETAINED_MMAP_THRESHOLD, _RETAINED_TRIM_THRESHOLD) if enable else (_GLIBC_DEFAULT, _GLIBC_DEFAULT)
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))
