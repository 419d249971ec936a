"""Multi-layer perceptrons with scikit-learn's interface, trained by chainrule's autograd.

The objective is scikit-learn's. For a mini-batch B with sample weights s
(ones by default, times the class weights) and the weight matrices W of the
Linear layers::

    J_B = Σ_{i∈B} s_i ℓ(y_i, f(x_i)) / Σ_{i∈B} s_i  +  (α / 2) Σ_W ‖W‖² / Σ_{i∈B} s_i

with ℓ the softmax cross-entropy (multiclass), the sum over outputs of the
logistic loss (binary and multilabel), or half the squared error summed over
outputs (regression). ``loss_`` reports that value averaged over an epoch as
scikit-learn does (for regression the data term is divided by the number of
outputs, scikit-learn's ``squared_loss``). The penalty's gradient α W / Σ s
enters through the optimizer's ``weight_decay`` on the weight matrices only.

Each epoch the loss (or, with ``early_stopping``, the validation score) is
compared with the best so far; after more than ``n_iter_no_change`` epochs
without an improvement of ``tol`` training stops, or with ``solver='sgd'`` and
``learning_rate='adaptive'`` the learning rate is divided by 5 (the count is
kept by the shared :class:`~chainrule._monitor.BestMonitor`).

Training goes through the same loop and step as :func:`chainrule.train.fit`
(:func:`chainrule.train.loop.run_epochs` and
:func:`chainrule.train.step.train_step`); the per-epoch bookkeeping above is
a callback of that loop. ``solver='lbfgs'`` hands the same objective and its
gradient to SciPy's L-BFGS-B instead.
"""

from __future__ import annotations

import itertools
import math
import warnings
from numbers import Integral
from typing import ClassVar

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .. import functional as F
from .. import nn, optim
from .._monitor import BestMonitor
from .._validation import check_bool, check_choice, check_int, check_real
from ..autograd import no_grad
from ..backend import host as np
from ..data.adapters import ArrayData, is_sparse
from ..io import ModelFileError, register_estimator
from ..tensor import Tensor
from ..train.callbacks import Callback
from ..train.loop import Trainer, run_epochs

__all__ = ["MLPClassifier", "MLPRegressor"]

_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
_SOLVERS = ("lbfgs", "sgd", "adam")
_SCHEDULES = ("constant", "invscaling", "adaptive")
_CHUNK = 4096
"""Rows per chunk when predicting, and when L-BFGS densifies a sparse X."""


