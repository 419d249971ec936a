"""chainrule: neural networks trained by backpropagation, written on NumPy.

The core is :class:`Tensor` (an array that records operations),
:mod:`chainrule.autograd` (the reverse-mode engine) and
:mod:`chainrule.functional` (the differentiable primitives). Layers live in
:mod:`chainrule.nn`, optimizers in :mod:`chainrule.optim`.

``import chainrule as cr`` gives PyTorch's top-level names: ``cr.nn``, ``cr.optim``,
``cr.functional`` (also ``cr.nn.functional``), ``cr.autograd``, the factories
(``cr.zeros``, ``cr.randn`` ...), the dtypes (``cr.float32``, ``cr.long`` ...) and
functions such as ``cr.exp`` and ``cr.cat``. ``cr.data``, ``cr.train``, ``cr.io`` and
``cr.estimators`` are imported on first use, so ``import chainrule`` stays quick.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib as _importlib
import os as _os

from . import backend

from . import autograd  # first: the engine, then Function, which imports tensor  # isort: skip
from . import functional
from .autograd import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .functional import (
    abs,
    argmax,
    argmin,
    bmm,
    cat,
    chunk,
    clamp,
    clip,
    cos,
    exp,
    flatten,
    gather,
    index_select,
    log,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .functional.activation import log_softmax
from .functional.methods import install as _install_tensor_methods
from .rng import manual_seed
from .tensor import Tensor, device, tensor

_install_tensor_methods(Tensor)  # the one place Tensor gets its operators and computing methods

from . import nn, optim  # noqa: E402  (nn and optim use Tensor's operators)

# dtypes, as PyTorch names them (NumPy dtypes: ``x.dtype == cr.float32`` holds)
float16 = half = backend.xp.dtype("float16")
float32 = float = backend.xp.dtype("float32")
float64 = double = backend.xp.dtype("float64")
int8 = backend.xp.dtype("int8")
uint8 = backend.xp.dtype("uint8")
int16 = short = backend.xp.dtype("int16")
int32 = int = backend.xp.dtype("int32")
int64 = long = backend.xp.dtype("int64")
bool = backend.xp.dtype("bool")

_retain = _os.environ.get(backend.RETAIN_MEMORY_ENV, "1").strip().lower()
if _retain not in ("0", "false", "no", "off"):
    backend.retain_freed_memory()

_LAZY_SUBMODULES = ("data", "train", "io", "estimators", "presets", "cli")


def __getattr__(name: str):
    """Import ``chainrule.data``, ``.train``, ``.io``, ``.estimators`` on first access."""
    if name in _LAZY_SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


def save(model, path, **kwargs):
    """Save a model (safetensors weights + a JSON architecture); see :mod:`chainrule.io`."""
    from . import io

    return io.save(model, path, **kwargs)


def load(path, **kwargs):
    """Load a model saved by :func:`save`; see :mod:`chainrule.io`."""
    from . import io

    return io.load(path, **kwargs)


def save_state_dict(obj, path) -> None:
    """Write a (module's) state dict as one safetensors file; see :mod:`chainrule.io.state_dict`."""
    from .io.state_dict import save_state_dict as save_it

    save_it(obj, path)


def load_state_dict(path) -> dict:
    """Read a safetensors state dict into name → ndarray; see :mod:`chainrule.io.state_dict`."""
    from .io.state_dict import load_state_dict as load_it

    return load_it(path)


def is_tensor(obj) -> bool:
    """True for a :class:`Tensor` (or a Parameter)."""
    return isinstance(obj, Tensor)


__all__ = [
    "Tensor",
    "__version__",
    "abs",
    "arange",
    "argmax",
    "argmin",
    "autograd",
    "bmm",
    "bool",
    "cat",
    "chunk",
    "clamp",
    "clip",
    "cos",
    "detect_anomaly",
    "device",
    "double",
    "empty",
    "empty_like",
    "enable_grad",
    "exp",
    "eye",
    "flatten",
    "float",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "functional",
    "gather",
    "half",
    "index_select",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_tensor",
    "linspace",
    "load",
    "load_state_dict",
    "log",
    "log_softmax",
    "long",
    "manual_seed",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mm",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "permute",
    "pow",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "relu",
    "reshape",
    "save",
    "save_state_dict",
    "set_grad_enabled",
    "short",
    "sigmoid",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "uint8",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
