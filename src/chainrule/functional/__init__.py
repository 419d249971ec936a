"""The differentiable primitives, one module per family (import as ``F``).

Every function takes and returns :class:`chainrule.Tensor`; each primitive's
forward and backward sit side by side in its module.
"""

from .. import tensor as _tensor_module
from . import conv, normalization, pool, recurrent
from .activation import dropout, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .elementwise import abs, add, astype, clip, div, exp, log, maximum, minimum, mul, neg, pow, sqrt, square, sub, where
from .linalg import linear, matmul
from .loss import binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, nll_loss
from .reduce import max, mean, min, sum, var
from .conv import *  # noqa: F401,F403  (conv1d, conv2d, ...)
from .normalization import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .shape import cat, clone, flatten, getitem, pad, permute, reshape, squeeze, stack, transpose, unsqueeze

_tensor_module.F = __import__(__name__, fromlist=["_"])

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax", "dropout",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clip", "where",
    "astype", "maximum", "minimum", "square",
    "matmul", "linear",
    "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits",
    "sum", "mean", "var", "max", "min",
    "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "getitem", "cat",
    "stack", "clone", "pad",
]
__all__ += conv.__all__ + normalization.__all__ + pool.__all__ + recurrent.__all__
