import numpy as np
import pytest

import chainrule.functional.activation as activation
from chainrule import nn
from chainrule.diagnostics import explain


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)), np.arange(16) % 3


@pytest.mark.parametrize("act", [nn.Tanh, nn.ReLU, nn.Sigmoid])
def test_every_recomputed_delta_and_gradient_agrees(batch, act):
    g = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Linear(4, 8, generator=g),
        act(),
        nn.Linear(8, 6, generator=g),
        act(),
        nn.Linear(6, 3, generator=g),
    )
    report = explain(model, *batch)
    assert report.ok, str(report)
    assert report.max_error < 1e-10
    text = str(report)
    assert "δ⁽³⁾ = ∂J/∂z⁽³⁾  (16×3)" in text
    assert "δ⁽²⁾ = (W⁽³⁾ᵀ δ⁽³⁾) ⊙ g'(z⁽²⁾)  (16×3 · 3×6 ⊙ 16×6 → 16×6)" in text
    assert "∂J/∂W⁽¹⁾ = δ⁽¹⁾ᵀ a⁽⁰⁾  (8×16 · 16×4 → 8×4)" in text
    assert text.count("finite differences") == 3


def test_output_delta_norm_matches_the_softmax_closed_form(batch):
    X, y = batch
    model = nn.Sequential(nn.Linear(4, 3, generator=np.random.default_rng(2)))
    report = explain(model, X, y)
    W, b = model[0].weight.data.astype(np.float64), model[0].bias.data.astype(np.float64)
    z = X @ W.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(3)[y]) / len(X)  # ∂(mean cross-entropy)/∂z
    assert f"‖δ⁽¹⁾‖ = {np.linalg.norm(delta):.4g}" in str(report)


def test_a_wrong_backward_is_caught(batch, monkeypatch):
    model = nn.Sequential(
        nn.Linear(4, 8, generator=np.random.default_rng(3)),
        nn.Tanh(),
        nn.Linear(8, 3, generator=np.random.default_rng(4)),
    )
    monkeypatch.setattr(
        activation.Tanh, "backward", lambda self, g: (2 * g * (1 - self.a * self.a),)
    )
    report = explain(model, *batch)
    assert not report.ok and "MISMATCH" in str(report)


def test_the_model_is_left_untouched(batch):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    model.train()
    explain(model, *batch)
    assert model.training and all(p.grad is None for p in model.parameters())
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_unsupported_models_are_refused(batch):
    with pytest.raises(TypeError, match="Sequential"):
        explain(nn.Linear(4, 3), *batch)
    with pytest.raises(TypeError, match="Conv2d"):
        explain(nn.Sequential(nn.Conv2d(1, 2, 3)), *batch)
    with pytest.raises(ValueError, match="shape"):
        explain(nn.Sequential(nn.Linear(4, 3)), np.ones(4))
