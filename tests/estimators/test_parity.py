"""The estimators on the shared training loop, and the scikit-learn behaviours users notice."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")

from sklearn.datasets import make_blobs  # noqa: E402 - after the importorskip above
from sklearn.exceptions import ConvergenceWarning  # noqa: E402 - after the importorskip above
from sklearn.linear_model import PoissonRegressor  # noqa: E402 - after the importorskip above
from sklearn.metrics import mean_poisson_deviance  # noqa: E402 - after the importorskip above
from sklearn.preprocessing import StandardScaler  # noqa: E402 - after the importorskip above

import chainrule.train.loop as loop  # noqa: E402 - after the importorskip above
from chainrule.estimators import MLPClassifier, MLPRegressor  # noqa: E402 - after the importorskip above

# short fits on purpose: the ConvergenceWarning they cause is expected (pytest.warns still sees it)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def blobs(n=90, centers=3, seed=0):
    X, y = make_blobs(n_samples=n, centers=centers, n_features=4, random_state=seed)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------- one loop
def test_stochastic_fit_runs_through_the_shared_train_step(monkeypatch):
    X, y = blobs(90)
    calls = []
    real = loop.train_step

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "train_step", counting)
    est = MLPClassifier((5,), batch_size=32, max_iter=4, random_state=0).fit(X, y)
    assert est.n_iter_ == 4
    assert calls == [32, 32, 26] * 4


# ----------------------------------------------------------- warm start
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_n_iter_counts_the_last_call(Estimator):
    X, y = blobs(60)
    est = Estimator(
        hidden_layer_sizes=(5,),
        max_iter=5,
        warm_start=True,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\)"):
        est.fit(X, y)
    assert est.n_iter_ == 5
    est.set_params(max_iter=7)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(7\)"):
        est.fit(X, y)
    assert est.n_iter_ == 7 and len(est.loss_curve_) == 12 and est.t_ == 12 * 60


# ---------------------------------------------------------------- dtype
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameters_and_predictions_follow_the_input_dtype(Estimator, dtype):
    X, y = blobs(60)
    est = Estimator(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X.astype(dtype), y)
    assert all(c.dtype == dtype for c in est.coefs_)
    assert all(b.dtype == dtype for b in est.intercepts_)
    out = est.predict_proba(X) if Estimator is MLPClassifier else est.predict(X)
    assert out.dtype == dtype


def test_integer_input_trains_in_float64_and_dtype_overrides():
    X, y = blobs(60)
    assert (
        MLPClassifier((3,), max_iter=2).fit(np.rint(X * 10).astype(int), y).coefs_[0].dtype
        == np.float64
    )
    est = MLPClassifier((3,), max_iter=2, dtype=np.float32).fit(X, y)
    assert est.coefs_[0].dtype == np.float32


# --------------------------------------------------------------- sparse
@pytest.mark.parametrize("make_sparse", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array])
def test_sparse_input_matches_dense_and_is_densified_per_batch(make_sparse, monkeypatch):
    X, y = blobs(90)
    X[np.abs(X) < 0.5] = 0.0
    dense = MLPClassifier((6,), batch_size=20, max_iter=3, random_state=0).fit(X, y)
    densified = []
    real = sparse.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        if self.shape[1] == X.shape[1]:  # rows of X (LabelBinarizer densifies its own matrix)
            densified.append(self.shape[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(sparse.csr_matrix, "toarray", spy)
    monkeypatch.setattr(sparse.csr_array, "toarray", spy)
    est = MLPClassifier((6,), batch_size=20, max_iter=3, random_state=0).fit(make_sparse(X), y)
    assert densified and max(densified) <= 20  # never the whole matrix (90 rows)
    for a, b in zip(dense.coefs_, est.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(est.predict(make_sparse(X)), dense.predict(X))


def test_sparse_lbfgs_equals_dense():
    X, y = blobs(60)
    X[np.abs(X) < 0.5] = 0.0
    dense = MLPClassifier((4,), solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    est = MLPClassifier((4,), solver="lbfgs", max_iter=30, random_state=0).fit(
        sparse.csr_matrix(X), y
    )
    np.testing.assert_allclose(est.predict_proba(X), dense.predict_proba(X), rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------- views
def test_coefs_and_intercepts_are_views_of_the_network():
    X, y = blobs(60)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), activation="identity", max_iter=3, random_state=0
    ).fit(X, y)
    assert np.shares_memory(reg.coefs_[0], reg.model_[0].weight.data)
    reg.coefs_[1][...] = 0.0
    reg.intercepts_[1][...] = 2.5
    np.testing.assert_array_equal(reg.predict(X), np.full(len(X), 2.5))
    # the identity network by hand: X W0 + b0, then W1, b1
    reg.coefs_ = [np.ones((4, 4)), np.full((4, 1), 0.5)]
    reg.intercepts_ = [np.zeros(4), np.zeros(1)]
    np.testing.assert_allclose(reg.predict(X), (X @ np.ones((4, 4)) @ np.full((4, 1), 0.5)).ravel())
    with pytest.raises(ValueError, match="coefs_ arrays must keep their shapes"):
        reg.coefs_ = [np.ones((3, 4)), np.ones((4, 1))]
    with pytest.raises(AttributeError):
        MLPRegressor().coefs_  # noqa: B018 - unfitted: no attribute, so check_is_fitted agrees


# -------------------------------------------------------------- poisson
def test_poisson_regressor_equals_the_poisson_glm():
    """scikit-learn's own equivalence: one identity hidden unit with a log link is a GLM."""
    rng = np.random.default_rng(0)
    X = np.linspace(0, 1, 100).reshape(-1, 1)
    y = rng.poisson(np.exp(X.ravel() + 1))
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    mlp = MLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(1,),
        activation="identity",
        alpha=0,
        solver="lbfgs",
        tol=1e-7,
        random_state=1,
    ).fit(X, y)
    np.testing.assert_allclose(mlp.predict(X), glm.predict(X), rtol=1e-4)
    # loss_ is half the mean Poisson deviance, as scikit-learn reports it
    assert mlp.loss_ == pytest.approx(mean_poisson_deviance(y, mlp.predict(X)) / 2, rel=1e-6)


def test_poisson_adam_loss_curve_and_errors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    reg = MLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(8,),
        max_iter=40,
        random_state=0,
        learning_rate_init=0.01,
    ).fit(X, y)
    assert reg.out_activation_ == "exp" and (reg.predict(X) > 0).all()
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    with pytest.raises(ValueError, match="loss='poisson' needs targets y >= 0"):
        MLPRegressor(loss="poisson").fit(X, y - 5.0)
    with pytest.raises(ValueError, match="loss must be one of 'squared_error', 'poisson'"):
        MLPRegressor(loss="huber").fit(X, y)


# ------------------------------------------------------ weights checked
def test_negative_or_all_zero_sample_weight_is_refused():
    X, y = blobs(30)
    for weights in (-np.ones(30), np.r_[np.ones(29), -1.0], np.zeros(30)):
        with pytest.raises(ValueError, match="MLPClassifier: sample_weight must be non-negative"):
            MLPClassifier((3,), max_iter=2).fit(X, y, sample_weight=weights)


def test_class_weight_keys_must_be_labels():
    X, y = blobs(30)
    with pytest.raises(
        ValueError, match=r"class_weight has keys \[7\] that are not among the labels"
    ):
        MLPClassifier((3,), max_iter=2, class_weight={0: 2.0, 7: 1.0}).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((3,), max_iter=2, class_weight={0: 2.0}).fit(X, y)
