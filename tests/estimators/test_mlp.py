"""MLPClassifier / MLPRegressor: behaviour against scikit-learn's MLP and NumPy references."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule
from chainrule import nn
from chainrule.estimators import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:600], y[:600], X[1000:1400], y[1000:1400]


def blobs(n=120, centers=3, seed=0):
    X, y = make_blobs(n_samples=n, centers=centers, n_features=4, random_state=seed)
    return StandardScaler().fit_transform(X), y


def multilabel_data(n=40, features=4, labels=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    return X, (X @ rng.normal(size=(features, labels)) > 0).astype(np.int64)


def regression_data(n=80, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    Y = np.stack([X[:, 0] - 2 * X[:, 1], np.sin(X[:, 2])], axis=1)[:, :outputs]
    return X, (Y[:, 0] if outputs == 1 else Y)


# ---------------------------------------------------------------- layouts
@pytest.mark.parametrize(
    "task", ["binary", "multiclass", "multilabel", "regression", "regression2"]
)
def test_fitted_layout_matches_sklearn(task):
    if task in ("binary", "multiclass"):
        X, y = blobs(centers=2 if task == "binary" else 3)
        ours, theirs = MLPClassifier((7, 5), max_iter=3), SkMLPClassifier((7, 5), max_iter=3)
    elif task == "multilabel":
        X, y = multilabel_data(n=60, features=5, labels=4)
        ours, theirs = MLPClassifier((7, 5), max_iter=3), SkMLPClassifier((7, 5), max_iter=3)
    else:
        X, y = regression_data(outputs=1 if task == "regression" else 2)
        ours, theirs = (
            MLPRegressor(
                hidden_layer_sizes=(
                    7,
                    5,
                ),
                max_iter=3,
            ),
            SkMLPRegressor(
                hidden_layer_sizes=(
                    7,
                    5,
                ),
                max_iter=3,
            ),
        )
    ours.fit(X, y)
    theirs.fit(X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_", "n_iter_", "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 3
    assert ours.predict(X).shape == theirs.predict(X).shape
    if task != "regression" and task != "regression2":
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape
    # coefs_ is the transpose of the chainrule Linear weight (PyTorch layout)
    linears = [m for m in ours.model_ if isinstance(m, nn.Linear)]
    np.testing.assert_array_equal(ours.coefs_[0], linears[0].weight.data.T)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_same_solver_reaches_similar_accuracy_as_sklearn(digits, solver):
    X, y, X_test, y_test = digits
    params = {
        "hidden_layer_sizes": (32,),
        "solver": solver,
        "max_iter": 40,
        "random_state": 0,
        "learning_rate_init": 0.01 if solver == "sgd" else 0.001,
    }
    ours = MLPClassifier(**params).fit(X, y).score(X_test, y_test)
    theirs = SkMLPClassifier(**params).fit(X, y).score(X_test, y_test)
    assert ours > 0.85
    assert abs(ours - theirs) < 0.04


def test_lbfgs_solver_fits(digits):
    X, y, X_test, y_test = digits
    est = MLPClassifier((16,), solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    assert 1 <= est.n_iter_ <= 30
    assert est.score(X_test, y_test) > 0.85
    assert not hasattr(est, "loss_curve_")


# ------------------------------------------------------ loss_ vs NumPy
def _numpy_forward(est, X):
    a = X
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=False)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = np.maximum(a, 0)
    return a


def _numpy_loss(est, X, Y, sw):
    """scikit-learn's loss formula (its _base.py), written out."""
    z = _numpy_forward(est, X)
    w = np.ones(len(X)) if sw is None else sw
    if est.out_activation_ == "softmax":
        logp = z - z.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        data = -np.average((Y * logp).sum(1), weights=w)
    elif est.out_activation_ == "logistic":
        p = 1 / (1 + np.exp(-z))
        data = -np.average(Y * np.log(p) + (1 - Y) * np.log(1 - p), weights=w, axis=0).sum()
    else:
        data = 0.5 * np.average((Y - z) ** 2, weights=w, axis=0).mean()
    penalty = 0.5 * est.alpha * sum((W**2).sum() for W in est.coefs_) / w.sum()
    return data + penalty


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_matches_numpy_reference(task, weighted):
    rng = np.random.default_rng(1)
    if task == "regression":
        X, Y = regression_data(n=40)
        est = MLPRegressor(hidden_layer_sizes=(6,), alpha=0.3)
    elif task == "multilabel":
        X, Y = multilabel_data()
        est = MLPClassifier((6,), alpha=0.3)
    else:
        X, y = blobs(n=40, centers=3 if task == "multiclass" else 2)
        Y = np.eye(3)[y] if task == "multiclass" else y[:, None].astype(float)
        est = MLPClassifier((6,), alpha=0.3)
    sw = rng.uniform(0.5, 2.0, size=len(X)) if weighted else None
    # one full-batch epoch with a negligible step: loss_ is J at the (kept) initial weights
    est.set_params(max_iter=1, learning_rate_init=1e-12, dtype=np.float64, random_state=0)
    est.fit(X, Y if task in ("multilabel", "regression") else y, sample_weight=sw)
    np.testing.assert_allclose(est.loss_, _numpy_loss(est, X, Y, sw), rtol=1e-7)


