"""Scaled dot-product attention, composed from primitives (PyTorch's
``F.scaled_dot_product_attention``).

    Attention(Q, K, V) = softmax(Q Kᵀ · scale + M) V,   scale = 1/√E by default

with Q (…, L, E), K (…, S, E), V (…, S, Ev) and an additive mask M (0 where a
query may attend to a key, −∞ where not). The graph is matmul → (mask) →
softmax → (dropout) → matmul, so the backward is theirs chained: with
P = softmax(Z), Z = scale·Q Kᵀ + M and δ = ∂L/∂out,
∂L/∂V = Pᵀ δ, ∂L/∂P = δ Vᵀ, ∂L/∂Z = P ⊙ (∂L/∂P − Σ_s ∂L/∂P ⊙ P),
∂L/∂Q = scale · ∂L/∂Z K, ∂L/∂K = scale · (∂L/∂Z)ᵀ Q.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from ._util import as_tensor
from .activation import dropout, softmax
from .linalg import matmul
from .shape import transpose

__all__ = ["attend", "attention_mask", "scaled_dot_product_attention"]


def attention_mask(mask, dtype, allowed_if_true: bool = True):
    """An additive float mask (0 or −∞) from a boolean mask, or a float mask as it is.

    ``allowed_if_true``: SDPA's convention (True = may attend); nn.MultiheadAttention's
    masks use the opposite one (True = masked out).
    """
    array = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if array.dtype == bool:
        allowed = array if allowed_if_true else ~array
        return xp.where(allowed, 0.0, -xp.inf).astype(dtype)
    if array.dtype.kind != "f":
        raise TypeError(
            f"attention mask: expected a boolean or floating mask, received dtype {array.dtype}"
        )
    return array.astype(dtype)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    generator=None,
) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V over the last two axes, leading axes batched.

    Parameters
    ----------
    query : Tensor (…, L, E)
    key : Tensor (…, S, E)
    value : Tensor (…, S, Ev)
    attn_mask : array broadcastable to (…, L, S), optional
        Boolean (True: the query may attend to that key) or float (added to the scores).
    dropout_p : float
        Dropout on the attention weights (pass 0 in evaluation, as PyTorch asks).
    is_causal : bool
        Query i attends to keys 0 … i only (needs no ``attn_mask``).
    scale : float, optional
        Default 1/√E.
    generator : numpy.random.Generator, optional
        For the dropout mask.

    Returns
    -------
    Tensor (…, L, Ev). A query whose keys are all masked gets NaN, as in PyTorch.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> q = k = cr.tensor(np.zeros((1, 2, 2)))  # equal scores: uniform over the allowed keys
    >>> v = cr.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).tolist()
    [[[1.0, 0.0], [0.5, 0.5]]]
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    owner = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"{owner}: expected query (…, L, E), key (…, S, E) and value (…, S, Ev), "
            f"received {q.shape}, {k.shape} and {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{owner}: query and key need the same E and key and value the same S, "
            f"received {q.shape}, {k.shape} and {v.shape}"
        )
    if is_causal and attn_mask is not None:
        raise ValueError(f"{owner}: give attn_mask or is_causal, not both")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{owner}: dropout_p must be in [0, 1], received {dropout_p}")
    if is_causal:
        attn_mask = xp.tril(xp.ones((q.shape[-2], k.shape[-2]), dtype=bool))
    mask = None if attn_mask is None else attention_mask(attn_mask, q.dtype)
    return attend(q, k, v, mask, dropout_p, scale, generator)[0]


def attend(q, k, v, mask=None, dropout_p: float = 0.0, scale: float | None = None, generator=None):
    """The shared core: (softmax(Q Kᵀ · scale + mask) V, the attention weights after dropout).

    ``mask`` is additive (see :func:`attention_mask`) or None; shapes as
    :func:`scaled_dot_product_attention`, which checks them.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = matmul(q, transpose(k, (-2, -1))) * scale
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, training=True, generator=generator)
    return matmul(weights, v), weights
