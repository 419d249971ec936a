"""rnn_layer / lstm_layer / gru_layer.

Step-by-step NumPy references, float64 gradchecks, long sequences.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck
from helpers import make_inputs
from rnn_reference import reference_layer

GATES = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}


def layer_call(kind, reverse):
    if kind == "lstm":
        return lambda x, h, c, *p: F.lstm_layer(x, h, c, *p, reverse=reverse)
    if kind == "gru":
        return lambda x, h, *p: F.gru_layer(x, h, *p, reverse=reverse)
    return lambda x, h, *p: F.rnn_layer(x, h, *p, nonlinearity=kind, reverse=reverse)


@pytest.mark.parametrize("kind", ["tanh", "relu", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_matches_step_by_step_reference_and_gradcheck(kind, reverse):
    T, N, I, H = 4, 2, 3, 3
    G = GATES[kind]
    tensors = make_inputs((T, N, I), (N, H), (N, H), (G * H, I), (G * H, H), (G * H,), (G * H,),
                          seed=G + reverse, low=-1, high=1)
    x, h0, c0, *params = tensors
    fn = layer_call(kind, reverse)
    inputs = [x, h0, c0, *params] if kind == "lstm" else [x, h0, *params]
    outs = fn(*inputs)
    expected = reference_layer(x.data, h0.data, c0.data, [p.data for p in params], kind, reverse)
    np.testing.assert_allclose(outs[0].data, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(outs[1].data, expected[1], rtol=1e-12, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(outs[2].data, expected[2], rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_layer_without_bias_or_initial_state(kind):
    T, N, I, H = 3, 2, 2, 3
    G = GATES[kind]
    x, w_ih, w_hh = make_inputs((T, N, I), (G * H, I), (G * H, H), seed=5)
    zeros = np.zeros((N, H))

    def fn(x_, a, b):
        if kind == "lstm":
            return F.lstm_layer(x_, None, None, a, b)
        if kind == "gru":
            return F.gru_layer(x_, None, a, b)
        return F.rnn_layer(x_, None, a, b)

    no_bias = [np.zeros(G * H), np.zeros(G * H)]
    expected = reference_layer(x.data, zeros, zeros, [w_ih.data, w_hh.data, *no_bias], kind)
    np.testing.assert_allclose(fn(x, w_ih, w_hh)[0].data, expected[0], rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, [x, w_ih, w_hh])


def test_rnn_by_hand():
    # h_t = tanh(x_t + 0.5 h_{t−1}) with scalar weights: h1 = tanh(1), h2 = tanh(0 + 0.5 tanh(1))
    x = cr.tensor(np.array([[[1.0]], [[0.0]]]))
    out, h = F.rnn_layer(x, None, cr.tensor([[1.0]]), cr.tensor([[0.5]]))
    np.testing.assert_allclose(out.data.ravel(), [np.tanh(1), np.tanh(0.5 * np.tanh(1))], rtol=1e-6)
    np.testing.assert_allclose(h.data.ravel(), [np.tanh(0.5 * np.tanh(1))], rtol=1e-6)


def test_lstm_saturated_gates_stay_finite():
    x = cr.tensor(np.full((3, 1, 1), 1e4), requires_grad=True)
    w_ih = cr.tensor(np.ones((4, 1)), requires_grad=True)
    out, _h, c = F.lstm_layer(x, None, None, w_ih, cr.tensor(np.ones((4, 1))))
    (out.sum() + c.sum()).backward()
    assert (
        np.isfinite(out.data).all() and np.isfinite(x.grad).all() and np.isfinite(w_ih.grad).all()
    )


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_gru_saturated_gates_stay_finite(sign):
    # e^{−a} overflows to inf in float32 for the r, z gates: σ must come out as exactly 0 or 1
    x = cr.tensor(np.full((3, 1, 1), sign * 1e4, dtype=np.float32), requires_grad=True)
    w_ih = cr.tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out, _h = F.gru_layer(x, None, w_ih, cr.tensor(np.ones((3, 1), dtype=np.float32)), b, b)
    out.sum().backward()
    for a in (out.data, x.grad, w_ih.grad, b.grad):
        assert np.isfinite(a).all()
    # closed form: sign +1 gives z = 1, so h stays h_0 = 0; sign −1 gives r = z = 0 and h = n =
    # tanh(−1e4 + 1) = −1
    np.testing.assert_array_equal(
        out.data, np.full((3, 1, 1), 0.0 if sign > 0 else -1.0, dtype=np.float32)
    )


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_thousand_step_sequence_backward(kind):
    """BPTT over 1,000 steps: iterative, no recursion.

    Gradients checked numerically on the weights.
    """
    T, N, I, H = 1000, 1, 1, 2
    G = GATES[kind]
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.normal(size=(T, N, I)), dtype=np.float64)
    w_ih, w_hh, b = make_inputs((G * H, I), (G * H, H), (G * H,), seed=1, low=-0.5, high=0.5)
    fn = layer_call(kind, False)

    def last_output(w_ih_, w_hh_, b_):
        args = [x, None, None] if kind == "lstm" else [x, None]
        return F.getitem(fn(*args, w_ih_, w_hh_, b_, None)[0], -1)

    last_output(w_ih, w_hh, b).sum().backward()
    assert np.isfinite(w_hh.grad).all() and np.abs(w_hh.grad).sum() > 0
    assert gradcheck(last_output, [w_ih, w_hh, b])


def test_layer_bad_input():
    x = cr.tensor(np.ones((5, 2, 3)))
    with pytest.raises(
        ValueError, match=r"lstm_layer: expected input of shape \(T, N, 4\), received \(5, 2, 3\)"
    ):
        F.lstm_layer(x, None, None, cr.tensor(np.ones((8, 4))), cr.tensor(np.ones((8, 2))))
    with pytest.raises(ValueError, match=r"expected hx of shape \(2, 2\), received \(3, 2\)"):
        F.gru_layer(
            x, cr.tensor(np.ones((3, 2))), cr.tensor(np.ones((6, 3))), cr.tensor(np.ones((6, 2)))
        )
    with pytest.raises(ValueError, match="weight_hh"):
        F.gru_layer(x, None, cr.tensor(np.ones((6, 3))), cr.tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="nonlinearity"):
        F.rnn_layer(
            x, None, cr.tensor(np.ones((2, 3))), cr.tensor(np.ones((2, 2))), nonlinearity="sigmoid"
        )
    with pytest.raises(ValueError, match=r"expected input of shape \(T, N, input_size\)"):
        F.rnn_layer(
            cr.tensor(np.ones((5, 3))), None, cr.tensor(np.ones((2, 3))), cr.tensor(np.ones((2, 2)))
        )


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_with_output_gradient_zero_on_some_steps(kind, reverse):
    """Every other step's output (and so its gradient) is dropped, as in a many-to-one model:
    the backward's branch for steps without an output gradient against finite differences."""
    T, N, I, H = 5, 2, 3, 3
    G = GATES[kind]
    tensors = make_inputs((T, N, I), (N, H), (N, H), (G * H, I), (G * H, H), (G * H,), (G * H,),
                          seed=11 + reverse, low=-1, high=1)
    x, h0, c0, *params = tensors
    layer = layer_call(kind, reverse)
    inputs = [x, h0, c0, *params] if kind == "lstm" else [x, h0, *params]
    assert gradcheck(lambda *a: layer(*a)[0][::2], inputs)
    # the last state alone (the LSTM's c_T: no step has an output gradient)
    assert gradcheck(lambda *a: layer(*a)[-1], inputs)
