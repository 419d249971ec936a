import numpy as np
import pytest

import chainrule.functional as F
from chainrule import Tensor, nn
from chainrule.transfer import EWC, fisher_information


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def task(rng):
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, 40)
    return X, y


def test_fisher_of_softmax_regression_matches_its_closed_form(task):
    # For z = W x + b and ℓ_n = −log softmax(z_n)[y_n]:
    # ∂ℓ_n/∂W = (p_n − e_yn) x_nᵀ, ∂ℓ_n/∂b = p_n − e_yn,
    # so the Fisher is the mean over samples of their squares (not the square of their mean).
    X, y = task
    model = nn.Linear(5, 3, generator=np.random.default_rng(1)).double()
    fisher = fisher_information(model, (X, y))
    W, b = model.weight.data, model.bias.data
    delta = softmax(X @ W.T + b) - np.eye(3)[y]  # (N, 3)
    np.testing.assert_allclose(
        fisher["weight"],
        (delta[:, :, None] ** 2 * X[:, None, :] ** 2).mean(0),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(fisher["bias"], (delta**2).mean(0), rtol=1e-12, atol=1e-15)
    batch_gradient_squared = ((delta[:, :, None] * X[:, None, :]).mean(0)) ** 2
    assert (
        fisher["weight"].sum() > 5 * batch_gradient_squared.sum()
    )  # the common mistake is far off


def test_fisher_equals_a_per_sample_loop_for_an_mlp(task):
    X, y = task
    g = np.random.default_rng(2)
    model = nn.Sequential(
        nn.Linear(5, 7, generator=g), nn.Tanh(), nn.Linear(7, 3, generator=g)
    ).double()
    fisher = fisher_information(model, (X, y))
    expected = {name: np.zeros(p.shape) for name, p in model.named_parameters()}
    for n in range(len(X)):
        model.zero_grad()
        F.cross_entropy(model(Tensor(X[n : n + 1], dtype=np.float64)), y[n : n + 1]).backward()
        for name, p in model.named_parameters():
            expected[name] += p.grad**2 / len(X)
    for name in expected:
        np.testing.assert_allclose(fisher[name], expected[name], rtol=1e-12, atol=1e-16)


def test_fisher_leaves_batchnorm_mode_and_gradients_unchanged(task):
    X, y = task
    model = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    model(X.astype(np.float32))  # some running stats
    stats = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    model[0].weight.grad = np.full(model[0].weight.shape, 7.0, dtype=np.float32)
    model.train()
    fisher_information(model, (X, y))
    assert model.training and model[1].training
    for key, value in model.state_dict().items():
        assert np.array_equal(value, stats[key]), key
    assert np.all(model[0].weight.grad == 7.0) and model[3].weight.grad is None


def test_sampled_labels_need_a_generator(task):
    model = nn.Linear(5, 3)
    with pytest.raises(ValueError, match="generator"):
        fisher_information(model, task, labels="sampled")
    a = fisher_information(model, task, labels="sampled", generator=3)
    b = fisher_information(model, task, labels="sampled", generator=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_ewc_gradient_is_the_gradient_of_its_penalty(task):
    X, y = task
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    ewc = EWC(model, (X, y), strength=50.0)
    assert ewc.penalty_value() == 0.0
    rng = np.random.default_rng(4)
    for p in model.parameters():
        p.data += rng.normal(scale=0.3, size=p.shape)
    model.zero_grad()
    penalty = ewc.penalty()
    assert penalty.item() == pytest.approx(ewc.penalty_value(), rel=1e-12)
    penalty.backward()
    autograd = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    logs = {}
    ewc.on_after_backward(0, logs)
    for p, expected in zip(model.parameters(), autograd, strict=False):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-12)
    assert logs["ewc_penalty"] == pytest.approx(penalty.item())


def test_ewc_argument_errors(task):
    model = nn.Linear(5, 3)
    with pytest.raises(ValueError, match="exactly one"):
        EWC(model)
    with pytest.raises(ValueError, match="strength"):
        EWC(model, task, strength=-1)
    with pytest.raises(ValueError, match="does not have"):
        EWC(model, fisher={"nope": np.zeros(3)})
    with pytest.raises(ValueError, match="shape"):
        EWC(model, fisher={"bias": np.zeros(4)})
    with pytest.raises(ValueError, match="samples"):
        fisher_information(model, (np.zeros((3, 5)), np.zeros(2)))
