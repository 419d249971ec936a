"""Metrics computed on whole arrays of predictions and targets.

Each metric is a plain function ``metric(pred, target) -> float`` on ndarrays
(the model's raw outputs and the true targets), so it can be checked against
scikit-learn or a few lines of NumPy. :func:`get_metric` turns a name or a
callable into a ``(name, function)`` pair for :func:`chainrule.train.fit`.

Classification metrics accept logits (or probabilities) of shape (N, C) and
integer labels of shape (N,) (or one-hot targets of shape (N, C)). A single
output column (N,) or (N, 1) is read as a binary logit: class 1 when > 0.
"""

from __future__ import annotations

from collections.abc import Callable

from ..backend import errstate, xp
from ..tensor import Tensor

__all__ = [
    "METRICS",
    "accuracy",
    "get_metric",
    "mean_absolute_error",
    "mean_squared_error",
    "predicted_classes",
    "r2_score",
    "top_k_accuracy",
]


def _array(x):
    return x.data if isinstance(x, Tensor) else xp.asarray(x)


def _labels(target, n):
    """Integer labels from (N,) labels or (N, C) one-hot/probability targets."""
    target = _array(target)
    if target.ndim == 2 and target.shape[1] > 1:
        target = target.argmax(axis=1)
    target = target.reshape(-1)
    if target.shape[0] != n:
        raise ValueError(
            f"metric: expected {n} targets to match the predictions, received {target.shape[0]}"
        )
    return target


def predicted_classes(pred):
    """Class labels from model outputs: argmax over axis 1, or logit > 0 for one output."""
    pred = _array(pred)
    if pred.ndim >= 2 and pred.shape[1] > 1:
        return pred.argmax(axis=1)
    return (pred.reshape(pred.shape[0]) > 0).astype(xp.int64)


def accuracy(pred, target) -> float:
    """Fraction of samples whose predicted class equals the target class.

    ``pred`` is (N, C) scores (argmax is the prediction) or (N,)/(N, 1)
    binary logits (class 1 when > 0); ``target`` is (N,) labels or (N, C) one-hot.
    """
    classes = predicted_classes(pred)
    labels = _labels(target, classes.shape[0])
    if classes.shape[0] == 0:
        return float("nan")
    return float((classes == labels.astype(classes.dtype)).mean())


def top_k_accuracy(pred, target, k: int = 5) -> float:
    """Fraction of samples whose target class is among the ``k`` top scores of (N, C) ``pred``."""
    pred = _array(pred)
    if pred.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected pred of shape (N, C), received {pred.shape}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive int, received {k!r}")
    labels = _labels(target, pred.shape[0])
    k = min(k, pred.shape[1])
    top = xp.argpartition(-pred, k - 1, axis=1)[:, :k]
    return float((top == labels.reshape(-1, 1)).any(axis=1).mean())


def _regression_pair(pred, target, name):
    pred, target = _array(pred).astype(xp.float64), _array(target).astype(xp.float64)
    if pred.size != target.size:
        raise ValueError(
            f"{name}: pred and target must have the same size, received {pred.shape} and "
            f"{target.shape}"
        )
    return pred.reshape(target.shape) if pred.shape != target.shape else pred, target


def mean_squared_error(pred, target) -> float:
    """mean((pred − target)²) over every element."""
    pred, target = _regression_pair(pred, target, "mse")
    return float(((pred - target) ** 2).mean())


def mean_absolute_error(pred, target) -> float:
    """mean(|pred − target|) over every element."""
    pred, target = _regression_pair(pred, target, "mae")
    return float(xp.abs(pred - target).mean())


def r2_score(pred, target) -> float:
    """Coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², averaged over outputs.

    Matches ``sklearn.metrics.r2_score(target, pred)`` (uniform average over
    columns for 2-D targets).
    """
    pred, target = _regression_pair(pred, target, "r2")
    if target.ndim == 1:
        pred, target = pred.reshape(-1, 1), target.reshape(-1, 1)
    else:
        pred, target = pred.reshape(target.shape[0], -1), target.reshape(target.shape[0], -1)
    residual = ((target - pred) ** 2).sum(axis=0)
    total = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    with errstate(divide="ignore", invalid="ignore"):
        scores = xp.where(total > 0, 1.0 - residual / xp.where(total > 0, total, 1.0),
                          xp.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())


def _top5(pred, target):
    return top_k_accuracy(pred, target, k=5)


METRICS: dict[str, Callable] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "top5": _top5,
    "top_5_accuracy": _top5,
    "top_k_accuracy": _top5,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "r2": r2_score,
    "r2_score": r2_score,
}
"""Metric names accepted by :func:`get_metric` (aliases map to the same function)."""

_CANONICAL = {"acc": "accuracy", "top_5_accuracy": "top5", "top_k_accuracy": "top5",
              "mean_squared_error": "mse", "mean_absolute_error": "mae", "r2_score": "r2"}


def get_metric(metric) -> tuple[str, Callable]:
    """Resolve a metric name or callable into ``(name, fn)``.

    Parameters
    ----------
    metric : str or callable
        One of :data:`METRICS` (``'accuracy'``, ``'top5'``, ``'mse'``, ``'mae'``,
        ``'r2'``, ...) or a function ``fn(pred, target) -> float``; a function's
        name is its ``__name__``.
    """
    if isinstance(metric, str):
        key = metric.lower()
        if key not in METRICS:
            raise ValueError(
                f"metrics: unknown metric {metric!r}; expected one of "
                f"{sorted({_CANONICAL.get(k, k) for k in METRICS})} "
                "or a callable fn(pred, target) -> float"
            )
        return _CANONICAL.get(key, key), METRICS[key]
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise TypeError(
        f"metrics: expected a metric name or a callable, received {type(metric).__name__}"
    )
