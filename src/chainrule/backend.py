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
