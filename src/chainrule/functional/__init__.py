"""The differentiable primitives, one module per family (import as ``F``).

Every function takes and returns :class:`chainrule.Tensor`; each primitive's
forward and backward sit side by side in its module.
"""

from .. import tensor as _tensor_module
from . import activation_extra, conv, normalization, pool, recurrent
from .activation import dropout, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .activation_extra import elu, hardtanh, mish, prelu, silu, softplus
from .conv import *
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    square,
    sub,
    where,
)
from .linalg import linear, matmul
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import *
from .pool import *
from .recurrent import *
from .reduce import max, mean, min, sum, var
from .shape import (
    cat,
    clone,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

_tensor_module.F = __import__(__name__, fromlist=["_"])

__all__ = [
    "abs",
    "add",
    "astype",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cat",
    "clip",
    "clone",
    "cross_entropy",
    "div",
    "dropout",
    "exp",
    "flatten",
    "gelu",
    "getitem",
    "huber_loss",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mse_loss",
    "mul",
    "neg",
    "nll_loss",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
]
__all__ += activation_extra.__all__
__all__ += conv.__all__ + normalization.__all__ + pool.__all__ + recurrent.__all__