def test_loss_is_epoch_average_of_minibatch_losses():
    X, y = blobs(n=90)
    est = MLPClassifier(
        (5,),
        batch_size=40,
        max_iter=1,
        learning_rate_init=1e-12,
        shuffle=False,
        dtype=np.float64,
        random_state=0,
        alpha=1.0,
    ).fit(X, y)
    Y = np.eye(3)[y]
    expected = (
        sum(
            _numpy_loss(est, X[s], Y[s], None) * (s.stop - s.start)
            for s in (slice(0, 40), slice(40, 80), slice(80, 90))
        )
        / 90
    )
    np.testing.assert_allclose(est.loss_, expected, rtol=1e-7)


# ---------------------------------------------------------- training API
def test_partial_fit_improves_and_needs_classes(digits):
    X, y, X_test, y_test = digits
    est = MLPClassifier((32,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X[:50], y[:50])
    est.partial_fit(X[:100], y[:100], classes=np.arange(10))
    first_loss, first_score = est.loss_, est.score(X_test, y_test)
    for _ in range(15):
        est.partial_fit(X, y)
    assert est.loss_ < first_loss
    assert est.score(X_test, y_test) > first_score + 0.2
    assert est.n_iter_ == 16 and len(est.loss_curve_) == 16
    with pytest.raises(ValueError, match="classes not in"):
        est.partial_fit(X[:5], np.full(5, 11))


def test_partial_fit_regressor_improves():
    X, y = regression_data(outputs=1)
    est = MLPRegressor(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)
    losses = [est.partial_fit(X, y).loss_ for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]


def test_class_weight_shifts_predictions_towards_weighted_class():
    X, y = make_blobs(
        n_samples=[150, 15], centers=[[0, 0], [1.2, 1.2]], cluster_std=1.0, random_state=0
    )
    base = MLPClassifier((8,), max_iter=150, random_state=0).fit(X, y)
    balanced = MLPClassifier((8,), max_iter=150, random_state=0, class_weight="balanced").fit(X, y)
    minority_base = (base.predict(X)[y == 1] == 1).mean()
    minority_balanced = (balanced.predict(X)[y == 1] == 1).mean()
    assert minority_balanced > minority_base + 0.2
    assert (balanced.predict(X) == 1).sum() > (base.predict(X) == 1).sum()


def test_class_weight_equals_sample_weight():
    X, y = blobs(n=60)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    a = MLPClassifier((5,), max_iter=30, random_state=0, class_weight=cw).fit(X, y)
    b = MLPClassifier((5,), max_iter=30, random_state=0).fit(
        X, y, sample_weight=np.vectorize(cw.get)(y)
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="heavy").fit(X, y)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_integer_sample_weight_equals_repeating_rows(Estimator):
    X, y = blobs(n=30) if Estimator is MLPClassifier else regression_data(n=30, outputs=1)
    sw = np.random.default_rng(0).integers(0, 4, size=len(X))
    weighted = Estimator(hidden_layer_sizes=(6,), max_iter=40, random_state=0).fit(
        X, y, sample_weight=sw
    )
    repeated = Estimator(hidden_layer_sizes=(6,), max_iter=40, random_state=0).fit(
        np.repeat(X, sw, 0), np.repeat(y, sw)
    )
    method = "predict_proba" if Estimator is MLPClassifier else "predict"
    np.testing.assert_array_equal(getattr(weighted, method)(X), getattr(repeated, method)(X))


def test_sample_weight_changes_minibatch_fit():
    X, y = blobs(n=300)
    sw = np.where(y == 0, 5.0, 1.0)
    a = MLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
    b = MLPClassifier((5,), max_iter=5, random_state=0).fit(X, y, sample_weight=sw)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])
    with pytest.raises(ValueError):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=np.ones(5))


