"""Step-by-step NumPy references for the recurrent layers, from PyTorch's documented equations.

Shared by tests/functional/test_rnn_ops.py (the primitives) and tests/nn/test_rnn_layers.py (the
layers).
"""

import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def rnn_step(x, h, c, w_ih, w_hh, b_ih, b_hh, kind):
    """One step of each cell, written straight from PyTorch's documented equations."""
    H = w_hh.shape[1]
    if kind in ("tanh", "relu"):
        a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        return (np.tanh(a) if kind == "tanh" else np.maximum(a, 0)), None
    if kind == "lstm":
        a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = (
            sigmoid(a[:, :H]),
            sigmoid(a[:, H : 2 * H]),
            np.tanh(a[:, 2 * H : 3 * H]),
            sigmoid(a[:, 3 * H :]),
        )
        c = f * c + i * g
        return o * np.tanh(c), c
    xi, hh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = sigmoid(xi[:, :H] + hh[:, :H])
    z = sigmoid(xi[:, H:2 * H] + hh[:, H:2 * H])
    n = np.tanh(xi[:, 2 * H:] + r * hh[:, 2 * H:])
    return (1 - z) * n + z * h, None


def reference_layer(x, h, c, params, kind, reverse=False):
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    out = np.zeros((x.shape[0], x.shape[1], h.shape[1]))
    for t in steps:
        h, c = rnn_step(x[t], h, c, *params, kind)
        out[t] = h
    return out, h, c
