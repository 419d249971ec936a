"""Model presets for ``chainrule train --model mlp|cnn|gru|lstm``.

Each preset is a :class:`~chainrule.nn.Module` subclass whose constructor
arguments are plain JSON values (returned by ``get_config()``), so a trained
preset saves and reloads through :mod:`chainrule.io` like any library layer.
Every preset takes its input as the data set delivers it (for example
digits as (N, 64) rows) and reshapes it to ``input_shape`` itself:

- ``MLP``: flatten, then Linear → ReLU (→ Dropout) per hidden layer, then a Linear output.
- ``CNN``: for (C, L) signals (mnist1d) a Conv1d stack, for (C, H, W) images a
  Conv2d stack; each block is conv (same padding) → ReLU → max-pool by 2,
  then a hidden Linear layer (→ Dropout) and the output layer.
- ``RecurrentNet`` (``gru``, ``lstm``): reads a (1, L) signal as L steps of one
  feature, or an image (C, H, W) row by row (H steps of C·W features); the last
  hidden state goes through a Linear output layer.

:func:`build_preset` picks the layer sizes from a data set's shape (never its
name; see :func:`cnn_layout`), and :func:`training_defaults` the training
defaults of :data:`PRESETS` (epochs by training-set size, learning rate and
its schedule, optimizer, batch size).
"""

from __future__ import annotations

import math

from . import nn
from .io import register_module
from .tensor import Tensor

__all__ = [
    "CNN",
    "CONFIG_DEFAULTS",
    "LARGE_DATASET",
    "MLP",
    "MODEL_CLASSES",
    "PRESETS",
    "RecurrentNet",
    "build_preset",
    "cnn_layout",
    "preset_names",
    "training_defaults",
]


def _shape(name, input_shape):
    if isinstance(input_shape, int):
        input_shape = [input_shape]
    shape = [int(s) for s in input_shape]
    if not shape or any(s < 1 for s in shape):
        raise ValueError(
            f"{name}: input_shape must be a non-empty list of positive ints, "
            f"received {input_shape!r}"
        )
    return shape


