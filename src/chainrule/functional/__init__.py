"""The differentiable primitives, one module per family (import as ``F``).

Every function takes and returns :class:`chainrule.Tensor`; each primitive's
forward and backward sit side by side in its module.
"""

from .. import tensor as _tensor_module
from . import conv, normalization, pool, recurrent
from .activation import dropout, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .activation_extra import elu, hardtanh, mish, prelu, silu, softplus
from .attention import scaled_dot_product_attention
from .conv import *
from .conv_transpose import conv_transpose1d, conv_transpose2d
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
from .encoding import one_hot
from .feature_dropout import dropout1d, dropout2d
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
from .resample import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, interpolate
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
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "add",
    "astype",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cat",
    "clip",
    "clone",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "div",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "exp",
    "flatten",
    "gelu",
    "getitem",
    "hardtanh",
    "huber_loss",
    "interpolate",
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
    "mish",
    "mse_loss",
    "mul",
    "neg",
    "nll_loss",
    "one_hot",
    "pad",
    "permute",
    "pow",
    "prelu",
    "relu",
    "scaled_dot_product_attention",
    "reshape",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
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
__all__ += conv.__all__ + normalization.__all__ + pool.__all__ + recurrent.__all__