def _activation_module(name: str):
    return {"logistic": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[name]()


def _generator_from(random_state) -> np.random.Generator:
    """A fresh numpy Generator derived from scikit-learn's ``random_state`` convention.

    None: fresh OS entropy (never the global state); an int: that seed; a
    RandomState: one draw from it (so it advances, as scikit-learn expects);
    a Generator: a child spawned from it.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state.spawn(1)[0]
    if isinstance(random_state, (Integral, np.random.RandomState)) and not isinstance(
        random_state, bool
    ):
        return np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1))
    raise ValueError(
        "random_state: expected None, an int, a numpy RandomState or a numpy Generator, "
        f"received {random_state!r}"
    )


def _merge_duplicate_rows(X, T, w):
    """Merge identical (x, target) rows into one whose weight is the sum; drop zero weights.

    The rows come back in a canonical (sorted) order, so the result depends only
    on the weighted dataset, not on the order or multiplicity of the rows.
    """
    n = X.shape[0]
    rows = np.hstack([X.astype(np.float64, copy=False), T.reshape(n, -1).astype(np.float64)])
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.reshape(-1), weights=w.astype(np.float64), minlength=first.size)
    keep = merged > 0
    return X[first[keep]], T[first[keep]], merged[keep]


class _Objective:
    """The mini-batch objective J of the module docstring, as the loss the training step calls.

    ``targets`` is ``(T, s)``: encoded targets and sample weights. The L2
    penalty's gradient α W / Σ s enters through the optimizer's weight_decay
    on the weight matrices, set here for each batch; ``last_reported`` keeps
    the batch's value of scikit-learn's ``loss_`` (computed before the update).
    """

    def __init__(self, estimator, uniform: bool):
        self.estimator = estimator
        self.uniform = uniform
        self.last_reported = math.nan

    def __call__(self, logits, targets):
        est = self.estimator
        T, w = targets
        weight_sum = float(w.sum(dtype=np.float64))
        est._optimizer.param_groups[0]["weight_decay"] = est.alpha / weight_sum
        loss = est._data_loss(logits, T, None if self.uniform else w, weight_sum)
        self.last_reported = est._reported_loss(float(loss.data), weight_sum) + est._loss_constant(
            T, w, weight_sum
        )
        return loss


class _EpochBookkeeping(Callback):
    """scikit-learn's per-epoch work, as a callback of the shared training loop.

    ``loss_`` (the epoch mean of the batches' reported losses), ``loss_curve_``,
    ``n_iter_``, ``t_``, the validation score, the ``n_iter_no_change`` count
    (the shared :class:`~chainrule._monitor.BestMonitor`), the 'invscaling' and
    'adaptive' learning rates, stopping, and the ConvergenceWarning.
    """

    def __init__(self, estimator, objective, n_rows, n_samples, validation, incremental):
        self.estimator = estimator
        self.objective = objective
        self.n_rows = n_rows
        self.n_samples = n_samples
        self.validation = validation
        self.incremental = incremental
        self.total = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.total = 0.0

    def on_batch_end(self, batch, logs=None):
        self.total += self.objective.last_reported * logs["size"]

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        est.n_iter_ += 1
        est.loss_ = self.total / self.n_rows
        est.t_ += self.n_samples
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        est._update_no_improvement_count(*self.validation)
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            optim.set_lr(self.optimizer, est.learning_rate_init / (est.t_ + 1) ** est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if est.early_stopping else "Training loss"
            msg = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            if est._trigger_stopping(msg):
                self.stop_training = True
                return
            est._monitor.wait = est._no_improvement_count = 0
        if not self.incremental and est.n_iter_ == est.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )


class _BaseMLP(BaseEstimator):
    """Shared code of :class:`MLPClassifier` and :class:`MLPRegressor`; not for direct use."""

    _out_kinds = ()

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        batch_norm=False,
        dtype=None,
        diagnostics=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.dtype = dtype
        self.diagnostics = diagnostics

    # ------------------------------------------------------------- validation
    def _check_number(
        self,
        name,
        low=None,
        high=None,
        *,
        low_open=False,
        high_open=False,
        integer=False,
        allow_inf=False,
    ):
        owner, value = type(self).__name__, getattr(self, name)
        if integer:
            return check_int(owner, name, value, low=low, high=high, allow_inf=allow_inf)
        return check_real(
            owner,
            name,
            value,
            low=low,
            high=high,
            low_open=low_open,
            high_open=high_open,
            allow_inf=allow_inf,
        )

    def _check_choice(self, name, options):
        return check_choice(type(self).__name__, name, getattr(self, name), options)

    def _check_bool(self, name):
        return check_bool(type(self).__name__, name, getattr(self, name))

    def _validate_hyperparameters(self) -> None:
        """Check every hyperparameter; raise TypeError/ValueError naming the bad one."""
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
                raise ValueError(
                    f"{name}: hidden_layer_sizes must be positive ints, "
                    f"received {self.hidden_layer_sizes!r}"
                )
        self._hidden_sizes = [int(s) for s in sizes]
        self._check_choice("activation", _ACTIVATIONS)
        self._check_choice("solver", _SOLVERS)
        self._check_choice("learning_rate", _SCHEDULES)
        self._check_number("alpha", 0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if isinstance(self.batch_size, str):
                raise ValueError(
                    f"{name}: batch_size must be 'auto' or a positive int, "
                    f"received {self.batch_size!r}"
                )
            self._check_number("batch_size", 1, integer=True)
        self._check_number("learning_rate_init", 0.0, low_open=True)
        self._check_number("power_t", 0.0)
        self._check_number("max_iter", 1, integer=True)
        self._check_number("tol", 0.0)
        self._check_number("momentum", 0.0, 1.0)
        self._check_number("validation_fraction", 0.0, 1.0, high_open=True)
        self._check_number("beta_1", 0.0, 1.0, high_open=True)
        self._check_number("beta_2", 0.0, 1.0, high_open=True)
        self._check_number("epsilon", 0.0, low_open=True)
        self._check_number("n_iter_no_change", 1, integer=True, allow_inf=True)
        self._check_number("max_fun", 1, integer=True)
        self._check_number("dropout", 0.0, 1.0, high_open=True)
        for flag in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping", "batch_norm"):
            self._check_bool(flag)
        if not isinstance(self.verbose, (bool, Integral)):
            raise TypeError(f"{name}: verbose must be a bool or an int, received {self.verbose!r}")
        if self.dtype is not None:
            try:
                dtype = np.dtype(self.dtype)
            except TypeError:
                dtype = None
            if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
                raise ValueError(
                    f"{name}: dtype must be None, numpy.float32 or numpy.float64, "
                    f"received {self.dtype!r}"
                )
        if not isinstance(self.diagnostics, (bool, np.bool_)):
            raise ValueError(f"{name}: diagnostics must be True or False, received "
                             f"{self.diagnostics!r}")
        if self.solver == "lbfgs" and self.diagnostics:
            raise ValueError(f"{name}: diagnostics=True records the steps of solver 'sgd' or "
                             "'adam'; solver='lbfgs' takes no such steps")
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                f"{name}: solver='lbfgs' needs a deterministic objective, so dropout must be 0, "
                f"received dropout={self.dropout}; use solver='adam' or 'sgd' with dropout"
            )

    # ------------------------------------------------------------------ model
    def _build_model(self, n_features: int, n_outputs: int, generator) -> nn.Sequential:
        """Linear → [BatchNorm1d] → activation → [Dropout] per hidden layer, then Linear.

        Weights and biases start from Glorot's uniform U(−b, b),
        b = √(6 / (fan_in + fan_out)) (√(2 / …) for the logistic activation), as scikit-learn.
        """
        units = [n_features] + self._hidden_sizes + [n_outputs]
        gain = math.sqrt(1.0 / 3.0) if self.activation == "logistic" else 1.0
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(units)):
            linear = nn.Linear(n_in, n_out, dtype=self._dtype, generator=generator)
            bound = gain * math.sqrt(6.0 / (n_in + n_out))
            nn.init.uniform_(linear.weight, -bound, bound, generator=generator)
            nn.init.uniform_(linear.bias, -bound, bound, generator=generator)
            layers.append(linear)
            if i < len(units) - 2:
                if self.batch_norm:
                    layers.append(nn.BatchNorm1d(n_out, dtype=self._dtype))
                if self.activation != "identity":
                    layers.append(_activation_module(self.activation))
                if self.dropout > 0:
                    layers.append(nn.Dropout(self.dropout, generator=generator))
        return nn.Sequential(*layers)

    def _linear_layers(self):
        return [m for m in self.model_ if isinstance(m, nn.Linear)]

    def _sync_attributes(self) -> None:
        self.n_layers_ = len(self._linear_layers()) + 1

    @property
    def coefs_(self) -> list:
        """coefs_[i] (n_in, n_out): views of the Linear weights (writing them changes the net)."""
        if "model_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no coefs_ before fit")
        return [layer.weight.data.T for layer in self._linear_layers()]

    @coefs_.setter
    def coefs_(self, values) -> None:
        self._write_parameters("coefs_", values, lambda layer: layer.weight.data.T)

    @property
    def intercepts_(self) -> list:
        """intercepts_[i] (n_out,): the Linear biases themselves (writable views)."""
        if "model_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no intercepts_ before fit")
        return [layer.bias.data for layer in self._linear_layers()]

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        self._write_parameters("intercepts_", values, lambda layer: layer.bias.data)

    def _write_parameters(self, name, values, view) -> None:
        layers = self._linear_layers() if "model_" in self.__dict__ else []
        values = list(values)
        if len(values) != len(layers):
            raise ValueError(
                f"{type(self).__name__}: {name} needs {len(layers)} arrays (one per "
                f"layer of the fitted network), received {len(values)}"
            )
        for layer, value in zip(layers, values, strict=False):
            target = view(layer)
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(
                    f"{type(self).__name__}: {name} arrays must keep their shapes "
                    f"{target.shape}, received {value.shape}"
                )
            target[...] = value

    def _make_optimizer(self):
        weights = [layer.weight for layer in self._linear_layers()]
        weight_ids = {id(p) for p in weights}
        others = [p for p in self.model_.parameters() if id(p) not in weight_ids]
        groups = [{"params": weights, "weight_decay": 0.0}, {"params": others, "weight_decay": 0.0}]
        if self.solver == "sgd":
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            return optim.get_optimizer(
                "sgd", groups, lr=self.learning_rate_init, momentum=self.momentum, nesterov=nesterov
            )
        return optim.get_optimizer(
            "adam",
            groups,
            lr=self.learning_rate_init,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )

    def _initialize(self, n_features: int, n_outputs: int) -> None:
        self.n_outputs_ = n_outputs
        self.out_activation_ = self._out_activation()
        self.model_ = self._build_model(n_features, n_outputs, self._rng)
        self.n_iter_ = 0
        self.t_ = 0
        self.__dict__.pop("_monitor", None)
        if self.solver != "lbfgs":
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        self._sync_attributes()

    def _network_dtype(self, X, first_pass: bool):
        """The float dtype to train in: the network's, ``dtype=``, or the input's (float32 kept)."""
        if not first_pass:
            return self.model_[0].weight.dtype
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)

    # ------------------------------------------------------------------- loss
    def _data_loss(self, logits, targets, weights, weight_sum):
        """The weighted data term of J as a Tensor (see the module docstring)."""
        kind = self.out_activation_
        if kind == "softmax":
            if weights is None:
                return F.cross_entropy(logits, targets)
            return (F.cross_entropy(logits, targets, reduction="none") * weights).sum() / weight_sum
        if kind == "logistic":
            w = None if weights is None else weights.reshape(-1, 1)
            return (
                F.binary_cross_entropy_with_logits(logits, targets, weight=w, reduction="sum")
                / weight_sum
            )
        if kind == "exp":  # half Poisson deviance with a log link, up to a constant: e^z − y z
            deviance = logits.exp() - logits * Tensor(targets)
            if weights is not None:
                deviance = deviance * weights.reshape(-1, 1)
            return deviance.sum() / weight_sum
        squared = F.mse_loss(logits, targets, reduction="none")
        if weights is not None:
            squared = squared * weights.reshape(-1, 1)
        return squared.sum() * (0.5 / weight_sum)

    def _loss_constant(self, targets, weights, weight_sum) -> float:
        """The part of scikit-learn's reported loss with no gradient (Poisson: y log y − y)."""
        if self.out_activation_ != "exp":
            return 0.0
        from ..backend import xlogy

        T = np.asarray(targets, dtype=np.float64)
        term = (xlogy(T, T) - T).sum(axis=1)
        if weights is not None:
            term = term * weights
        return float(term.sum() / weight_sum)

    def _reported_loss(self, data_loss: float, weight_sum: float) -> float:
        """scikit-learn's ``loss_``: data term (per output for regression) + (α/2) Σ‖W‖² / Σ s."""
        if self.out_activation_ == "identity":
            data_loss /= self.n_outputs_
        squares = sum(
            float(np.dot(layer.weight.data.ravel(), layer.weight.data.ravel()))
            for layer in self._linear_layers()
        )
        return data_loss + 0.5 * self.alpha * squares / weight_sum

    # --------------------------------------------------------------- training
    def _check_weights(self, sample_weight, X):
        if sample_weight is None:
            return None
        name = type(self).__name__
        try:
            return _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
            )
        except ValueError as error:
            raise ValueError(
                f"{name}: sample_weight must be non-negative with at least one "
                f"positive value and one weight per sample ({error})"
            ) from None

    def _fit(self, X, y, sample_weight=None, incremental=False):
        self._validate_hyperparameters()
        if incremental and self.early_stopping:
            raise ValueError(
                f"{type(self).__name__}: partial_fit does not support early_stopping=True"
            )
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        self._dtype = self._network_dtype(X, first_pass)
        X = X.astype(self._dtype, copy=False)
        sample_weight = self._check_weights(sample_weight, X)
        T = self._encode_targets(y)
        sample_weight = self._apply_class_weight(y, sample_weight, incremental)
        n_outputs = self._n_outputs_for(T)
        self._rng = _generator_from(self.random_state)
        if first_pass:
            self._initialize(X.shape[1], n_outputs)
        elif self.model_[0].in_features != X.shape[1] or self.n_outputs_ != n_outputs:
            raise ValueError(
                f"{type(self).__name__}: the data has {X.shape[1]} features and {n_outputs} "
                "outputs, "
                f"the fitted network {self.model_[0].in_features} and {self.n_outputs_}"
            )
        for module in self.model_:
            if isinstance(module, nn.Dropout):
                module.generator = self._rng
        self.model_.train()
        try:
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, T, sample_weight)
            else:
                self._fit_stochastic(X, y, T, sample_weight, incremental)
        finally:
            self.model_.eval()
        if not all(np.isfinite(p.data).all() for p in self.model_.parameters()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                "values and need to be preprocessed."
            )
        self._sync_attributes()
        return self

    def _batch_bounds(self, n: int, batch_size: int) -> list:
        bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
        if self.batch_norm and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            bounds[-2:] = [(bounds[-2][0], n)]  # batch statistics need two samples
        return bounds

    def _get_monitor(self) -> BestMonitor:
        """The n_iter_no_change tracker: of the validation score (early_stopping) or the loss."""
        mode = "max" if self.early_stopping else "min"
        monitor = self.__dict__.get("_monitor")
        if monitor is None or monitor.mode != mode:
            best = self.best_validation_score_ if self.early_stopping else self.best_loss_
            monitor = BestMonitor(type(self).__name__, mode, best_follows="any", strict=False)
            if best is not None:
                monitor.best = float(best)
            monitor.wait = int(getattr(self, "_no_improvement_count", 0))
            self._monitor = monitor
        monitor.min_delta = float(self.tol)
        return monitor

    def _fit_stochastic(self, X, y, T, sample_weight, incremental):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        X_val = y_val = w_val = None
        if self.early_stopping:
            X, X_val, y, y_val, T, sample_weight, w_val = self._validation_split(
                X, y, T, sample_weight
            )
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. "
                    "It is going to be clipped",
                    stacklevel=2,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        if self.batch_norm and n_samples < 2:
            raise ValueError(
                f"{type(self).__name__}: batch_norm=True needs at least 2 training samples, "
                f"received {n_samples}"
            )
        weights = np.ones(n_samples) if sample_weight is None else sample_weight
        full_batch = batch_size >= n_samples
        if full_batch and self.dropout == 0 and not self.batch_norm and not is_sparse(X):
            # one batch: J depends only on the weighted set of rows, so merge repeats exactly
            X, T, weights = _merge_duplicate_rows(X, T, weights)
            batch_size = X.shape[0]
        uniform = bool(np.all(weights == weights[0])) if weights.size else True
        data = ArrayData(X, T, "X", weights=weights.astype(self._dtype))
        data.bounds = self._batch_bounds(X.shape[0], batch_size)
        objective = _Objective(self, uniform)
        if not incremental:
            self.n_iter_ = 0  # n_iter_ counts this fit call's epochs (also with warm_start)
        epochs = _EpochBookkeeping(
            self, objective, len(data), n_samples, (X_val, y_val, w_val), incremental
        )
        callbacks = [epochs]
        health = None
        if self.diagnostics:
            from ..diagnostics import TrainingHealth

            health = TrainingHealth(every=10, verbose=bool(self.verbose))
            callbacks.append(health)
        trainer = Trainer(
            self.model_,
            self._optimizer,
            objective,
            1 if incremental else self.max_iter,
            self._rng,
            callbacks=callbacks,
        )
        run_epochs(
            trainer,
            data,
            batch_size=batch_size,
            shuffle=self.shuffle and not full_batch,
            dtype=self._dtype,
        )
        if health is not None:
            self.diagnostics_ = health.report()
        if self.early_stopping and self._best_state is not None:
            self.model_.load_state_dict(self._best_state)

    def _trigger_stopping(self, msg: str) -> bool:
        """Stop (True), or with sgd + 'adaptive' divide the learning rate by 5 (False)."""
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        lr = optim.get_lr(self._optimizer)
        if lr <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        optim.set_lr(self._optimizer, lr / 5.0)
        if self.verbose:
            print(msg + f" Setting learning rate to {lr / 5.0:f}")
        return False

    def _validation_split(self, X, y, T, sample_weight):
        stratify = y if (self._is_classifier() and self.n_outputs_ == 1 and y.ndim == 1) else None
        seed = int(self._rng.integers(2**31 - 1))
        arrays = [X, y, T] + ([sample_weight] if sample_weight is not None else [])
        parts = train_test_split(
            *arrays, random_state=seed, test_size=self.validation_fraction, stratify=stratify
        )
        X_train, X_val, y_train, y_val, T_train = parts[0], parts[1], parts[2], parts[3], parts[4]
        w_train, w_val = (parts[6], parts[7]) if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        self._best_state = None
        return X_train, X_val, y_train, y_val, T_train, w_train, w_val

    def _update_no_improvement_count(self, X_val, y_val, w_val):
        monitor = self._get_monitor()
        if self.early_stopping:
            score = self._validation_score(X_val, y_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            monitor.update(score)
            if monitor.is_new_best:
                self._best_state = {k: v.copy() for k, v in self.model_.state_dict().items()}
            self.best_validation_score_ = monitor.best
        else:
            monitor.update(self.loss_curve_[-1])
            self.best_loss_ = monitor.best
        self._no_improvement_count = monitor.wait

    def _validation_score(self, X, y, w):
        self.model_.eval()
        try:
            pred = self._predict_array(X)
        finally:
            self.model_.train()
        if np.issubdtype(np.asarray(pred).dtype, np.floating) and not np.isfinite(pred).all():
            return np.nan
        return float(self._score_function(y, pred, sample_weight=w))

    def _fit_lbfgs(self, X, T, sample_weight):
        """Full-batch L-BFGS-B (scipy) on the flattened parameters; the same objective J.

        Sparse X is densified in chunks of rows; their gradients add up to the full-batch one.
        """
        from ..backend import minimize

        params = list(self.model_.parameters())
        sizes = [p.data.size for p in params]
        offsets = np.cumsum([0] + sizes)
        w = None if sample_weight is None else sample_weight.astype(self._dtype)
        uniform = w is None or bool(np.all(w == w[0]))
        weight_sum = float(X.shape[0]) if w is None else float(w.sum(dtype=np.float64))
        linears = self._linear_layers()
        self._optimizer = None

        def data_term(backward: bool) -> float:
            if not is_sparse(X):
                loss = self._data_loss(self.model_(X), T, None if uniform else w, weight_sum)
                if backward:
                    loss.backward()
                return float(loss.data)
            total = 0.0
            ones = np.ones(X.shape[0], dtype=self._dtype) if w is None else w
            for a in range(0, X.shape[0], _CHUNK):
                rows = Tensor(X[a : a + _CHUNK].toarray(), dtype=self._dtype)
                loss = self._data_loss(
                    self.model_(rows), T[a : a + _CHUNK], ones[a : a + _CHUNK], weight_sum
                )
                if backward:
                    loss.backward()
                total += float(loss.data)
            return total

        def objective(theta):
            for p, a, b in zip(params, offsets[:-1], offsets[1:], strict=False):
                p.data[...] = theta[a:b].reshape(p.data.shape)
                p.grad = None
            value = data_term(backward=True)
            for layer in linears:
                W = layer.weight
                value += (
                    0.5 * self.alpha * float(np.dot(W.data.ravel(), W.data.ravel())) / weight_sum
                )
                W.grad += (self.alpha / weight_sum) * W.data
            grad = np.concatenate(
                [(p.grad if p.grad is not None else np.zeros_like(p.data)).ravel() for p in params]
            ).astype(np.float64)
            return value, grad

        theta0 = np.concatenate([p.data.ravel() for p in params]).astype(np.float64)
        options = {"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol}
        if self.verbose:
            options["disp"] = True
        result = minimize(objective, theta0, method="L-BFGS-B", jac=True, options=options)
        objective(result.x)
        self.n_iter_ = int(result.nit)
        if result.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}): {result.message}. Increase the number of iterations "
                "(max_iter) or scale the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        with no_grad():
            data = data_term(backward=False)
        self.loss_ = self._reported_loss(data, weight_sum) + self._loss_constant(T, w, weight_sum)
        self.t_ += X.shape[0]

    # -------------------------------------------------------------- inference
    def _logits(self, X):
        """The network's output before the output activation, in the network's dtype.

        Computed under no_grad with the network in evaluation mode (dropout off,
        batch norm with its running statistics), in chunks of rows (a sparse X
        is densified one chunk at a time).
        """
        dtype = self.model_[0].weight.dtype
        was_training = self.model_.training
        self.model_.eval()
        outputs = []
        try:
            with no_grad():
                for a in range(0, X.shape[0], _CHUNK):
                    rows = X[a : a + _CHUNK]
                    rows = rows.toarray() if is_sparse(rows) else np.asarray(rows)
                    outputs.append(
                        self.model_(Tensor(rows.astype(dtype, copy=False), dtype=dtype)).data
                    )
        finally:
            self.model_.train(was_training)
        if not outputs:
            return np.zeros((0, self.n_outputs_), dtype=dtype)
        return np.concatenate(outputs)

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, dtype=(np.float64, np.float32), accept_sparse=("csr", "csc")
        )

    def explain(self, X, method="integrated_gradients", target=None, **options):
        """Attribute each prediction to the features of X (see :mod:`chainrule.explain`).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        method : str or callable
            ``'integrated_gradients'`` (default), ``'saliency'``, ``'input_x_gradient'``,
            ``'smoothgrad'``, ``'occlusion'`` (the names of ``chainrule.explain.METHODS``),
            or a callable ``method(model, X, target=..., **options)``.
        target : label, int or None
            MLPClassifier: the class label explained (default: each sample's predicted
            class). MLPRegressor: the output index (default 0).
        **options
            Passed to the method (``steps``, ``baseline``, ``samples``, ...).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            In the network's dtype. The network reads X as given, so these are attributions
            of X's features (of the scaled ones when a scaler precedes it in a pipeline).

        Examples
        --------
        >>> import numpy as np
        >>> from chainrule.estimators import MLPRegressor
        >>> X = np.random.default_rng(0).normal(size=(50, 3))
        >>> reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=200, learning_rate_init=0.01,
        ...                    random_state=0)
        >>> reg = reg.fit(X, X[:, 0] - X[:, 2])
        >>> reg.explain(X[:2]).shape
        (2, 3)
        """
        from ..explain import attribute

        X = self._validate_X_predict(X)
        X = X.toarray() if is_sparse(X) else np.asarray(X)
        model, outputs = self._explained(X, target)
        return attribute(model, X, method, target=outputs, **options)

    # ------------------------------------------------------------- save/load
    def save(self, path) -> str:
        """Save the fitted estimator to a folder, written as one atomic unit.

        The folder holds ``model.safetensors`` and ``config.json`` (the network,
        which :func:`chainrule.io.load_model` reads alone) and ``estimator.json``
        with the hyperparameters and the fitted attributes that are not weights
        (``classes_``, ``loss_curve_``, …). No pickle: reload with :meth:`load`
        or :func:`chainrule.load`; ``chainrule.save(est, path)`` calls this
        method. The optimizer state is not saved.
        """
        from .. import io

        check_is_fitted(self)
        params = self.get_params()
        params["dtype"] = None if params["dtype"] is None else np.dtype(params["dtype"]).name
        if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
            params["random_state"] = None
        if params.get("class_weight") is not None and isinstance(params["class_weight"], dict):
            params["class_weight"] = [
                [_json_scalar(k), float(v)] for k, v in params["class_weight"].items()
            ]
        hidden = params["hidden_layer_sizes"]
        params["hidden_layer_sizes"] = [
            int(s) for s in (hidden if hasattr(hidden, "__iter__") else [hidden])
        ]
        fitted = {
            "n_features_in_": int(self.n_features_in_),
            "n_outputs_": int(self.n_outputs_),
            "n_iter_": int(self.n_iter_),
            "t_": int(self.t_),
            "loss_": float(self.loss_),
            "out_activation_": self.out_activation_,
        }
        for name in ("loss_curve_", "validation_scores_"):
            value = getattr(self, name, None)
            if value is not None:
                fitted[name] = [float(v) for v in value]
        for name in ("best_loss_", "best_validation_score_"):
            if hasattr(self, name):
                value = getattr(self, name)
                fitted[name] = None if value is None else float(value)
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(v) for v in self.feature_names_in_]
        fitted.update(self._extra_fitted_json())
        return io.save_estimator(path, self, self.model_, params=params, fitted=fitted)

    _FITTED_KINDS: ClassVar[dict[str, str]] = {
        "n_features_in_": "int",
        "n_outputs_": "int",
        "n_iter_": "int",
        "t_": "int",
        "loss_": "number",
        "out_activation_": "str",
        "loss_curve_": "number_list",
        "validation_scores_": "number_list",
        "best_loss_": "number_or_null",
        "best_validation_score_": "number_or_null",
        "feature_names_in_": "str_list",
    }
    """The fitted attributes ``estimator.json`` may hold, and their kinds.

    See :func:`chainrule.io.check_fields`.
    """
    _REQUIRED_FITTED = ("n_features_in_", "n_outputs_", "n_iter_", "t_", "loss_", "out_activation_")
    _OUT_ACTIVATIONS = ("identity", "exp")

    @classmethod
    def load(cls, path):
        """Load an estimator saved by :meth:`save`.

        Every field of ``estimator.json`` is checked against the estimator's
        parameters and fitted attributes, and the network against them; a bad
        one raises :class:`chainrule.io.ModelFileError` naming the file.
        """
        from .. import io

        params, fitted, model, file = io.read_estimator(path, cls)
        est = cls._from_saved_params(params, file)
        io.check_fields(fitted, cls._FITTED_KINDS, file, "fitted", required=cls._REQUIRED_FITTED)
        est._check_saved_network(model, fitted, file)
        est.model_ = model
        for name, value in fitted.items():
            if name in ("feature_names_in_",):
                value = np.asarray(value, dtype=object)
            setattr(est, name, value)
        est._restore_extra_fitted(fitted, file)
        est._sync_attributes()
        return est

    @classmethod
    def _from_saved_params(cls, params: dict, file):
        unknown = sorted(set(params) - set(cls._get_param_names()))
        if unknown:
            raise ModelFileError(
                f"{file}: 'params' holds {', '.join(map(repr, unknown))}, "
                f"which are not {cls.__name__} parameters"
            )
        params = dict(params)
        try:
            if params.get("dtype") is not None:
                params["dtype"] = np.dtype(params["dtype"]).type
            if isinstance(params.get("hidden_layer_sizes"), list):
                params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
            weights = params.get("class_weight")
            if isinstance(weights, list):
                if not all(
                    isinstance(pair, list)
                    and len(pair) == 2
                    and isinstance(pair[0], (str, int, float))
                    and isinstance(pair[1], (int, float))
                    for pair in weights
                ):
                    raise ValueError(
                        f"class_weight must be [class, weight] pairs, received {weights!r}"
                    )
                params["class_weight"] = {k: v for k, v in weights}
            elif not (weights is None or weights == "balanced"):
                raise ValueError(
                    f"class_weight must be null, 'balanced' or pairs, received {weights!r}"
                )
            est = cls(**params)
            est._validate_hyperparameters()
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{file}: invalid {cls.__name__} parameters: {error}") from None
        return est

    def _check_saved_network(self, model, fitted: dict, file) -> None:
        """The network must be the one these parameters and fitted attributes describe."""
        linears = (
            [m for m in model if isinstance(m, nn.Linear)]
            if isinstance(model, nn.Sequential)
            else []
        )
        expected = [*self._hidden_sizes, fitted["n_outputs_"]]
        if (
            not linears
            or linears[0].in_features != fitted["n_features_in_"]
            or [layer.out_features for layer in linears] != expected
        ):
            raise ModelFileError(
                f"{file}: the network does not match the estimator: expected a Sequential of "
                "Linear layers "
                f"{fitted['n_features_in_']} → {' → '.join(map(str, expected))} (n_features_in_, "
                "hidden_layer_sizes, n_outputs_)"
            )
        if fitted["out_activation_"] not in self._OUT_ACTIVATIONS:
            raise ModelFileError(
                f"{file}: 'fitted.out_activation_' must be one of {self._OUT_ACTIVATIONS}, "
                f"received {fitted['out_activation_']!r}"
            )
        names = fitted.get("feature_names_in_")
        if names is not None and len(names) != fitted["n_features_in_"]:
            raise ModelFileError(
                f"{file}: 'fitted.feature_names_in_' has {len(names)} names for "
                f"{fitted['n_features_in_']} features"
            )

    def _extra_fitted_json(self) -> dict:
        return {}

    def _restore_extra_fitted(self, fitted: dict, file) -> None:
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags


def _stochastic_solver(estimator) -> bool:
    """partial_fit exists only for 'sgd' and 'adam' (``hasattr`` is False for lbfgs, as sklearn)."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. "
            f"{estimator.solver} is not stochastic."
        )
    return True


def _json_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


@register_estimator
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, scikit-learn's ``MLPClassifier`` on chainrule.

    The parameters are scikit-learn's, with the same names and defaults (see
    ``sklearn.neural_network.MLPClassifier``), plus:

    dropout : float in [0, 1), default 0
        Dropout probability after each hidden activation (training only).
    batch_norm : bool, default False
        Insert ``BatchNorm1d`` between each hidden Linear layer and its activation.
    class_weight : dict, 'balanced' or None
        Weights per class multiplied into ``sample_weight`` (not for multilabel targets).
        'balanced' uses n_samples / (n_classes · bincount(y)).
    dtype : None (default), numpy.float32 or numpy.float64
        The precision of the network, of training and of the predictions.
        None follows the input, as scikit-learn: float32 X trains a float32
        network, any other X (float64, integers) a float64 one. Later
        ``partial_fit`` / warm-start calls cast X to the network's dtype.
    diagnostics : bool, default False
        Record training health with :class:`chainrule.diagnostics.TrainingHealth` (per-layer
        gradient norms, update ratios, dead and saturated units) and keep its report, warnings
        included, in ``diagnostics_`` (solvers 'sgd' and 'adam'; the warnings are printed when
        ``verbose``).

    Sparse X (SciPy CSR or CSC) is accepted; it is densified one mini-batch
    (or, for predictions and L-BFGS, one chunk of rows) at a time, never whole.
    ``coefs_`` and ``intercepts_`` are views of the network's parameters:
    writing into them (or assigning new lists of the same shapes) changes
    the predictions. ``partial_fit`` exists only for the 'sgd' and 'adam'
    solvers. ``sample_weight`` must be non-negative with a positive sum; a
    ``class_weight`` dict may only name labels of y.

    Objective (per mini-batch, s the sample weights): the weighted mean of
    the cross-entropy of softmax outputs (multiclass) or the summed logistic
    losses of sigmoid outputs (binary, multilabel), plus (α/2) Σ‖W‖² / Σ s.

    Fitted attributes are scikit-learn's: ``classes_``, ``coefs_`` (each
    (n_in, n_out)), ``intercepts_``, ``loss_``, ``best_loss_``,
    ``loss_curve_``, ``validation_scores_``, ``best_validation_score_``,
    ``n_iter_``, ``t_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``,
    ``n_features_in_`` and ``feature_names_in_``; ``model_`` is the
    :class:`chainrule.nn.Sequential` network (outputs logits).

    With full-batch training (the batch holds every sample, e.g. fewer than
    200 samples and ``batch_size='auto'``), dropout 0 and no batch norm,
    identical rows are merged into one whose weight is the sum, in a
    canonical order: the fit then depends only on the weighted data, so an
    integer ``sample_weight`` is exactly equivalent to repeating rows.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from chainrule.estimators import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> clf = MLPClassifier((32,), learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> clf.n_iter_ < clf.max_iter                                  # converged
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        batch_norm=False,
        class_weight=None,
        dtype=None,
        diagnostics=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            batch_norm=batch_norm,
            dtype=dtype,
            diagnostics=diagnostics,
        )
        self.class_weight = class_weight

    _score_function = staticmethod(accuracy_score)

    def _is_classifier(self) -> bool:
        return True

    def _out_activation(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
            accept_sparse=("csr", "csc"),
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        "previous "
                        f"call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, y

    def _encode_targets(self, y):
        """Integer class indices (softmax) or a float indicator matrix (logistic outputs)."""
        Y = self._label_binarizer.transform(y)
        if self._label_binarizer.y_type_ == "multiclass":
            return Y.argmax(axis=1).astype(np.int64)
        return np.asarray(Y, dtype=self._dtype)

    def _n_outputs_for(self, T):
        if self._label_binarizer.y_type_ == "multiclass":
            return len(self.classes_)
        return T.shape[1]

    def _apply_class_weight(self, y, sample_weight, incremental):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("MLPClassifier: class_weight is not supported for multilabel targets")
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ValueError(
                    f"MLPClassifier: class_weight must be 'balanced', a dict or None, "
                    f"received {self.class_weight!r}"
                )
            if incremental:
                raise ValueError(
                    "MLPClassifier: class_weight='balanced' is not supported for partial_fit; "
                    "pass a dict computed from the whole data set"
                )
            present = np.unique(y)
            weights = compute_class_weight("balanced", classes=present, y=y)
            per_class = dict(zip(present.tolist(), weights, strict=False))
        elif isinstance(self.class_weight, dict):
            per_class = self.class_weight
            unknown = [key for key in per_class if key not in set(self.classes_.tolist())]
            if unknown:
                raise ValueError(
                    f"MLPClassifier: class_weight has keys {unknown} that are not among "
                    f"the labels {self.classes_.tolist()}; use the labels of y as keys"
                )
        else:
            raise TypeError(
                f"MLPClassifier: class_weight must be 'balanced', a dict or None, "
                f"received {self.class_weight!r}"
            )
        factors = np.array([per_class.get(label, 1.0) for label in y.tolist()], dtype=np.float64)
        return factors if sample_weight is None else sample_weight * factors

    def _predict_array(self, X):
        proba = self._proba_from_logits(self._logits(X))
        if self.n_outputs_ == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def _proba_from_logits(self, logits):
        z = logits
        if self.out_activation_ == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0, e) / (1.0 + e)

    def fit(self, X, y, sample_weight=None):
        """Fit the network to X (n_samples, n_features) and labels y (n_samples,) or indicators.

        Returns self.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), keeping the network and optimizer state between calls.

        ``classes`` (every label that will ever appear) is required on the first call,
        except for a multilabel indicator y.
        """
        self._validate_hyperparameters()
        first = getattr(self, "classes_", None) is None or not hasattr(self, "model_")
        if classes is None and first:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if (
            classes is not None
            and not first
            and not np.array_equal(self.classes_, unique_labels(classes))
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                f"was: {self.classes_!r}"
            )
        if first:
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _explained(self, X, target):
        """The network :meth:`explain` attributes and each sample's output index: the column of
        its class (binary: the one logit z read as the two logits (−z, z), so each class is
        explained by its own log-odds); for a multilabel fit, ``target`` is the label's index."""
        from ..explain import TwoClassLogits

        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self.model_, target
        classes = self.classes_.tolist()
        if target is None:
            outputs = np.searchsorted(self.classes_, self._predict_array(X))
        elif target in classes:
            outputs = classes.index(target)
        else:
            raise ValueError(f"MLPClassifier.explain: target {target!r} is not one of the "
                             f"classes {classes}; pass a class label, or None for the predicted "
                             "one")
        return (TwoClassLogits(self.model_) if self.n_outputs_ == 1 else self.model_), outputs

    def predict(self, X):
        """Class labels (n_samples,), or the indicator matrix for a multilabel fit."""
        X = self._validate_X_predict(X)
        return self._predict_array(X)

    def predict_proba(self, X):
        """Probabilities (n_samples, n_classes) in the order of ``classes_`` (float64).

        Binary: [1 − p, p]; multilabel: one independent probability per label.
        """
        X = self._validate_X_predict(X)
        proba = self._proba_from_logits(self._logits(X))
        if self.n_outputs_ == 1:
            p = proba.ravel()
            return np.vstack([1 - p, p]).T
        return proba

    def predict_log_proba(self, X):
        """log of :meth:`predict_proba`, computed stably from the logits."""
        X = self._validate_X_predict(X)
        z = self._logits(X)
        if self.out_activation_ == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        log_sigmoid_pos = -(np.log1p(np.exp(-np.abs(z))) + np.maximum(-z, 0))  # log σ(z)
        log_sigmoid_neg = log_sigmoid_pos - z  # log σ(−z) = log σ(z) − z
        if self.n_outputs_ == 1:
            return np.hstack([log_sigmoid_neg, log_sigmoid_pos])
        return log_sigmoid_pos

    def _extra_fitted_json(self) -> dict:
        classes = np.asarray(self.classes_)
        return {
            "classes_": [_json_scalar(c) for c in classes.tolist()],
            "classes_dtype": classes.dtype.str if classes.dtype.kind != "O" else "object",
            "y_type_": self._label_binarizer.y_type_,
        }

    _FITTED_KINDS: ClassVar[dict[str, str]] = {
        **_BaseMLP._FITTED_KINDS,
        "classes_": "scalar_list",
        "classes_dtype": "str",
        "y_type_": "str",
    }
    _REQUIRED_FITTED = (*_BaseMLP._REQUIRED_FITTED, "classes_", "classes_dtype", "y_type_")
    _OUT_ACTIVATIONS = ("softmax", "logistic")

    def _restore_extra_fitted(self, fitted: dict, file) -> None:
        classes, y_type, outputs = fitted["classes_"], fitted["y_type_"], fitted["n_outputs_"]
        expected_outputs = {
            "binary": 1,
            "multiclass": len(classes),
            "multilabel-indicator": len(classes),
        }
        if (
            y_type not in expected_outputs
            or (y_type == "binary") != (len(classes) == 2)
            or (outputs != expected_outputs[y_type])
        ):
            raise ModelFileError(
                f"{file}: 'fitted' holds {len(classes)} classes of type {y_type!r} for "
                f"{outputs} outputs; they do not fit together"
            )
        if fitted["out_activation_"] != ("softmax" if y_type == "multiclass" else "logistic"):
            raise ModelFileError(
                f"{file}: 'fitted.out_activation_' {fitted['out_activation_']!r} does not "
                f"fit targets of type {y_type!r}"
            )
        try:
            dtype = (
                object if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
            )
            if dtype is not object and (dtype.kind not in "biufUS" or dtype.itemsize > 4096):
                raise ValueError(
                    f"expected a numeric or string dtype, received {fitted['classes_dtype']!r}"
                )
            self.classes_ = np.asarray(classes, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ModelFileError(
                f"{file}: invalid 'fitted.classes_dtype' or 'fitted.classes_': {error}"
            ) from None
        del self.classes_dtype, self.y_type_
        lb = LabelBinarizer()
        if y_type == "multilabel-indicator":
            k = len(self.classes_)
            lb.fit(np.vstack([np.eye(k, dtype=int), np.zeros((1, k), dtype=int)]))
        else:
            lb.fit(self.classes_)
        self._label_binarizer = lb

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


@register_estimator
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, scikit-learn's ``MLPRegressor`` on chainrule.

    The parameters are scikit-learn's with the same names and defaults (see
    ``sklearn.neural_network.MLPRegressor``), plus ``dropout``, ``batch_norm``
    and ``dtype`` as in :class:`MLPClassifier` (the dtype, sparse-input and
    ``coefs_`` notes there hold here too). Multi-output y (n_samples,
    n_outputs) is supported.

    loss : {'squared_error', 'poisson'}, default 'squared_error'
        'squared_error': a linear ('identity') output and the objective per
        mini-batch ½ Σ_i s_i ‖y_i − f(x_i)‖² / Σ s + (α/2) Σ‖W‖² / Σ s;
        ``loss_`` divides the data term by the number of outputs, as
        scikit-learn's ``squared_loss``. 'poisson' (y ≥ 0): an exponential
        output (``out_activation_ = 'exp'``, a log link) and half the Poisson
        deviance, Σ_i s_i Σ_o (e^z − y z) / Σ s plus the constant y log y − y
        in ``loss_``, as scikit-learn 1.7.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.estimators import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    >>> reg.fit(X, X.ravel()).predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        batch_norm=False,
        dtype=None,
        diagnostics=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            batch_norm=batch_norm,
            dtype=dtype,
            diagnostics=diagnostics,
        )
        self.loss = loss

    _score_function = staticmethod(r2_score)

    def _validate_hyperparameters(self) -> None:
        super()._validate_hyperparameters()
        check_choice("MLPRegressor", "loss", self.loss, ("squared_error", "poisson"))

    def _is_classifier(self) -> bool:
        return False

    def _out_activation(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
            accept_sparse=("csr", "csc"),
        )
        if self.loss == "poisson" and np.min(y) < 0:
            raise ValueError(
                f"MLPRegressor: loss='poisson' needs targets y >= 0, received a minimum "
                f"of {np.min(y)}; use loss='squared_error' for signed targets"
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _encode_targets(self, y):
        return np.asarray(y, dtype=self._dtype).reshape(y.shape[0], -1)

    def _n_outputs_for(self, T):
        return T.shape[1]

    def _apply_class_weight(self, y, sample_weight, incremental):
        return sample_weight

    def _predict_array(self, X):
        out = self._logits(X)
        if self.out_activation_ == "exp":
            out = np.exp(out)
        return out.ravel() if out.shape[1] == 1 else out

    def fit(self, X, y, sample_weight=None):
        """Fit the network to X (n_samples, n_features) and targets y (n_samples[, n_outputs])."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), keeping the network and optimizer state between calls."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _explained(self, X, target):
        """The network :meth:`explain` attributes and the output index (default 0)."""
        return self.model_, 0 if target is None else target

    def predict(self, X):
        """Predictions (n_samples,) or (n_samples, n_outputs), float64."""
        X = self._validate_X_predict(X)
        return self._predict_array(X)