def _positive(name, arg, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: {arg} must be a positive int, received {value!r}")
    return value


def _reshape_input(x, shape, name):
    x = x if isinstance(x, Tensor) else Tensor(x)
    per_sample = math.prod(shape)
    if x.ndim < 1 or (x.data.size // max(x.shape[0], 1)) != per_sample:
        flat = "" if len(shape) == 1 else f" or (N, {per_sample})"
        raise ValueError(
            f"{name}: expected inputs of shape (N, {', '.join(map(str, shape))}){flat}, "
            f"received {tuple(x.shape)}"
        )
    if tuple(x.shape[1:]) == tuple(shape):
        return x
    return x.reshape((x.shape[0], *shape))


def _positive_ints(config: dict, key: str) -> list:
    values = config.get(key)
    if not isinstance(values, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(f"{key} must be a list of positive integers, received {values!r}")
    return list(values)


def _mlp_state_shapes(config: dict) -> dict:
    """The state an MLP config implies, so a file is checked before anything is allocated."""
    width = math.prod(_positive_ints(config, "input_shape"))
    (outputs,) = _positive_ints({"n": [config.get("num_outputs")]}, "n")
    dropout = config.get("dropout", 0.0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
        raise ValueError(f"dropout must be a number, received {dropout!r}")
    shapes, index = {}, 1                                  # net.0 is the Flatten
    for h in [*_positive_ints(config, "hidden"), outputs]:
        shapes[f"net.{index}.weight"] = ((h, width), "float")
        shapes[f"net.{index}.bias"] = ((h,), "float")
        index += 3 if dropout > 0 else 2                   # Linear, ReLU (, Dropout)
        width = h
    return shapes


@register_module(state_shapes=_mlp_state_shapes)
class MLP(nn.Module):
    """A multilayer perceptron: Flatten → [Linear → ReLU (→ Dropout)] × len(hidden) → Linear.

    Parameters
    ----------
    input_shape : list of int
        Shape of one sample (flattened to prod(input_shape) features).
    num_outputs : int
        Classes (logits) or regression targets.
    hidden : list of int
        Hidden layer widths.
    dropout : float
        Dropout probability after each hidden activation (0 disables it).
    """

    def __init__(self, input_shape, num_outputs: int, hidden=(128, 64), dropout: float = 0.0):
        super().__init__()
        self.input_shape = _shape("MLP", input_shape)
        self.num_outputs = _positive("MLP", "num_outputs", num_outputs)
        self.hidden = [_positive("MLP", "hidden", h) for h in hidden]
        self.dropout = float(dropout)
        layers = [nn.Flatten()]
        width = math.prod(self.input_shape)
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            width = h
        layers.append(nn.Linear(width, self.num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(_reshape_input(x, self.input_shape, "MLP"))

    def get_config(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "num_outputs": self.num_outputs,
            "hidden": list(self.hidden),
            "dropout": self.dropout,
        }


@register_module
class CNN(nn.Module):
    """Conv blocks (conv (→ BatchNorm) → ReLU → max-pool 2) then Linear → ReLU → Linear.

    Parameters
    ----------
    input_shape : list of int
        (C, L) for a 1-D signal (Conv1d) or (C, H, W) for an image (Conv2d).
    num_outputs : int
    channels : list of int
        Output channels of each conv block.
    kernel_size : int
        Odd kernel size; padding keeps the spatial size ("same").
    hidden : int
        Width of the hidden Linear layer.
    dropout : float
        Dropout before the output layer.
    batch_norm : bool
        BatchNorm after each conv (conv → BatchNorm → ReLU → pool).
    """

    def __init__(
        self,
        input_shape,
        num_outputs: int,
        channels=(16, 32),
        kernel_size: int = 3,
        hidden: int = 64,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        super().__init__()
        self.input_shape = _shape("CNN", input_shape)
        if len(self.input_shape) not in (2, 3):
            raise ValueError(
                f"CNN: input_shape must be (C, L) or (C, H, W), received {input_shape!r}"
            )
        self.num_outputs = _positive("CNN", "num_outputs", num_outputs)
        self.channels = [_positive("CNN", "channels", c) for c in channels]
        self.kernel_size = _positive("CNN", "kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"CNN: kernel_size must be odd (for same padding), received {kernel_size}"
            )
        self.hidden = _positive("CNN", "hidden", hidden)
        self.dropout = float(dropout)
        if not isinstance(batch_norm, bool):
            raise TypeError(f"CNN: batch_norm must be a bool, received {batch_norm!r}")
        self.batch_norm = batch_norm
        two_d = len(self.input_shape) == 3
        conv, pool = (nn.Conv2d, nn.MaxPool2d) if two_d else (nn.Conv1d, nn.MaxPool1d)
        norm = nn.BatchNorm2d if two_d else nn.BatchNorm1d
        spatial = list(self.input_shape[1:])
        in_channels = self.input_shape[0]
        layers = []
        for out_channels in self.channels:
            layers.append(
                conv(in_channels, out_channels, self.kernel_size, padding=self.kernel_size // 2)
            )
            if self.batch_norm:
                layers.append(norm(out_channels))
            layers.append(nn.ReLU())
            if min(spatial) >= 2:
                layers.append(pool(2))
                spatial = [s // 2 for s in spatial]
            in_channels = out_channels
        layers.append(nn.Flatten())
        layers += [nn.Linear(in_channels * math.prod(spatial), self.hidden), nn.ReLU()]
        if self.dropout > 0:
            layers.append(nn.Dropout(self.dropout))
        layers.append(nn.Linear(self.hidden, self.num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(_reshape_input(x, self.input_shape, "CNN"))

    def get_config(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "num_outputs": self.num_outputs,
            "channels": list(self.channels),
            "kernel_size": self.kernel_size,
            "hidden": self.hidden,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
        }


@register_module
class RecurrentNet(nn.Module):
    """A GRU or LSTM over the sample read as a sequence, then Linear on the last hidden state.

    Parameters
    ----------
    input_shape : list of int
        (L,) or (1, L): L steps of one feature; (C, L) with C > 1: L steps of
        C features; (C, H, W): H steps (rows) of C·W features.
    num_outputs : int
    cell : {'gru', 'lstm'}
    hidden_size : int
    num_layers : int
    """

    def __init__(
        self,
        input_shape,
        num_outputs: int,
        cell: str = "gru",
        hidden_size: int = 64,
        num_layers: int = 1,
    ):
        super().__init__()
        self.input_shape = _shape("RecurrentNet", input_shape)
        if len(self.input_shape) > 3:
            raise ValueError(
                f"RecurrentNet: input_shape must have 1 to 3 dimensions, received {input_shape!r}"
            )
        self.num_outputs = _positive("RecurrentNet", "num_outputs", num_outputs)
        if cell not in ("gru", "lstm"):
            raise ValueError(f"RecurrentNet: cell must be 'gru' or 'lstm', received {cell!r}")
        self.cell = cell
        self.hidden_size = _positive("RecurrentNet", "hidden_size", hidden_size)
        self.num_layers = _positive("RecurrentNet", "num_layers", num_layers)
        self.steps, self.features = self._sequence_shape(self.input_shape)
        layer = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = layer(
            self.features, self.hidden_size, num_layers=self.num_layers, batch_first=True
        )
        self.head = nn.Linear(self.hidden_size, self.num_outputs)

    @staticmethod
    def _sequence_shape(shape):
        if len(shape) == 1:
            return shape[0], 1
        if len(shape) == 2:
            channels, length = shape
            return length, channels
        channels, height, width = shape
        return height, channels * width

    def _as_sequence(self, x):
        x = _reshape_input(x, self.input_shape, "RecurrentNet")
        n = x.shape[0]
        if len(self.input_shape) == 2:  # (N, C, L) → (N, L, C)
            return x.transpose(0, 2, 1)
        if len(self.input_shape) == 3:  # (N, C, H, W) → (N, H, C·W)
            return x.transpose(0, 2, 1, 3).reshape((n, self.steps, self.features))
        return x.reshape((n, self.steps, 1))

    def forward(self, x):
        output, _ = self.rnn(self._as_sequence(x))
        return self.head(output[:, -1, :])

    def get_config(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "num_outputs": self.num_outputs,
            "cell": self.cell,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
        }


MODEL_CLASSES = (MLP, CNN, RecurrentNet)
"""The preset classes; each registers itself with :func:`chainrule.io.register_module`."""

LARGE_DATASET = 20_000
"""Training sets with at least this many samples get a preset's ``large_epochs``, not ``epochs``."""

PRESETS = {
    "mlp": {
        "epochs": 200,
        "large_epochs": 30,
        "lr": 1e-3,
        "optimizer": "adam",
        "batch_size": 64,
        "schedule": "cosine",
        "description": "Flatten → Linear 512 → ReLU → Dropout 0.5 → Linear 256 → ReLU → "
        "Dropout 0.5 → Linear",
    },
    "cnn": {
        "epochs": 40,
        "large_epochs": 6,
        "lr": 2e-3,
        "optimizer": "adam",
        "batch_size": 64,
        "schedule": "cosine",
        "description": "1-3 blocks conv (same) → BatchNorm → ReLU → MaxPool 2 with 32, 64, "
        "128 channels "
        "(kernel 5 for (C, L) signals, 3×3 for images) → Linear 128 → ReLU → Dropout 0.3 "
        "→ Linear",
    },
    "gru": {
        "epochs": 60,
        "large_epochs": 5,
        "lr": 3e-3,
        "optimizer": "adam",
        "batch_size": 32,
        "schedule": "cosine",
        "clip_grad_norm": 1.0,
        "description": "GRU(64) over the signal's steps or the image's rows → Linear",
    },
    "lstm": {
        "epochs": 60,
        "large_epochs": 5,
        "lr": 3e-3,
        "optimizer": "adam",
        "batch_size": 32,
        "schedule": "cosine",
        "clip_grad_norm": 1.0,
        "description": "LSTM(64) over the signal's steps or the image's rows → Linear",
    },
}
"""Training defaults per preset: ``epochs`` (training sets under :data:`LARGE_DATASET` samples),
``large_epochs`` (larger ones), ``lr``, ``optimizer``, ``batch_size``, ``schedule`` (``'cosine'``:
the learning rate follows a half cosine from ``lr`` towards 0 over the run; ``'constant'``) and,
for the recurrent presets, ``clip_grad_norm`` (gradient-norm clipping, against exploding
gradients)."""


CONFIG_DEFAULTS = {
    "epochs": 40,
    "lr": 2e-3,
    "optimizer": "adam",
    "batch_size": 64,
    "schedule": "constant",
}
"""Training defaults for a model given as an architecture JSON rather than a preset."""


def preset_names() -> list[str]:
    return sorted(PRESETS)


def training_defaults(name: str, num_train: int) -> dict:
    """The training defaults of preset ``name`` (None: a model from an architecture JSON) for a
    training set of ``num_train`` samples.

    Returns
    -------
    dict
        ``epochs``, ``lr``, ``optimizer``, ``batch_size``, ``schedule`` and
        ``clip_grad_norm`` (None when the preset does not clip).

    Examples
    --------
    >>> training_defaults("cnn", 4000)["epochs"], training_defaults("cnn", 60000)["epochs"]
    (40, 6)
    """
    if name is None:
        return {**CONFIG_DEFAULTS, "clip_grad_norm": None}
    if name not in PRESETS:
        raise ValueError(
            f"training_defaults: unknown preset {name!r}; expected one of {preset_names()} or None"
        )
    preset = PRESETS[name]
    large = int(num_train) >= LARGE_DATASET
    return {
        "epochs": preset["large_epochs"] if large else preset["epochs"],
        "lr": preset["lr"],
        "optimizer": preset["optimizer"],
        "batch_size": preset["batch_size"],
        "schedule": preset.get("schedule", "constant"),
        "clip_grad_norm": preset.get("clip_grad_norm"),
    }


def cnn_layout(spatial) -> tuple[list[int], int]:
    """Channels and kernel size of the cnn preset for one sample's spatial shape (L,) or (H, W).

    One conv block per halving of a side of 7 or more (at least one block, at most three),
    with 32, 64, 128 channels: (40,) and (28, 28) get 3 blocks, (8, 8) 1. Kernels are 5
    wide for signals and 3×3 for images.
    """
    side, blocks = min(spatial), 0
    while blocks < 3 and side >= 7:
        side //= 2
        blocks += 1
    channels = [32 * 2**i for i in range(max(blocks, 1))]
    return channels, 5 if len(spatial) == 1 else 3


def build_preset(
    name: str,
    input_shape,
    num_outputs: int,
    image_shape=None,
    *,
    hidden=None,
    dropout: float | None = None,
) -> nn.Module:
    """Build preset ``name`` for samples of ``input_shape`` and ``num_outputs`` outputs.

    ``image_shape`` (a data set's channels-first layout, e.g. (1, 8, 8) for
    digits' 64 features) is used by the cnn and recurrent presets when given.
    The sizes follow the data's shape only (see :data:`PRESETS` for the layers
    and :func:`cnn_layout`), never its name.

    Parameters
    ----------
    hidden : list of int, optional
        mlp: the hidden widths (default [512, 256]); cnn: one width, of the
        hidden Linear layer (default 128); gru/lstm: the hidden size, once per
        stacked layer (default [64]).
    dropout : float, optional
        mlp (default 0.5) and cnn (default 0.3) only.

    Examples
    --------
    >>> build_preset("mlp", [4], 3, hidden=[8, 8], dropout=0.0).get_config()["hidden"]
    [8, 8]
    """
    if name not in PRESETS:
        raise ValueError(
            f"model preset: unknown preset {name!r}; expected one of {preset_names()} "
            "or a config .json"
        )
    if dropout is not None and not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
        raise ValueError(f"model preset: dropout must be a number in [0, 1), received {dropout!r}")
    hidden = None if hidden is None else [_positive(name, "hidden", h) for h in hidden]
    spatial = list(image_shape) if image_shape else list(input_shape)
    if name == "mlp":
        return MLP(
            list(input_shape),
            num_outputs,
            hidden=hidden or [512, 256],
            dropout=0.5 if dropout is None else dropout,
        )
    if name == "cnn":
        if hidden is not None and len(hidden) != 1:
            raise ValueError(
                f"model preset cnn: hidden takes one width (its hidden Linear layer), "
                f"received {hidden}"
            )
        if len(spatial) == 1:
            spatial = [1, spatial[0]]  # a flat feature vector as a one-channel signal
        channels, kernel_size = cnn_layout(spatial[1:])
        return CNN(
            spatial,
            num_outputs,
            channels=channels,
            kernel_size=kernel_size,
            hidden=hidden[0] if hidden else 128,
            dropout=0.3 if dropout is None else dropout,
            batch_norm=True,
        )
    if dropout is not None:
        raise ValueError(
            f"model preset {name}: the recurrent presets have no dropout; "
            f"received dropout={dropout}"
        )
    if hidden is not None and len(set(hidden)) != 1:
        raise ValueError(
            f"model preset {name}: hidden gives one size per stacked layer, all "
            f"equal, received {hidden}"
        )
    return RecurrentNet(
        spatial,
        num_outputs,
        cell=name,
        hidden_size=hidden[0] if hidden else 64,
        num_layers=len(hidden) if hidden else 1,
    )


def preset_names_help() -> str:
    return ", ".join(f"{name} ({PRESETS[name]['description']})" for name in preset_names())
