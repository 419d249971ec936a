import numpy as np
import pytest
from sklearn import metrics as skm

from chainrule.train import metrics


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    return rng.normal(size=(50, 6)), rng.integers(0, 6, size=50)


def test_accuracy_matches_sklearn(scores):
    pred, y = scores
    assert metrics.accuracy(pred, y) == pytest.approx(skm.accuracy_score(y, pred.argmax(1)))
    one_hot = np.eye(6)[y]
    assert metrics.accuracy(pred, one_hot) == pytest.approx(skm.accuracy_score(y, pred.argmax(1)))


def test_binary_accuracy_uses_logit_sign():
    logits = np.array([[-1.0], [2.0], [0.5], [-0.1]])
    assert metrics.accuracy(logits, np.array([0, 1, 0, 0])) == pytest.approx(0.75)


def test_top_k_matches_sklearn(scores):
    pred, y = scores
    for k in (1, 3, 5):
        expected = skm.top_k_accuracy_score(y, pred, k=k, labels=np.arange(6))
        assert metrics.top_k_accuracy(pred, y, k=k) == pytest.approx(expected)
    name, fn = metrics.get_metric("top5")
    assert name == "top5" and fn(pred, y) == pytest.approx(skm.top_k_accuracy_score(y, pred, k=5))


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(40, 2))
    pred = y + 0.3 * rng.normal(size=(40, 2))
    assert metrics.mean_squared_error(pred, y) == pytest.approx(skm.mean_squared_error(y, pred))
    assert metrics.mean_absolute_error(pred, y) == pytest.approx(skm.mean_absolute_error(y, pred))
    assert metrics.r2_score(pred, y) == pytest.approx(skm.r2_score(y, pred))
    assert metrics.r2_score(pred[:, :1], y[:, 0]) == pytest.approx(
        skm.r2_score(y[:, 0], pred[:, 0])
    )


def test_get_metric_names_and_errors():
    assert metrics.get_metric("acc")[0] == "accuracy"
    assert metrics.get_metric(len)[0] == "len"
    with pytest.raises(ValueError, match="unknown metric 'f9'"):
        metrics.get_metric("f9")
    with pytest.raises(TypeError):
        metrics.get_metric(3)
