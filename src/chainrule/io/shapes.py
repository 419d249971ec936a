"""The tensors each library layer's config implies, computed without building the layer.

A loader compares these with the tensors a file holds before it constructs
anything, so a few-byte file whose config declares ``Linear(12000, 12000)``
is refused without allocating the 576 MB the layer would need. Each entry
maps a type name to a function ``config → {name: (shape, kind)}`` with kind
``"float"`` (parameters, float buffers) or ``"int"`` (counters such as
``num_batches_tracked``). Raising ``ValueError``/``TypeError`` means the
config itself is invalid.
"""

from __future__ import annotations

from .errors import MAX_MODULES

__all__ = ["LIBRARY_STATE_SHAPES"]


def _size(config: dict, key: str, default=None) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be a positive int, received {value!r}")
    return value


def _sizes(config: dict, key: str, count: int, default=None) -> tuple[int, ...]:
    value = config.get(key, default)
    values = [value] * count if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, list) or len(values) != count:
        raise ValueError(f"{key} must be an int or a list of {count} ints, received {value!r}")
    return tuple(_size({key: v}, key) for v in values)


def _flag(config: dict, key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false, received {value!r}")
    return value


def _linear(config: dict) -> dict:
    n_in, n_out = _size(config, "in_features"), _size(config, "out_features")
    shapes = {"weight": ((n_out, n_in), "float")}
    if _flag(config, "bias", True):
        shapes["bias"] = ((n_out,), "float")
    return shapes


def _conv(spatial: int, transposed: bool = False):
    """Conv: weight (out, in / groups, *kernel); transposed conv: (in, out / groups, *kernel)."""

    def shapes(config: dict) -> dict:
        n_in, n_out = _size(config, "in_channels"), _size(config, "out_channels")
        groups = _size(config, "groups", 1)
        kernel = _sizes(config, "kernel_size", spatial)
        if n_in % groups or n_out % groups:
            raise ValueError(f"in_channels and out_channels must be divisible by groups={groups}")
        first, second = (n_in, n_out) if transposed else (n_out, n_in)
        found = {"weight": ((first, second // groups, *kernel), "float")}
        if _flag(config, "bias", True):
            found["bias"] = ((n_out,), "float")
        return found

    return shapes


def _group_norm(config: dict) -> dict:
    channels = _size(config, "num_channels")
    _size(config, "num_groups")
    if not _flag(config, "affine", True):
        return {}
    return {"weight": ((channels,), "float"), "bias": ((channels,), "float")}


def _embedding(config: dict) -> dict:
    return {"weight": ((_size(config, "num_embeddings"), _size(config, "embedding_dim")), "float")}


def _batch_norm(config: dict) -> dict:
    features = _size(config, "num_features")
    found = {}
    if _flag(config, "affine", True):
        found.update(weight=((features,), "float"), bias=((features,), "float"))
    if _flag(config, "track_running_stats", True):
        found.update(
            running_mean=((features,), "float"),
            running_var=((features,), "float"),
            num_batches_tracked=((), "int"),
        )
    return found


def _layer_norm(config: dict) -> dict:
    normalized = config.get("normalized_shape")
    normalized = (
        [normalized]
        if isinstance(normalized, int) and not isinstance(normalized, bool)
        else normalized
    )
    if not isinstance(normalized, list) or not normalized:
        raise ValueError(
            f"normalized_shape must be an int or a non-empty list, received {normalized!r}"
        )
    shape = _sizes({"normalized_shape": normalized}, "normalized_shape", len(normalized))
    found = {}
    if _flag(config, "elementwise_affine", True):
        found["weight"] = (shape, "float")
        if _flag(config, "bias", True):
            found["bias"] = (shape, "float")
    return found


def _recurrent(gates: int):
    def shapes(config: dict) -> dict:
        n_in, hidden = _size(config, "input_size"), _size(config, "hidden_size")
        layers = _size(config, "num_layers", 1)
        if layers > MAX_MODULES:
            raise ValueError(f"num_layers must be at most {MAX_MODULES}, received {layers}")
        directions = 2 if _flag(config, "bidirectional", False) else 1
        bias = _flag(config, "bias", True)
        found = {}
        for layer in range(layers):
            layer_in = n_in if layer == 0 else hidden * directions
            for suffix in [f"_l{layer}", f"_l{layer}_reverse"][:directions]:
                found["weight_ih" + suffix] = ((gates * hidden, layer_in), "float")
                found["weight_hh" + suffix] = ((gates * hidden, hidden), "float")
                if bias:
                    found["bias_ih" + suffix] = ((gates * hidden,), "float")
                    found["bias_hh" + suffix] = ((gates * hidden,), "float")
        return found

    return shapes


def _prelu(config: dict) -> dict:
    return {"weight": ((_size(config, "num_parameters", 1),), "float")}


def _prefixed(prefix: str, shapes: dict) -> dict:
    return {prefix + key: value for key, value in shapes.items()}


def _multihead_attention(config: dict) -> dict:
    embed, heads = _size(config, "embed_dim"), _size(config, "num_heads")
    if embed % heads:
        raise ValueError(f"embed_dim ({embed}) must be divisible by num_heads ({heads})")
    bias = _flag(config, "bias", True)
    found = {"in_proj_weight": ((3 * embed, embed), "float")}
    if bias:
        found["in_proj_bias"] = ((3 * embed,), "float")
    found.update(_prefixed("out_proj.", _linear({"in_features": embed, "out_features": embed,
                                                  "bias": bias})))
    return found


def _transformer_encoder_layer(config: dict) -> dict:
    d_model, hidden = _size(config, "d_model"), _size(config, "dim_feedforward", 2048)
    bias = _flag(config, "bias", True)
    found = _prefixed("self_attn.", _multihead_attention(
        {"embed_dim": d_model, "num_heads": config.get("nhead"), "bias": bias}))
    found.update(_prefixed("linear1.", _linear({"in_features": d_model, "out_features": hidden,
                                                 "bias": bias})))
    found.update(_prefixed("linear2.", _linear({"in_features": hidden, "out_features": d_model,
                                                 "bias": bias})))
    for norm in ("norm1.", "norm2."):
        found.update(_prefixed(norm, _layer_norm({"normalized_shape": d_model, "bias": bias})))
    return found


def _transformer_encoder(config: dict) -> dict:
    layers = _size(config, "num_layers")
    if layers > MAX_MODULES:
        raise ValueError(f"num_layers must be at most {MAX_MODULES}, received {layers}")
    layer_config = config.get("encoder_layer")
    if not isinstance(layer_config, dict):
        raise TypeError(f"encoder_layer must be a config dict, received {layer_config!r}")
    one = _transformer_encoder_layer(layer_config)
    found = {}
    for i in range(layers):
        found.update(_prefixed(f"layers.{i}.", one))
    if config.get("norm") is not None:
        found.update(_prefixed("norm.", _layer_norm(config["norm"])))
    return found


LIBRARY_STATE_SHAPES = {
    "Linear": _linear,
    "Conv1d": _conv(1),
    "Conv2d": _conv(2),
    "ConvTranspose1d": _conv(1, transposed=True),
    "ConvTranspose2d": _conv(2, transposed=True),
    "Embedding": _embedding,
    "GroupNorm": _group_norm,
    "BatchNorm1d": _batch_norm,
    "BatchNorm2d": _batch_norm,
    "LayerNorm": _layer_norm,
    "PReLU": _prelu,
    "MultiheadAttention": _multihead_attention,
    "TransformerEncoderLayer": _transformer_encoder_layer,
    "TransformerEncoder": _transformer_encoder,
    "RNN": _recurrent(1),
    "LSTM": _recurrent(4),
    "GRU": _recurrent(3),
}
"""Type name → the function giving the state its config implies (library layers with state)."""