def test_dtype_float32_and_float64(digits):
    X, y, X_test, y_test = digits
    scores = {}
    for dtype in (np.float32, np.float64):
        est = MLPClassifier((24,), max_iter=20, random_state=0, dtype=dtype).fit(X, y)
        assert est.coefs_[0].dtype == dtype and est.model_[0].weight.dtype == dtype
        assert est.predict_proba(X_test).dtype == dtype  # predictions follow the network
        scores[dtype] = est.score(X_test, y_test)
    assert abs(scores[np.float32] - scores[np.float64]) < 0.03
    with pytest.raises(ValueError, match="dtype"):
        MLPClassifier(dtype=np.int32).fit(X, y)


def test_multilabel_classification():
    X, Y = make_multilabel_classification(n_samples=150, n_features=8, n_classes=4, random_state=0)
    est = MLPClassifier((32,), max_iter=300, random_state=0).fit(X, Y)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 4
    pred = est.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    proba = est.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba), rtol=1e-6)
    assert (pred == Y).mean() > 0.75  # per-label accuracy


def test_multi_output_regression():
    X, Y = regression_data(n=150, outputs=2)
    est = MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=400, random_state=0, learning_rate_init=0.01
    ).fit(X, Y)
    assert est.predict(X).shape == (150, 2) and est.n_outputs_ == 2
    assert est.score(X, Y) > 0.9


def test_binary_string_labels_and_log_proba():
    X, y = blobs(n=60, centers=2)
    labels = np.array(["no", "yes"])[y]
    est = MLPClassifier((8,), max_iter=100, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(est.classes_, ["no", "yes"])
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(1)])
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba), rtol=1e-9, atol=1e-12)


def test_early_stopping_records_validation_scores(digits):
    X, y, _, _ = digits
    est = MLPClassifier(
        (16,), early_stopping=True, n_iter_no_change=3, max_iter=100, random_state=0
    ).fit(X, y)
    assert est.best_loss_ is None
    assert len(est.validation_scores_) == est.n_iter_ < 100
    assert est.best_validation_score_ == max(est.validation_scores_)
    with pytest.raises(ValueError, match="early_stopping"):
        est.partial_fit(X, y)


def test_dropout_and_batch_norm(digits):
    X, y, X_test, y_test = digits
    est = MLPClassifier((32,), dropout=0.2, batch_norm=True, max_iter=30, random_state=0).fit(X, y)
    kinds = [type(m).__name__ for m in est.model_]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert est.score(X_test, y_test) > 0.8
    assert not est.model_.training
    np.testing.assert_array_equal(
        est.predict_proba(X_test), est.predict_proba(X_test)
    )  # eval: deterministic
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(solver="lbfgs", dropout=0.5).fit(X, y)


