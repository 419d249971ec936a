"""MLPClassifier.explain / MLPRegressor.explain: attributions in the features of X."""

import numpy as np
import pytest

from chainrule import explain

pytest.importorskip("sklearn")
# the short fits below stop before convergence on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from chainrule.estimators import MLPClassifier, MLPRegressor  # noqa: E402


def _data(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 5.0, 0.2, 1.0] + [0.0, 10.0, 0.0, 3.0]
    return X, rng


def _network(estimator):
    return estimator.model_


def test_classifier_explains_the_predicted_class_or_a_label():
    X, _ = _data()
    y = np.where(X[:, 0] - 0.2 * X[:, 1] > -2, "yes", np.where(X[:, 2] > 0, "no", "maybe"))
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0).fit(X, y)
    before = [None if p.grad is None else p.grad.copy() for p in clf.model_.parameters()]
    attributions = clf.explain(X[:5], steps=20)
    assert attributions.shape == (5, 4) and attributions.dtype == clf.model_[0].weight.dtype
    positions = np.searchsorted(clf.classes_, clf.predict(X[:5]))
    network = _network(clf)
    expected = explain.integrated_gradients(network, X[:5], target=positions, steps=20)
    np.testing.assert_array_equal(attributions, expected)
    label = clf.classes_[1]
    np.testing.assert_array_equal(
        clf.explain(X[:5], method="saliency", target=label),
        explain.saliency(network, X[:5], target=1),
    )
    for p, grad in zip(network.parameters(), before, strict=True):  # the weights' .grad untouched
        assert (p.grad is None and grad is None) or np.array_equal(p.grad, grad)
    with pytest.raises(ValueError, match="target 'perhaps' is not one of the classes"):
        clf.explain(X[:5], target="perhaps")


def test_binary_classifier_explains_each_class_by_its_log_odds():
    X, _ = _data(1)
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=50, random_state=0)
    clf.fit(X, y)
    for_one = clf.explain(X[:4], target=1)
    np.testing.assert_allclose(clf.explain(X[:4], target=0), -for_one, rtol=1e-6)
    # class 1's attributions add up to the change of its logit (completeness)
    logit = clf.model_(X[:4]).data[:, 0]
    zero = clf.model_(np.zeros((1, 4))).data[0, 0]
    np.testing.assert_allclose(for_one.sum(axis=1), logit - zero, atol=1e-3)


def test_regressor_and_a_pipeline():
    X, rng = _data(2)
    y = X[:, 0] * 2 - X[:, 3] + 0.1 * rng.normal(size=len(X))
    pipe = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=80, random_state=0)
    ).fit(X, y)
    regressor = pipe[-1]
    scaled = pipe[0].transform(X[:6])
    attributions = regressor.explain(scaled, steps=30)
    expected = explain.integrated_gradients(_network(regressor), scaled, target=0, steps=30)
    np.testing.assert_array_equal(attributions, expected)
    with pytest.raises(ValueError, match="outside the model's outputs"):
        regressor.explain(scaled, target=1)


def test_explain_before_fit_and_bad_input():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPRegressor().explain(np.zeros((2, 3)))
    X, _ = _data(3)
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0])
    with pytest.raises(ValueError):
        reg.explain(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="expected method to be one of"):
        reg.explain(X[:2], method="lime")
