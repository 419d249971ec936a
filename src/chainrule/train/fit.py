"""The training entry points: :func:`fit`, and :func:`evaluate` / :func:`predict` for inference.

One epoch of :func:`fit` is the three steps of DESIGN.md for every batch::

    optimizer.zero_grad(); loss(model(x), y).backward(); optimizer.step()

done by :func:`chainrule.train.step.train_step` inside the loop of
:mod:`chainrule.train.loop`, followed by validation and the callbacks. All
the loop's randomness (the shuffling order) comes from one ``generator``;
layers such as Dropout draw from the library's default generator or their own.
Every one of these generators is saved in checkpoints and restored by
``resume_from``, so a run resumed at an epoch boundary produces bit-identical
weights to an uninterrupted one.
"""

from __future__ import annotations

from .._validation import check_int, check_real
from ..autograd import no_grad
from ..backend import xp
from ..data.adapters import ArrayData, LoaderData, StreamData, as_array, as_data
from ..rng import get_generator
from ..tensor import Tensor
from .history import History
from .loop import Trainer, evaluate_batches, input_tensor, model_dtype, run_epochs
from .losses import LOSSES, get_loss
from .metrics import get_metric

__all__ = ["LOSSES", "Trainer", "evaluate", "fit", "get_loss", "predict"]


def _check_positive_int(owner, name, value):
    return check_int(owner, name, value, low=1)


def fit(model, train_data, *, loss, optimizer, epochs: int, batch_size: int = 32,
        validation_data=None, validation_split: float = 0.0, callbacks=(), metrics=(),
        progress: bool = True, shuffle: bool = True, generator=None, resume_from=None,
        verbose: int = 1, clip_grad_norm: float | None = None, strategy=None,
        steps_per_epoch: int | None = None, detect_anomaly: bool = False) -> History:
    """Train ``model`` by mini-batch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : chainrule.nn.Module
    train_data : (X, y) tuple of arrays/Tensors, Dataset, DataLoader or a stream
        X is (N, ...) inputs, y is (N,) class labels or (N, ...) targets. A stream is any
        iterator (a generator, say) of ``(x, y)`` batches, possibly endless: online learning.
    loss : str or callable
        ``loss(pred, target) -> scalar Tensor`` or a name: 'cross_entropy',
        'mse', 'mae', 'bce_with_logits', 'nll' (see :data:`LOSSES`).
    optimizer : chainrule.optim.Optimizer
    epochs : int
        Total number of epochs (a resumed run continues up to this number).
    batch_size : int
        Ignored for a DataLoader, which batches itself.
    validation_data : (X, y), Dataset or DataLoader, optional
        Evaluated after each epoch; its results are logged as ``val_<name>``.
    validation_split : float
        Instead of ``validation_data``: hold out this last fraction of the
        training samples (taken before shuffling).
    callbacks : sequence of Callback
    metrics : sequence of str or callable
        Names from :data:`chainrule.train.metrics.METRICS` ('accuracy',
        'top5', 'mse', 'mae', 'r2') or ``fn(pred, target) -> float``,
        computed on the whole epoch's outputs.
    progress : bool
        Show a tqdm progress bar (loss, metrics, ETA) when tqdm is installed
        and stdout and stderr are terminals.
    shuffle : bool
        Reshuffle the training samples every epoch.
    generator : numpy.random.Generator or int, optional
        Source of the shuffling order (default: the library generator).
    resume_from : path, optional
        A checkpoint written by :class:`ModelCheckpoint` or
        :func:`chainrule.io.save_checkpoint`: weights, optimizer, generators,
        history and callback states are restored and training continues at
        the saved epoch.
    verbose : int
        0: silent; 1: one summary line per epoch.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value before each step.
    strategy : Strategy, optional
        How training spreads over processes (default :class:`SingleProcess`);
        see ``docs/design.md``.
    detect_anomaly : bool
        Check every op of every step for NaN and inf (slower): the first one ends training
        with an :class:`~chainrule.autograd.AnomalyError` naming the module (``model.3
        (Linear)``), the op, forward or backward, the epoch and the batch; with a
        :class:`TerminateOnNaN` callback, training stops and the callback reports it instead.
    steps_per_epoch : int, optional
        For a stream: the number of batches that make an epoch (required for an endless
        stream; without it, one epoch reads the stream to its end). Training stops early
        when the stream ends.

    Returns
    -------
    History
        ``history.history["loss"]``, ``["val_loss"]``, metrics, ``["lr"]``,
        ``["epoch_time"]``, one entry per epoch. The model is left in eval mode.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> from chainrule.train import fit, EarlyStopping
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
    >>> model = nn.Sequential(nn.Linear(4, 16, generator=rng), nn.ReLU(),
    ...                       nn.Linear(16, 2, generator=rng))
    >>> history = fit(model, (X, y), loss="cross_entropy",
    ...               optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=5,
    ...               validation_split=0.2, metrics=["accuracy"], generator=0, verbose=0,
    ...               callbacks=[EarlyStopping(patience=2)])
    >>> len(history.history["val_accuracy"]), history.history["val_accuracy"][-1] > 0.8
    (5, True)
    """
    _check_positive_int("fit", "epochs", epochs)
    _check_positive_int("fit", "batch_size", batch_size)
    check_real("fit", "validation_split", validation_split, low=0.0, high=1.0, high_open=True)
    if clip_grad_norm is not None:
        check_real("fit", "clip_grad_norm", clip_grad_norm, low=0.0, low_open=True)
    if validation_split and validation_data is not None:
        raise ValueError("fit: give validation_data or validation_split, not both")
    loss_fn = get_loss(loss)
    metric_fns = [get_metric(m) for m in metrics]
    generator = get_generator(generator)

    train = as_data(train_data, "train_data")
    if steps_per_epoch is not None:
        _check_positive_int("fit", "steps_per_epoch", steps_per_epoch)
        if not isinstance(train, StreamData):
            raise ValueError("fit: steps_per_epoch applies to a stream (an iterator of batches); "
                             f"train_data is a {type(train_data).__name__}")
        train.steps_per_epoch = steps_per_epoch
    validation = None if validation_data is None else as_data(validation_data, "validation_data")
    if validation_split:
        train, validation = train.split(validation_split)
    data_generator = None
    if isinstance(train, LoaderData):
        found = getattr(train.loader, "generator", None)
        data_generator = found if isinstance(found, xp.random.Generator) else None

    trainer = Trainer(model, optimizer, loss_fn, epochs, generator, History(), callbacks,
                      data_generator, strategy)
    trainer.detect_anomaly = bool(detect_anomaly)
    if resume_from is not None:
        trainer.restore(resume_from)
    history = run_epochs(trainer, train, validation, batch_size=batch_size, shuffle=shuffle,
                         metrics=metric_fns, clip_grad_norm=clip_grad_norm, verbose=verbose,
                         progress=progress)
    model.eval()
    return history


