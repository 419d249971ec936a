"""partial_fit is fit one epoch at a time: the same weights bit for bit, the optimizer kept."""

import warnings

import numpy as np
import pytest

from chainrule.estimators import MLPClassifier, MLPRegressor

pytest.importorskip("sklearn")


@pytest.fixture
def iris():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X, y


def params(est):
    return est.coefs_ + est.intercepts_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("n", [1, 5])
def test_n_full_batch_partial_fits_equal_fit_with_max_iter_n(iris, solver, n):
    X, y = iris
    common = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=len(X), random_state=0,
                  shuffle=False, tol=0.0, n_iter_no_change=10_000, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                        # max_iter reached
        fitted = MLPClassifier(max_iter=n, **common).fit(X, y)
    online = MLPClassifier(**common)
    for _ in range(n):
        online.partial_fit(X, y, classes=np.unique(y))
    assert online.n_iter_ == fitted.n_iter_ == n
    for a, b in zip(params(fitted), params(online), strict=True):
        assert np.array_equal(a, b)


def test_adam_state_carries_over_between_calls(iris):
    X, y = iris
    est = MLPRegressor(hidden_layer_sizes=(4,), batch_size=len(X), random_state=0,
                       learning_rate_init=0.01)
    est.partial_fit(X, y.astype(float))
    state = est._optimizer.state
    steps = [s["step"] for s in state.values()]
    moments = [s["exp_avg"].copy() for s in state.values()]
    est.partial_fit(X, y.astype(float))
    assert est._optimizer.state is state                      # the same optimizer, not a new one
    assert [s["step"] for s in state.values()] == [step + 1 for step in steps]
    assert any(not np.array_equal(m, s["exp_avg"]) for m, s in zip(moments, state.values(),
                                                                   strict=True))


def test_partial_fit_refuses_classes_that_change(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError):
        est.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError):
        est.partial_fit(X, np.full(len(y), 7))


def test_diagnostics_report_is_kept_and_flags_a_too_high_learning_rate(iris):
    X, y = iris
    healthy = MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                            diagnostics=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        healthy.fit(X, y)
    report = healthy.diagnostics_
    assert set(report["parameters"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(len(v["grad_norm"]) > 0 for v in report["parameters"].values())
    hot = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=50.0,
                        momentum=0.0, max_iter=5, random_state=0, diagnostics=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        hot.fit(X, y)
    assert any("too high" in w for w in hot.diagnostics_["warnings"])
    with pytest.raises(ValueError, match="lbfgs"):
        MLPClassifier(solver="lbfgs", diagnostics=True).fit(X, y)
    assert not hasattr(MLPClassifier().fit(X[:30], y[:30]), "diagnostics_")
