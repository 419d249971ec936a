"""The model-randomisation sanity check and the rank correlation under it."""

import numpy as np
import pytest
from explain_helpers import tabular_task, train

import chainrule as cr
from chainrule import explain, nn
from chainrule.explain.sanity import rank_data


def test_rank_data_and_spearman_match_their_definitions():
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0])
    # sorted: 1 1 2 3 4 5 5 6 9 → ranks 1.5 1.5 3 4 5 6.5 6.5 8 9
    np.testing.assert_array_equal(rank_data(values), [4, 1.5, 5, 1.5, 6.5, 9, 3, 8, 6.5])
    assert explain.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert explain.spearman([1.0, 2, 3], [5.0, 5, 5]) == 0.0  # a constant map shares no ranking
    g = np.random.default_rng(0)
    a, b = g.normal(size=50), g.normal(size=50)
    b[:10] = a[:10]
    # without ties Spearman's ρ is 1 − 6 Σ d² / (n (n² − 1))
    d = rank_data(a) - rank_data(b)
    assert explain.spearman(a, b) == pytest.approx(
        1 - 6 * (d**2).sum() / (50 * (50**2 - 1)), rel=1e-12
    )
    scipy_stats = pytest.importorskip("scipy.stats")
    tied = np.round(g.normal(size=40), 1)
    assert explain.spearman(tied, a[:40]) == pytest.approx(
        scipy_stats.spearmanr(tied, a[:40])[0], rel=1e-12
    )


@pytest.fixture(scope="module")
def trained_relu_mlp():
    g = np.random.default_rng(4)
    X, y = tabular_task(seed=2, n=300, features=12)
    model = nn.Sequential(
        nn.Linear(12, 32, generator=g),
        nn.ReLU(),
        nn.Linear(32, 32, generator=g),
        nn.ReLU(),
        nn.Linear(32, 3, generator=g),
    )
    train(model, X.astype(np.float32), y, steps=300)
    return model, X[:40].astype(np.float32)


def test_saliency_of_a_trained_mlp_passes(trained_relu_mlp):
    model, x = trained_relu_mlp
    before = explain.saliency(model, x)
    result = explain.randomization_test(model, x, "saliency", generator=0)
    assert result.layers == ["4", "2", "0"]
    assert result.correlations.shape == (3, len(x))
    assert result.mean_correlations[-1] < 0.5 and result.passed
    assert "PASS" in result.verdict and "PASS" in str(result)
    np.testing.assert_array_equal(explain.saliency(model, x), before)  # the weights are back
    independent = explain.randomization_test(model, x, "saliency", cascading=False, generator=0)
    assert independent.passed and not independent.cascading


def test_an_explainer_that_ignores_the_model_fails(trained_relu_mlp):
    model, x = trained_relu_mlp
    result = explain.randomization_test(model, x, lambda model, x, target: x, generator=0)
    np.testing.assert_allclose(result.correlations, 1.0)
    assert not result.passed and "FAIL" in result.verdict
    # an edge-detector-like map (a fixed function of the input) fails as well
    result = explain.randomization_test(
        model, x, lambda model, x, target: np.diff(x, axis=1) ** 2, generator=0
    )
    assert not result.passed


def test_randomisation_keeps_the_target_of_the_trained_model(trained_relu_mlp):
    model, x = trained_relu_mlp
    predicted = model(cr.tensor(x)).data.argmax(axis=1)
    seen = []

    def method(model, x, target):
        seen.append(np.asarray(target).copy())
        return explain.saliency(model, x, target=target)

    explain.randomization_test(model, x, method, generator=0)
    assert len(seen) == 4 and all(np.array_equal(t, predicted) for t in seen)


def test_randomisation_of_a_cnn_with_grad_cam():
    g = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, generator=g),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 3, generator=g),
    )
    x = g.random((4, 1, 6, 6)).astype(np.float32)
    result = explain.randomization_test(model, x, "grad_cam", generator=0)
    assert result.layers == ["4", "1", "0"]
    assert np.isfinite(result.correlations).all()
