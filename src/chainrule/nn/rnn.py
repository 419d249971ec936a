"""Recurrent layers ``RNN``, ``LSTM`` and ``GRU`` with PyTorch's parameters, shapes and returns.

Each (layer, direction) pair runs one fused sequence primitive from
:mod:`chainrule.functional.recurrent` (the input projection of the whole
sequence as one GEMM, then the time loop; a hand-written BPTT backward).
A bidirectional layer concatenates the two directions' outputs on the
feature axis; dropout (in training) applies between stacked layers, not
after the last one.
"""

from __future__ import annotations

import math

from .. import functional as F
from ..backend import xp
from ..rng import get_generator
from ..tensor import Tensor
from . import init
from .linear import as_input, check_positive_int, resolve_dtype
from .module import Module, Parameter

__all__ = ["GRU", "LSTM", "RNN"]

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared parameters, initialisation, checks and the layer/direction loop of RNN, LSTM, GRU."""

    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, nonlinearity="tanh", dtype=None, generator=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_positive_int(name, "input_size", input_size)
        self.hidden_size = check_positive_int(name, "hidden_size", hidden_size)
        self.num_layers = check_positive_int(name, "num_layers", num_layers)
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout <= 1
        ):
            raise ValueError(f"{name}: expected dropout in [0, 1], received {dropout!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"{name}: expected nonlinearity 'tanh' or 'relu', received {nonlinearity!r}"
            )
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.nonlinearity = nonlinearity
        self.generator = None if generator is None else get_generator(generator)
        dtype = resolve_dtype(name, dtype)
        gates = _GATES[self.mode] * self.hidden_size
        self._flat_names = []
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = [
                    ("weight_ih", (gates, layer_in)),
                    ("weight_hh", (gates, self.hidden_size)),
                ]
                if self.bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for kind, shape in shapes:
                    setattr(
                        self, kind + suffix, Parameter(xp.empty(shape, dtype=dtype), dtype=dtype)
                    )
                    self._flat_names.append(kind + suffix)
        self.reset_parameters(self.generator)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer):
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: every weight and bias U(−1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_names:
            init.uniform_(getattr(self, name), -bound, bound, generator=generator)

    def _short_repr(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    # ----------------------------------------------------------------- checks
    def _check_input(self, x):
        layout = "(N, T, {})" if self.batch_first else "(T, N, {})"
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._short_repr()}: expected input of shape {layout.format(self.input_size)} "
                f"(or (T, {self.input_size}) unbatched), received {tuple(x.shape)}"
            )
        if x.shape[1 if x.ndim == 3 and self.batch_first else 0] == 0:
            raise ValueError(f"{self._short_repr()}: expected a sequence of at least one step, "
                             f"received input of shape {tuple(x.shape)}")

    def _check_state(self, name, state, batch, batched):
        state = as_input(state, self.weight_hh_l0.dtype)
        layers = self.num_layers * self.num_directions
        expected = (layers, batch, self.hidden_size) if batched else (layers, self.hidden_size)
        if tuple(state.shape) != expected:
            raise ValueError(f"{self._short_repr()}: expected {name} of shape {expected}, "
                             f"received {tuple(state.shape)}")
        return state if batched else F.unsqueeze(state, 1)

    # ---------------------------------------------------------------- forward
    def _run(self, input, states):
        """The layer/direction loop. ``states`` is a list of (L·D, N, H) tensors or None."""
        x = as_input(input, self.weight_hh_l0.dtype)
        self._check_input(x)
        batched = x.ndim == 3
        if not batched:
            x = F.unsqueeze(x, 1)
        elif self.batch_first:
            x = F.permute(x, (1, 0, 2))
        batch = x.shape[1]
        names = ("h_0", "c_0")
        states = [None if s is None else self._check_state(names[k], s, batch, batched)
                  for k, s in enumerate(states)]
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.num_directions + direction
                initial = [None if s is None else F.getitem(s, index) for s in states]
                params = [getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)]
                params += ([getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix)]
                           if self.bias else [None, None])
                out, *last = self._layer(x, initial, params, reverse=direction == 1)
                outputs.append(out)
                for k, state in enumerate(last):
                    finals[k].append(state)
            x = outputs[0] if len(outputs) == 1 else F.cat(outputs, axis=-1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True, generator=self.generator)
        finals = [F.stack(f, axis=0) for f in finals]
        if not batched:
            x = F.getitem(x, (slice(None), 0))
            finals = [F.getitem(f, (slice(None), 0)) for f in finals]
        elif self.batch_first:
            x = F.permute(x, (1, 0, 2))
        return x, finals

    def get_config(self) -> dict:
        """The constructor arguments, JSON-serialisable."""
        config = {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }
        if self.mode == "RNN":
            config["nonlinearity"] = self.nonlinearity
        return config

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults: dict[str, object] = {
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
        }
        if self.mode == "RNN":
            defaults["nonlinearity"] = "tanh"
        for key, default in defaults.items():
            value = getattr(self, key)
            if value != default:
                text += f", {key}={value!r}"
        return text


class RNN(RNNBase):
    """Elman RNN (PyTorch's ``nn.RNN``): h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh).

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
        Stacked layers; layer k > 0 reads layer k − 1's output.
    nonlinearity : {'tanh', 'relu'}
    bias : bool
    batch_first : bool
        Input and output are (N, T, ·) instead of (T, N, ·).
    dropout : float
        Dropout on each layer's output except the last, in training.
    bidirectional : bool
    dtype : dtype, optional
    generator : numpy.random.Generator, optional
        Randomness for the initialisation and the dropout masks.

    Notes
    -----
    Shapes: input (T, N, I) (or (N, T, I) with ``batch_first``, or (T, I) unbatched);
    h_0 (L·D, N, H) with D = 2 if bidirectional else 1. Returns ``(output, h_n)``:
    output (T, N, D·H), h_n (L·D, N, H). Parameters ``weight_ih_l{k}`` (H, I or D·H),
    ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), and ``…_reverse``
    for the backward direction; all initialised U(±1/√H).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> rnn = nn.RNN(3, 5, num_layers=2, generator=np.random.default_rng(0))
    >>> out, h_n = rnn(np.zeros((7, 2, 3)))
    >>> out.shape, h_n.shape
    ((7, 2, 5), (2, 2, 5))
    """

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
        generator=None,
    ):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            nonlinearity,
            dtype,
            generator,
        )

    def _layer(self, x, initial, params, reverse):
        return F.rnn_layer(x, initial[0], *params, nonlinearity=self.nonlinearity, reverse=reverse)

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self._run(input, [hx])
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory (PyTorch's ``nn.LSTM``), gates i, f, g, o::

        i, f, o = σ(·), g = tanh(·) of x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    Parameters are those of :class:`RNN` without ``nonlinearity``. ``weight_ih_l{k}`` is
    (4H, I), ``weight_hh_l{k}`` (4H, H), biases (4H,), rows in gate order i, f, g, o.

    Returns ``(output, (h_n, c_n))``; ``hx`` is an optional ``(h_0, c_0)`` pair of (L·D, N, H).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> lstm = nn.LSTM(3, 5, batch_first=True, generator=np.random.default_rng(0))
    >>> out, (h_n, c_n) = lstm(np.zeros((2, 7, 3)))
    >>> out.shape, c_n.shape
    ((2, 7, 5), (1, 2, 5))
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, generator=None):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            "tanh",
            dtype,
            generator,
        )

    def _layer(self, x, initial, params, reverse):
        return F.lstm_layer(x, initial[0], initial[1], *params, reverse=reverse)

    def forward(self, input, hx=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is None:
            states = [None, None]
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            states = list(hx)
        else:
            raise TypeError(f"{self._short_repr()}: expected hx to be a (h_0, c_0) pair or None, "
                            f"received {type(hx).__name__}")
        output, (h_n, c_n) = self._run(input, states)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's ``nn.GRU``), gates r, z, n::

        r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h

    Parameters are those of :class:`RNN` without ``nonlinearity``; weights are (3H, ·) in
    gate order r, z, n. Returns ``(output, h_n)``.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> gru = nn.GRU(3, 5, bidirectional=True, generator=np.random.default_rng(0))
    >>> out, h_n = gru(np.zeros((7, 2, 3)))
    >>> out.shape, h_n.shape
    ((7, 2, 10), (2, 2, 5))
    """

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, generator=None):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            "tanh",
            dtype,
            generator,
        )

    def _layer(self, x, initial, params, reverse):
        return F.gru_layer(x, initial[0], *params, reverse=reverse)

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self._run(input, [hx])
        return output, h_n