def evaluate(model, data, *, loss=None, metrics=(), batch_size: int = 256,
             strategy=None) -> dict:
    """Loss and metrics of ``model`` on ``data``, computed under no_grad in eval mode.

    Parameters
    ----------
    data : (X, y) tuple, Dataset or DataLoader
    loss : str or callable, optional
    metrics : sequence of str or callable
    strategy : Strategy, optional
        With ``DataParallel`` each process evaluates its shard of every batch
        and every process gets the exact figures of the whole data.

    Returns
    -------
    dict
        ``{"loss": ..., "<metric>": ...}``. The model's train/eval mode is restored.
    """
    _check_positive_int("evaluate", "batch_size", batch_size)
    loss_fn = None if loss is None else get_loss(loss)
    metric_fns = [get_metric(m) for m in metrics]
    return evaluate_batches(model, as_data(data, "data"), loss_fn, metric_fns, batch_size,
                            model_dtype(model), strategy)


def predict(model, X, *, batch_size: int = 256):
    """The model's outputs for inputs ``X`` (N, ...), as an ndarray, under no_grad in eval mode.

    ``X`` may be an array, a Tensor, a Dataset or a DataLoader (whose targets are ignored).
    """
    _check_positive_int("predict", "batch_size", batch_size)
    if isinstance(X, (Tensor, xp.ndarray, list)):
        X = as_array(X, "X")
        data = ArrayData(X, xp.zeros(X.shape[0]), "X")
    else:
        data = as_data(X, "X")
    dtype = model_dtype(model)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with no_grad():
            for xb, _ in data.batches(batch_size):
                outputs.append(xp.array(model(input_tensor(xp.asarray(xb), dtype)).data))
    finally:
        model.train(was_training)
    return xp.concatenate(outputs)
