"""``MultiheadAttention`` (PyTorch's ``nn.MultiheadAttention``: layout, parameter names, masks).

For h heads of size d = E/h the layer computes::

    Q = query W_qᵀ + b_q,  K = key W_kᵀ + b_k,  V = value W_vᵀ + b_v  (in_proj_weight: W_q; W_k;
    W_v)
    headᵢ = softmax(Qᵢ Kᵢᵀ / √d + M) Vᵢ                               (Qᵢ: the i-th d columns)
    out = [head₁ … head_h] W_oᵀ + b_o                                 (out_proj)

where M holds −∞ at masked (query, key) pairs. Everything is composed from
primitives (linear, matmul, softmax, dropout, reshape), so the gradient is
theirs chained; see :func:`chainrule.functional.scaled_dot_product_attention`.
"""

from __future__ import annotations

from .. import functional as F
from ..backend import xp
from ..functional.attention import attend, attention_mask
from ..rng import get_generator
from ..tensor import Tensor
from . import init
from .linear import Linear, as_input, check_positive_int, resolve_dtype
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), PyTorch's ``nn.MultiheadAttention``.

    Parameters
    ----------
    embed_dim : int
        E, the size of each query, key and value vector (kdim = vdim = E).
    num_heads : int
        h; must divide ``embed_dim``.
    dropout : float
        Dropout on the attention weights, in training mode.
    bias : bool
        Biases of the input and output projections.
    batch_first : bool
        Inputs (N, L, E) instead of PyTorch's default (L, N, E).
    dtype, generator : optional
        Parameter dtype; randomness for the initialisation and the dropout.

    Notes
    -----
    Parameters are PyTorch's: ``in_proj_weight`` (3E, E), ``in_proj_bias`` (3E,),
    ``out_proj.weight`` (E, E), ``out_proj.bias`` (E,). Initialisation as PyTorch:
    Xavier-uniform for ``in_proj_weight``, zero biases, ``out_proj.weight`` as nn.Linear.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``: output
    (L, N, E) (or (N, L, E)); weights (N, L, S) averaged over heads, (N, h, L, S) with
    ``average_attn_weights=False``, or None unless ``need_weights``. Masks use PyTorch's
    convention: a boolean True marks a position that may NOT be attended to;
    ``key_padding_mask`` is (N, S), ``attn_mask`` (L, S) or (N·h, L, S), float masks are added.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> attn = nn.MultiheadAttention(8, 2, batch_first=True, generator=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(3, 5, 8))
    >>> out, weights = attn(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim=None,
        vdim=None,
        batch_first: bool = False,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = check_positive_int(name, "embed_dim", embed_dim)
        self.num_heads = check_positive_int(name, "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"{name}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if (
            add_bias_kv
            or add_zero_attn
            or kdim not in (None, embed_dim)
            or vdim not in (None, embed_dim)
        ):
            raise ValueError(
                f"{name}: add_bias_kv, add_zero_attn and kdim/vdim other than embed_dim are "
                "not supported; project keys and values to embed_dim first"
            )
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout <= 1
        ):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], received {dropout!r}")
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        dtype = resolve_dtype(name, dtype)
        E = self.embed_dim
        self.in_proj_weight = Parameter(xp.empty((3 * E, E), dtype=dtype), dtype=dtype)
        if bias:
            self.in_proj_bias = Parameter(xp.zeros(3 * E, dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, generator=generator)
        self.generator = None if generator is None else get_generator(generator)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's: xavier_uniform_ for in_proj_weight, zeros for both biases,
        out_proj.weight as nn.Linear (kaiming_uniform_, a = √5)."""
        init.xavier_uniform_(self.in_proj_weight, generator=generator)
        self.out_proj.reset_parameters(generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, query, key, value):
        """Q, K, V by the input projection: one product when query, key and value are one tensor."""
        W, b, E = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:
            qkv = F.linear(query, W, b)
            return qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
        parts = []
        for i, x in enumerate((query, key, value)):
            rows = slice(i * E, (i + 1) * E)
            parts.append(F.linear(x, W[rows], None if b is None else b[rows]))
        return parts

    def _mask(self, key_padding_mask, attn_mask, N, L, S, dtype):
        """One additive mask broadcastable to (N, h, L, S), or None."""
        total = None
        if key_padding_mask is not None:
            padding = attention_mask(key_padding_mask, dtype, allowed_if_true=False)
            if padding.shape != (N, S):
                raise ValueError(
                    f"MultiheadAttention: expected key_padding_mask of shape ({N}, {S}), "
                    f"received {padding.shape}"
                )
            total = padding.reshape(N, 1, 1, S)
        if attn_mask is not None:
            mask = attention_mask(attn_mask, dtype, allowed_if_true=False)
            if mask.shape == (L, S):
                mask = mask.reshape(1, 1, L, S)
            elif mask.shape == (N * self.num_heads, L, S):
                mask = mask.reshape(N, self.num_heads, L, S)
            else:
                raise ValueError(
                    f"MultiheadAttention: expected attn_mask of shape ({L}, {S}) or "
                    f"({N * self.num_heads}, {L}, {S}), received {mask.shape}"
                )
            total = mask if total is None else total + mask
        return total

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        dtype = self.in_proj_weight.dtype
        same = query is key and key is value  # self-attention: one input projection
        query, key, value = (
            x if isinstance(x, Tensor) else as_input(x, dtype) for x in (query, key, value)
        )
        unbatched = query.ndim == 2
        expected = "(L, E)" if unbatched else ("(N, L, E)" if self.batch_first else "(L, N, E)")
        ndim = 2 if unbatched else 3
        if (
            any(x.ndim != ndim or x.shape[-1] != self.embed_dim for x in (query, key, value))
            or key.shape != value.shape
        ):
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}): expected query {expected} "
                f"and key, value of one shape, last dimension {self.embed_dim}; received "
                f"{query.shape}, {key.shape}, {value.shape}"
            )
        if unbatched or not self.batch_first:  # to (N, L, E)

            def to_batch_first(x):
                return F.unsqueeze(x, 0) if unbatched else F.permute(x, (1, 0, 2))

            query = to_batch_first(query)
            key, value = (query, query) if same else (to_batch_first(key), to_batch_first(value))
            if unbatched and key_padding_mask is not None:
                key_padding_mask = xp.asarray(getattr(key_padding_mask, "data", key_padding_mask))[
                    None
                ]
        elif same:
            key = value = query
        N, L, _ = query.shape
        S = key.shape[1]
        h, d = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        q, k, v = (F.permute(F.reshape(t, (N, t.shape[1], h, d)), (0, 2, 1, 3)) for t in (q, k, v))
        mask = self._mask(key_padding_mask, attn_mask, N, L, S, q.dtype)
        if is_causal and mask is None:
            mask = attention_mask(
                xp.triu(xp.ones((L, S), dtype=bool), 1), q.dtype, allowed_if_true=False
            )
        dropout_p = self.dropout if self.training else 0.0
        heads, weights = attend(q, k, v, mask, dropout_p, generator=self.generator)  # (N, h, L, d)
        out = self.out_proj(F.reshape(F.permute(heads, (0, 2, 1, 3)), (N, L, self.embed_dim)))
        if unbatched:
            out = F.squeeze(out, 0)
        elif not self.batch_first:
            out = F.permute(out, (1, 0, 2))
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = F.mean(weights, axis=1)
        return out, (F.squeeze(weights, 0) if unbatched else weights)

    def get_config(self) -> dict:
        return {
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "bias": self.in_proj_bias is not None,
            "batch_first": self.batch_first,
        }

    def extra_repr(self) -> str:
        heads = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        return f"{heads}, batch_first={self.batch_first}"
