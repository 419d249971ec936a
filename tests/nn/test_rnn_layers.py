"""RNN, LSTM, GRU modules.

PyTorch names/shapes/returns, a NumPy reference, gradchecks, errors, torch.
"""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import make_inputs
from rnn_reference import reference_layer

KINDS = {"RNN": (nn.RNN, 1), "LSTM": (nn.LSTM, 4), "GRU": (nn.GRU, 3)}


def reference_module(model, x, h0=None, c0=None):
    """Stacked (bi)directional reference built from the step-by-step cells and the state dict."""
    kind = {"RNN": model.nonlinearity, "LSTM": "lstm", "GRU": "gru"}[type(model).__name__]
    state = model.state_dict()
    D, H = 2 if model.bidirectional else 1, model.hidden_size
    if model.batch_first:
        x = x.transpose(1, 0, 2)
    N = x.shape[1]
    h0 = np.zeros((model.num_layers * D, N, H)) if h0 is None else h0
    c0 = np.zeros_like(h0) if c0 is None else c0
    h_n, c_n = [], []
    for layer in range(model.num_layers):
        outs = []
        for d, suffix in enumerate(["", "_reverse"][:D]):
            key = f"_l{layer}{suffix}"
            params = [state["weight_ih" + key], state["weight_hh" + key]]
            params += ([state["bias_ih" + key], state["bias_hh" + key]] if model.bias
                       else [np.zeros(params[0].shape[0])] * 2)
            k = layer * D + d
            out, h, c = reference_layer(x, h0[k], c0[k], params, kind, reverse=d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outs, axis=-1)
    if model.batch_first:
        x = x.transpose(1, 0, 2)
    return x, np.stack(h_n), (np.stack(c_n) if kind == "lstm" else None)


def unpack(model, result):
    out, state = result
    if isinstance(model, nn.LSTM):
        return out, state[0], state[1]
    return out, state, None


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False, "batch_first": True},
]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS)
def test_module_matches_reference(name, config):
    cls, _ = KINDS[name]
    model = cls(3, 4, generator=np.random.default_rng(0), **config).double()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3) if model.batch_first else (5, 2, 3))
    out, h_n, c_n = unpack(model, model(x))
    expected = reference_module(model, x)
    D = 2 if model.bidirectional else 1
    assert out.shape == expected[0].shape
    assert h_n.shape == (model.num_layers * D, 2, 4)
    np.testing.assert_allclose(out.data, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.data, expected[1], rtol=1e-12, atol=1e-14)
    if c_n is not None:
        np.testing.assert_allclose(c_n.data, expected[2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, config", [
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
])
def test_module_gradcheck_with_initial_states(name, config):
    cls, _ = KINDS[name]
    model = cls(2, 2, generator=np.random.default_rng(0), **config).double()
    D = 2 if model.bidirectional else 1
    L = model.num_layers * D
    shape = (2, 3, 2) if model.batch_first else (3, 2, 2)
    x, h0, c0 = make_inputs(shape, (L, 2, 2), (L, 2, 2), seed=3, low=-1, high=1)
    params = list(model.parameters())

    if name == "LSTM":
        def fn(x_, h_, c_, *ps):
            out, (h_n, c_n) = model(x_, (h_, c_))
            return out, h_n, c_n
        inputs = [x, h0, c0, *params]
        expected = reference_module(model, x.data, h0.data, c0.data)
    else:
        def fn(x_, h_, *ps):
            return model(x_, h_)
        inputs = [x, h0, *params]
        expected = reference_module(model, x.data, h0.data)
    np.testing.assert_allclose(fn(*inputs)[0].data, expected[0], rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, inputs)