def test_adaptive_and_invscaling_learning_rates():
    X, y = blobs(n=60)
    est = MLPClassifier(
        (4,),
        solver="sgd",
        learning_rate="adaptive",
        tol=10.0,
        n_iter_no_change=2,
        max_iter=7,
        random_state=0,
    ).fit(X, y)
    # tol=10: no epoch after the first improves; the count exceeds n_iter_no_change=2 at
    # epochs 4 and 7, and each time the rate is divided by 5
    np.testing.assert_allclose(est._optimizer.param_groups[0]["lr"], 0.001 / 25)
    assert est.n_iter_ == 7
    params = {
        "hidden_layer_sizes": (4,),
        "solver": "sgd",
        "tol": 10.0,
        "n_iter_no_change": 2,
        "max_iter": 50,
    }
    stops = MLPClassifier(**params, random_state=0).fit(X, y)
    assert stops.n_iter_ == SkMLPClassifier(**params).fit(X, y).n_iter_ == 4
    inv = MLPClassifier(
        (4,), solver="sgd", learning_rate="invscaling", max_iter=4, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(inv._optimizer.param_groups[0]["lr"], 0.001 / (inv.t_ + 1) ** 0.5)


def test_convergence_warning_and_verbose(capsys):
    X, y = blobs(n=40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPClassifier((4,), max_iter=3, verbose=True, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert "Iteration 3, loss = " in capsys.readouterr().out


def test_random_state_reproducible_and_no_global_state():
    X, y = blobs(n=60)
    before = np.random.get_state()[1].copy()
    a = MLPClassifier((5,), max_iter=5, random_state=3).fit(X, y)
    b = MLPClassifier((5,), max_iter=5, random_state=3).fit(X, y)
    c = MLPClassifier((5,), max_iter=5, random_state=4).fit(X, y)
    MLPClassifier((5,), max_iter=5).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_warm_start_continues_training():
    X, y = blobs(n=60)
    est = MLPClassifier((5,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    first = est.coefs_[0].copy()
    est.fit(X, y)
    assert len(est.loss_curve_) == 10 and est.t_ == 600
    assert not np.array_equal(first, est.coefs_[0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"activation": "softplus"}, "activation"),
        ({"solver": "newton"}, "solver"),
        ({"alpha": -1.0}, "alpha"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": "cyclic"}, "learning_rate"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"momentum": 1.5}, "momentum"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"beta_1": 1.0}, "beta_1"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"dropout": 1.0}, "dropout"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(params, match):
    X, y = blobs(n=20)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_partial_fit_lbfgs_refused():
    X, y = blobs(n=20)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")  # as scikit-learn
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifier(solver="sgd"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])


# -------------------------------------------------- scikit-learn's tools
def test_pipeline_gridsearch_cross_val_score_clone():
    X, y = blobs(n=300)
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((8,), max_iter=60, learning_rate_init=0.01, random_state=0)
    )
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.9
    grid = GridSearchCV(
        pipe, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__dropout": [0.0, 0.1]}, cv=2
    )
    grid.fit(X, y)
    assert grid.best_params_["mlpclassifier__alpha"] in (1e-4, 1e-1)
    assert grid.score(X, y) > 0.9
    est = MLPRegressor(hidden_layer_sizes=(3,), dropout=0.1, dtype=np.float64)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_pickle_round_trip(Estimator):
    X, y = blobs(n=60) if Estimator is MLPClassifier else regression_data(n=60)
    est = Estimator(hidden_layer_sizes=(8,), batch_norm=True, max_iter=10, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    restored.partial_fit(X, y)  # optimizer state came along and still drives the restored network
    assert restored.n_iter_ == est.n_iter_ + 1
    assert not np.array_equal(restored.coefs_[0], est.coefs_[0])


def test_chainrule_save_of_model_and_estimator_save_load(tmp_path):
    X, y = blobs(n=60)
    labels = np.array(["a", "b", "c"])[y]
    est = MLPClassifier(
        (8, 4), batch_norm=True, dropout=0.1, max_iter=20, random_state=0, class_weight={"a": 2.0}
    ).fit(X, labels)
    chainrule.save(est.model_, tmp_path / "net")
    net = chainrule.load(tmp_path / "net")
    net.eval()
    with chainrule.no_grad():
        logits = net(X.astype(np.float32)).data
    np.testing.assert_allclose(logits, est._logits(X), rtol=1e-5, atol=1e-5)

    est.save(tmp_path / "est")
    assert (tmp_path / "est" / "estimator.json").is_file()
    back = MLPClassifier.load(tmp_path / "est")
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.classes_, est.classes_)
    assert back.get_params() == est.get_params()
    assert back.loss_curve_ == est.loss_curve_ and back.n_iter_ == est.n_iter_
    for a, b in zip(back.coefs_, est.coefs_, strict=False):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="MLPRegressor"):
        MLPRegressor.load(tmp_path / "est")


def test_save_load_regressor_and_multilabel(tmp_path):
    X, Y = regression_data(n=50)
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=10, random_state=0, dtype=np.float64).fit(
        X, Y
    )
    reg.save(tmp_path / "reg")
    back = MLPRegressor.load(tmp_path / "reg")
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    assert back.coefs_[0].dtype == np.float64
    Xm, Ym = multilabel_data()
    clf = MLPClassifier((6,), max_iter=10, random_state=0).fit(Xm, Ym)
    clf.save(tmp_path / "ml")
    np.testing.assert_array_equal(MLPClassifier.load(tmp_path / "ml").predict(Xm), clf.predict(Xm))


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = blobs(n=40)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = MLPClassifier((4,), max_iter=5, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)


def test_import_chainrule_does_not_import_sklearn():
    code = "import sys, chainrule, chainrule.nn, chainrule.optim; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
