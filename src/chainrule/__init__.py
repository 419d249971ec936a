"""chainrule: neural networks trained by backpropagation, written on NumPy.

The core is :class:`Tensor` (an array that records operations),
:mod:`chainrule.autograd` (the reverse-mode engine) and
:mod:`chainrule.functional` (the differentiable primitives). Layers live in
:mod:`chainrule.nn`, optimizers in :mod:`chainrule.optim`.
"""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os

from . import autograd, backend, functional
from .autograd import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from .rng import manual_seed
from .tensor import Tensor, tensor

if _os.environ.get(backend.RETAIN_MEMORY_ENV, "1").strip().lower() not in ("0", "false", "no", "off"):
    backend.retain_freed_memory()


def save(model, path, **kwargs):
    """Save a model (safetensors weights + a JSON architecture); see :mod:`chainrule.io`."""
    from . import io

    return io.save(model, path, **kwargs)


def load(path, **kwargs):
    """Load a model saved by :func:`save`; see :mod:`chainrule.io`."""
    from . import io

    return io.load(path, **kwargs)


__all__ = [
    "Tensor",
    "__version__",
    "autograd",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "load",
    "manual_seed",
    "no_grad",
    "save",
    "set_grad_enabled",
    "tensor",
]
