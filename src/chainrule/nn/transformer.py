"""``TransformerEncoderLayer`` and ``TransformerEncoder`` (PyTorch's names, layout and parameters).

One layer (post-norm, PyTorch's default ``norm_first=False``)::

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

and with ``norm_first=True`` (pre-norm)::

    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

Composed from :class:`MultiheadAttention`, :class:`Linear`, :class:`LayerNorm` and
:class:`Dropout`, so its gradient is theirs chained.
"""

from __future__ import annotations

import copy

from ..tensor import Tensor
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear, as_input, check_positive_int
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoder", "TransformerEncoderLayer"]

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


class TransformerEncoderLayer(Module):
    """Self-attention then a position-wise feed-forward block, each with a residual connection
    and layer normalisation (Vaswani et al., 2017; PyTorch's ``nn.TransformerEncoderLayer``).

    Parameters
    ----------
    d_model : int
        Embedding size E.
    nhead : int
        Attention heads (must divide ``d_model``).
    dim_feedforward : int
        Hidden size of the feed-forward block (2048, as PyTorch).
    dropout : float
        Dropout in the attention weights, after the activation and on each residual branch.
    activation : 'relu', 'gelu' or a Module
    layer_norm_eps : float
    batch_first : bool
        (N, L, E) inputs instead of (L, N, E).
    norm_first : bool
        Pre-norm (LayerNorm before each block) instead of post-norm.
    bias : bool
    dtype, generator : optional

    Notes
    -----
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; masks as
    :class:`MultiheadAttention`. Parameter names match PyTorch's (``self_attn.in_proj_weight``,
    ``linear1.weight``, ``norm1.weight``, …), so state dicts move between the two.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True,
    ...                                    generator=np.random.default_rng(0))
    >>> layer(np.zeros((2, 7, 16))).shape
    (2, 7, 16)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype=None,
        generator=None,
    ):
        super().__init__()
        name = "TransformerEncoderLayer"
        d_model = check_positive_int(name, "d_model", d_model)
        dim_feedforward = check_positive_int(name, "dim_feedforward", dim_feedforward)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(
                    f"{name}: activation must be 'relu', 'gelu' or a Module, "
                    f"received {activation!r}"
                )
            activation_name, activation = activation, _ACTIVATIONS[activation]()
        elif isinstance(activation, Module):
            names = {cls: key for key, cls in _ACTIVATIONS.items()}
            activation_name = names.get(type(activation), type(activation).__name__)
        else:
            raise TypeError(
                f"{name}: activation must be 'relu', 'gelu' or a Module, "
                f"received {type(activation).__name__}"
            )
        self.self_attn = MultiheadAttention(
            d_model,
            nhead,
            dropout=dropout,
            bias=bias,
            batch_first=batch_first,
            dtype=dtype,
            generator=generator,
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=generator)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=generator)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        self.activation = activation
        self._config = {
            "d_model": d_model,
            "nhead": nhead,
            "dim_feedforward": dim_feedforward,
            "dropout": float(dropout),
            "activation": activation_name,
            "layer_norm_eps": float(layer_norm_eps),
            "batch_first": bool(batch_first),
            "norm_first": self.norm_first,
            "bias": bool(bias),
        }

    def reset_parameters(self, generator=None) -> None:
        """Re-initialise the attention, the two linear maps and the norms (PyTorch's defaults)."""
        for module in (self.self_attn, self.linear1, self.linear2, self.norm1, self.norm2):
            module.reset_parameters(generator)

    def _self_attention(self, x, mask, padding, is_causal):
        out, _ = self.self_attn(
            x,
            x,
            x,
            key_padding_mask=padding,
            need_weights=False,
            attn_mask=mask,
            is_causal=is_causal,
        )
        return self.dropout1(out)

    def _feed_forward(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False
    ) -> Tensor:
        x = as_input(src, self.linear1.weight.dtype)
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._self_attention(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))

    def get_config(self) -> dict:
        return dict(self._config)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (PyTorch's ``nn.TransformerEncoder``),
    with an optional final ``norm``. The copies are independent (deep copies), named
    ``layers.0``, ``layers.1``, … as in PyTorch.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(np.zeros((1, 3, 8))).shape, len(encoder.layers)
    ((1, 3, 8), 2)
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer | dict,
        num_layers: int,
        norm: Module | dict | None = None,
    ):
        super().__init__()
        if isinstance(encoder_layer, dict):  # a saved config (chainrule.load rebuilds from it)
            encoder_layer = TransformerEncoderLayer(**encoder_layer)
        if isinstance(norm, dict):
            norm = LayerNorm(**norm)
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"TransformerEncoder: encoder_layer must be a Module or its config dict, "
                f"received {type(encoder_layer).__name__}"
            )
        self.num_layers = check_positive_int("TransformerEncoder", "num_layers", num_layers)
        self.layers = ModuleList(copy.deepcopy(encoder_layer) for _ in range(self.num_layers))
        if norm is None:
            self.add_module("norm", None)
        else:
            self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(
                x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal
            )
        return x if self.norm is None else self.norm(x)

    def get_config(self) -> dict:
        """The layer's and the final norm's configs (a norm other than LayerNorm is not saved)."""
        norm = self.norm.get_config() if isinstance(self.norm, LayerNorm) else None
        return {
            "encoder_layer": self.layers[0].get_config(),
            "num_layers": self.num_layers,
            "norm": norm,
        }
