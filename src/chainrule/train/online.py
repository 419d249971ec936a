"""Online learning: prequential ("test-then-train") evaluation of a model on a stream.

On a stream of batches (x_t, y_t), the progressive (prequential) score (Dawid 1984; river's
``progressive_val_score``) first uses the model to predict y_t from x_t, then learns from
(x_t, y_t). Every sample is scored by a model that has not seen it, so no test split is
needed and the score follows the model as it adapts. With a label delay d, the label of batch t
arrives d batches later: the model learns from (x_{t−d}, y_{t−d}) after predicting x_t.

Examples
--------
>>> import numpy as np
>>> from chainrule import nn, optim
>>> from chainrule.train import progressive_score
>>> rng = np.random.default_rng(0)
>>> stream = [(x, (x[:, 0] > 0).astype(np.int64))
...           for x in rng.normal(size=(50, 16, 2)).astype(np.float32)]
>>> model = nn.Linear(2, 2, generator=0)
>>> score = progressive_score(model, stream, "accuracy", loss="cross_entropy",
...                           optimizer=optim.SGD(model.parameters(), lr=0.5))
>>> bool(score > 0.8)
True
"""

from __future__ import annotations

import itertools
from collections import deque

from .._validation import check_int
from ..autograd import no_grad
from ..backend import xp
from ..tensor import Tensor
from .metrics import get_metric

__all__ = ["progressive_score"]


def _is_estimator(model) -> bool:
    return callable(getattr(model, "partial_fit", None)) and callable(
        getattr(model, "predict", None)
    )


def _batch(item, index):
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise TypeError(
            f"progressive_score: stream item {index} must be an (x, y) pair of "
            f"arrays, received {type(item).__name__}"
        )
    x, y = (v.data if isinstance(v, Tensor) else xp.asarray(v) for v in item)
    if len(x) != len(y):
        raise ValueError(
            f"progressive_score: stream item {index} has {len(x)} inputs but {len(y)} targets"
        )
    return x, y


def _estimator_scores(model, x):
    """(scores, fitted): class probabilities for a classifier, predictions for a regressor."""
    classes = getattr(model, "classes_", None)
    if classes is None and not hasattr(model, "n_iter_"):
        return None
    if classes is not None and callable(getattr(model, "predict_proba", None)):
        return model.predict_proba(x)
    return model.predict(x)


def _estimator_target(model, y):
    classes = getattr(model, "classes_", None)
    if classes is None:
        return y
    return xp.searchsorted(xp.asarray(classes), y)


def progressive_score(
    model,
    stream,
    metric="accuracy",
    *,
    loss=None,
    optimizer=None,
    delay: int = 0,
    classes=None,
    max_batches: int | None = None,
    history: list | None = None,
) -> float:
    """Test-then-train score of ``model`` on ``stream``, learning from each batch after scoring it.

    Parameters
    ----------
    model : chainrule.nn.Module or an estimator with ``partial_fit``
        A module learns with one :func:`chainrule.train.train_step` per batch (``loss`` and
        ``optimizer`` are required); an estimator (:class:`chainrule.estimators.MLPClassifier`,
        or any scikit-learn one with ``partial_fit``) with ``partial_fit``.
    stream : iterable of (x, y) batches
        May be endless when ``max_batches`` is given.
    metric : str or callable
        A name from :data:`chainrule.train.metrics.METRICS` or ``fn(pred, target) -> float``,
        computed once over every scored sample.
    delay : int
        Label delay in batches (0: the label comes right after the prediction).
    classes : array-like, optional
        All class labels, passed to an estimator's first ``partial_fit``.
    max_batches : int, optional
        Stop after this many batches.
    history : list, optional
        If given, receives the running score after each scored batch.

    Returns
    -------
    float
        The metric over all predictions made before their labels were learnt. An estimator
        that has not learnt anything yet cannot predict, so the first batches until its first
        ``partial_fit`` are not scored.
    """
    check_int("progressive_score", "delay", delay, low=0)
    if max_batches is not None:
        check_int("progressive_score", "max_batches", max_batches, low=1)
    _, metric_fn = get_metric(metric)
    estimator = _is_estimator(model)
    if not estimator:
        if loss is None or optimizer is None:
            raise ValueError(
                "progressive_score: a module needs loss= and optimizer= to learn from the stream"
            )
        from .losses import get_loss
        from .step import train_step

        loss_fn = get_loss(loss)
        dtype = next(iter(model.parameters())).dtype
    predictions, targets = [], []
    pending: deque = deque()
    fitted_once = False
    items = stream if max_batches is None else itertools.islice(stream, max_batches)

    def learn(x, y):
        nonlocal fitted_once
        if estimator:
            if not fitted_once and classes is not None:
                model.partial_fit(x, y, classes=classes)
            else:
                model.partial_fit(x, y)
        else:
            train_step(model, Tensor(x, dtype=dtype), y, loss=loss_fn, optimizer=optimizer)
        fitted_once = True

    for index, item in enumerate(items):
        x, y = _batch(item, index)
        if estimator:
            scores = _estimator_scores(model, x) if fitted_once else None
            target = _estimator_target(model, y) if scores is not None else None
        else:
            was_training = model.training
            model.eval()
            with no_grad():
                scores = model(Tensor(x, dtype=dtype)).data
            model.train(was_training)
            target = y
        if scores is not None:
            predictions.append(xp.asarray(scores))
            targets.append(xp.asarray(target))
            if history is not None:
                history.append(
                    float(metric_fn(xp.concatenate(predictions), xp.concatenate(targets)))
                )
        pending.append((x, y))
        if len(pending) > delay:
            learn(*pending.popleft())
    if not predictions:
        raise ValueError("progressive_score: the stream gave no batch that could be scored")
    return float(metric_fn(xp.concatenate(predictions), xp.concatenate(targets)))