def test_parameter_names_shapes_and_init_follow_pytorch():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, generator=np.random.default_rng(0))
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert list(shapes)[:8] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",
        "bias_hh_l0_reverse",
    ]
    assert shapes["weight_ih_l0"] == (20, 3)
    assert shapes["weight_ih_l1"] == (20, 10)  # layer 1 reads both directions
    assert shapes["weight_hh_l1_reverse"] == (20, 5)
    assert shapes["bias_hh_l1_reverse"] == (20,)
    assert len(shapes) == 16
    bound = 1 / math.sqrt(5)
    for p in lstm.parameters():
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound
    gru = nn.GRU(3, 5, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.weight_hh_l0.shape == (15, 5)


def test_unbatched_input_like_pytorch():
    model = nn.GRU(3, 4, num_layers=2, generator=np.random.default_rng(0)).double()
    x = np.random.default_rng(1).normal(size=(5, 3))
    out, h_n = model(x)
    assert out.shape == (5, 4) and h_n.shape == (2, 4)
    batched_out, _batched_h = model(x[:, None])
    np.testing.assert_allclose(out.data, batched_out.data[:, 0])
    h0 = np.ones((2, 4))
    np.testing.assert_allclose(model(x, h0)[1].data, model(x[:, None], h0[:, None])[1].data[:, 0])


def test_dropout_between_layers_only_in_training():
    def make():
        return nn.LSTM(3, 4, num_layers=2, dropout=0.5, generator=np.random.default_rng(0))

    a, b = make(), make()
    x = np.random.default_rng(1).normal(size=(6, 2, 3)).astype(np.float32)
    train_a, train_b = a(x)[0].data, b(x)[0].data
    np.testing.assert_array_equal(train_a, train_b)  # same generator, same masks
    a.eval()
    eval_out = a(x)[0].data
    assert not np.allclose(train_a, eval_out)
    np.testing.assert_array_equal(a(x)[0].data, eval_out)
    # no layer after the last
    single = nn.GRU(3, 4, dropout=0.5, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_get_config_round_trip(name):
    cls, _ = KINDS[name]
    model = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.25, bias=False)
    config = json.loads(json.dumps(model.get_config()))
    rebuilt = cls(**config)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(model)
    assert ("nonlinearity" in config) == (name == "RNN")


def test_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(32, 128)
    with pytest.raises(ValueError) as info:
        lstm(np.zeros((50, 4, 16)))
    assert str(info.value) == (
        "LSTM(32, 128): expected input of shape (T, N, 32) (or (T, 32) unbatched), "
        "received (50, 4, 16)"
    )
    with pytest.raises(ValueError, match=r"GRU\(3, 4\): expected input of shape \(N, T, 3\)"):
        nn.GRU(3, 4, batch_first=True)(np.zeros((2, 5, 4)))
    with pytest.raises(
        ValueError, match=r"RNN\(3, 4\): expected h_0 of shape \(2, 2, 4\), received \(1, 2, 4\)"
    ):
        nn.RNN(3, 4, bidirectional=True)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(
        ValueError, match=r"expected c_0 of shape \(1, 2, 4\), received \(1, 2, 5\)"
    ):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 2, 5))))
    with pytest.raises(TypeError, match=r"\(h_0, c_0\) pair"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(TypeError, match="hidden_size"):
        nn.GRU(3, 4.0)


def test_lstm_learns_a_function_of_the_last_inputs():
    rng = np.random.default_rng(0)
    lstm = nn.LSTM(1, 8, batch_first=True, generator=rng)
    head = cr.tensor(rng.normal(size=(8, 1)).astype(np.float32) * 0.1, requires_grad=True)
    x = rng.choice([-1.0, 1.0], size=(32, 10, 1)).astype(np.float32)
    target = x[:, -1, :] - 0.5 * x[:, -2, :]
    losses = []
    params = list(lstm.parameters()) + [head]
    for _ in range(60):
        _, (h_n, _) = lstm(x)
        loss = ((h_n[0] @ head - target) ** 2).mean()
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
    assert losses[-1] < 0.05 * losses[0]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    cls, _ = KINDS[name]
    kwargs = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    model = cls(3, 4, generator=np.random.default_rng(0), **kwargs).double()
    ref = getattr(torch.nn, name)(3, 4, **kwargs).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 3))
    xc, xt = cr.tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, h_n, _ = unpack(model, model(xc))
    out_t, state_t = ref(xt)
    h_t = state_t[0] if name == "LSTM" else state_t
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n.data, h_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=out.shape)
    (out * cr.tensor(g, dtype=np.float64)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for pname, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad, dict(ref.named_parameters())[pname].grad.numpy(), rtol=1e-9, atol=1e-12
        )
