"""The tutorial's hand-written δ formulas agree with chainrule's autodiff; the network learns."""

import importlib.util
import pathlib

import numpy as np
import pytest

import chainrule as cr

PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "seed_network.py"
spec = importlib.util.spec_from_file_location("seed_network", PATH)
seed_network = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed_network)


@pytest.mark.parametrize("data", ["xor", "regression"])
def test_manual_deltas_match_autodiff(data):
    X, y = seed_network.xor_data() if data == "xor" else seed_network.regression_data(16)
    params = seed_network.init_params(
        X.shape[1], 5, y.shape[1], np.random.default_rng(1), np.float64
    )
    _, a2 = seed_network.forward(params, cr.tensor(X, dtype=np.float64))
    seed_network.loss_fn(a2, cr.tensor(y, dtype=np.float64)).backward()
    manual = seed_network.manual_gradients(params, X, y)
    for name, grad in manual.items():
        np.testing.assert_allclose(params[name].grad, grad, rtol=1e-10, atol=1e-14, err_msg=name)


def test_the_tutorials_slip_gives_different_gradients():
    """σ'(a) instead of σ'(z) (the tutorial's sigmoid_prime(a1)) disagrees with autodiff."""
    X, y = seed_network.xor_data()
    params = seed_network.init_params(2, 3, 1, np.random.default_rng(2), np.float64)
    _, a2 = seed_network.forward(params, cr.tensor(X, dtype=np.float64))
    seed_network.loss_fn(a2, cr.tensor(y, dtype=np.float64)).backward()
    W1, b1, W2 = params["W1"].data, params["b1"].data, params["W2"].data
    a1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    out = 1 / (1 + np.exp(-(a1 @ W2.T + params["b2"].data)))
    sig_a1 = 1 / (1 + np.exp(-a1))
    wrong_delta1 = (((out - y) * out * (1 - out)) @ W2) * sig_a1 * (1 - sig_a1)
    assert not np.allclose(wrong_delta1.T @ X / 4, params["W1"].grad, rtol=1e-3)


def test_xor_is_learned():
    X, y = seed_network.xor_data()
    params, losses = seed_network.train(X, y, n_hidden=4, lr=5.0, epochs=2000)
    _, a2 = seed_network.forward(params, cr.tensor(X))
    assert losses[-1] < 0.01 < losses[0]
    np.testing.assert_array_equal(np.round(a2.data), y)
