"""Channel ("feature") dropout: ``dropout1d`` and ``dropout2d`` zero whole channels.

The mask has shape (N, C, 1[, 1]) and broadcasts over the spatial axes, so
the product x ⊙ mask (composed, with gradient g ⊙ mask) drops a feature map
as a whole, as PyTorch's ``nn.Dropout1d`` / ``nn.Dropout2d``; kept channels are
scaled by 1/(1 − p).
"""

from __future__ import annotations

from ..backend import draw, xp
from ..rng import get_generator
from ..tensor import Tensor
from ._util import as_tensor

__all__ = ["dropout1d", "dropout2d"]


def _channel_dropout(owner, x, p, training, generator, spatial):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{owner}: p must be a number in [0, 1], received {p!r}")
    x = as_tensor(x)
    if x.ndim not in (spatial + 1, spatial + 2):
        dims = "(N, C, L) or (C, L)" if spatial == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{owner}: expected input of shape {dims}, received {x.shape}")
    if not training or p == 0:
        return x
    channels = x.shape[: x.ndim - spatial]
    if p == 1:
        keep = xp.zeros(channels, dtype=bool)
    else:
        keep = draw(get_generator(generator), "random", channels) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = (keep * scale).astype(x.dtype).reshape(channels + (1,) * spatial)
    return x * mask


def dropout1d(input, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Zero each channel of (N, C, L) with probability ``p``, scale the rest by 1/(1 − p).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> y = F.dropout1d(cr.tensor(np.ones((2, 8, 5))), 0.5, generator=np.random.default_rng(0))
    >>> sorted(set(y.numpy()[0].ravel().tolist()))  # kept channels are scaled by 2
    [0.0, 2.0]
    >>> bool((y.numpy().std(axis=2) == 0).all())  # each channel all zeros or all twos
    True
    """
    return _channel_dropout("dropout1d", input, p, training, generator, spatial=1)


def dropout2d(input, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Zero each channel (feature map) of (N, C, H, W) with probability ``p``;
    see :func:`dropout1d`."""
    return _channel_dropout("dropout2d", input, p, training, generator, spatial=2)
