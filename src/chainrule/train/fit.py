"""The training loop: :func:`fit`, and :func:`evaluate` / :func:`predict` for inference.

One epoch of :func:`fit` is the three steps of DESIGN.md for every batch::

    optimizer.zero_grad(); loss(model(x), y).backward(); optimizer.step()

followed by validation and the callbacks. All the loop's randomness (the
shuffling order) comes from one ``generator``; layers such as Dropout draw
from the library's default generator or their own. Every one of these
generators is saved in checkpoints and restored by ``resume_from``, so a run
resumed at an epoch boundary produces bit-identical weights to an
uninterrupted one.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

from .. import functional as F
from ..autograd import no_grad
from ..backend import is_float_dtype, to_numpy, xp
from ..data.preprocessing import check_finite
from ..rng import default_generator, get_generator
from ..tensor import Tensor
from .callbacks import CallbackList, get_lr
from .history import History
from .metrics import get_metric

__all__ = ["LOSSES", "Trainer", "evaluate", "fit", "get_loss", "predict"]


# ------------------------------------------------------------------ losses
def _classification_target(pred, target):
    target = to_numpy(target)
    if target.ndim == pred.ndim and target.shape == pred.shape and is_float_dtype(target.dtype):
        target = target.argmax(axis=1)  # one-hot or probabilities → labels
    return target.astype(xp.int64, copy=False)


def _float_target(pred, target):
    target = to_numpy(target)
    if target.shape != pred.shape and target.size == pred.data.size:
        target = target.reshape(pred.shape)  # (N,) targets for (N, 1) outputs
    return target.astype(pred.dtype, copy=False)


def _named_loss(function, target_fn, name):
    def loss(pred, target):
        target = target.data if isinstance(target, Tensor) else target
        return function(pred, Tensor(target_fn(pred, target)))

    loss.__name__ = name
    return loss


LOSSES: dict[str, Callable] = {
    "cross_entropy": _named_loss(F.cross_entropy, _classification_target, "cross_entropy"),
    "nll": _named_loss(F.nll_loss, _classification_target, "nll"),
    "mse": _named_loss(F.mse_loss, _float_target, "mse"),
    "mae": _named_loss(F.l1_loss, _float_target, "mae"),
    "bce_with_logits": _named_loss(F.binary_cross_entropy_with_logits, _float_target, "bce_with_logits"),
}
"""Loss names for :func:`get_loss`; targets are adapted (labels to int64, (N,) to (N, 1))."""

_LOSS_ALIASES = {
    "ce": "cross_entropy", "crossentropy": "cross_entropy", "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy", "nll_loss": "nll", "mse_loss": "mse",
    "mean_squared_error": "mse", "l1": "mae", "l1_loss": "mae", "mean_absolute_error": "mae",
    "binary_cross_entropy_with_logits": "bce_with_logits", "bce": "bce_with_logits",
    "binary_crossentropy": "bce_with_logits",
}


def get_loss(loss) -> Callable:
    """Resolve a loss name (see :data:`LOSSES`) or return a callable ``loss(pred, target)`` as is."""
    if isinstance(loss, str):
        key = _LOSS_ALIASES.get(loss.lower(), loss.lower())
        if key not in LOSSES:
            raise ValueError(
                f"loss: unknown loss {loss!r}; expected one of {sorted(LOSSES)} "
                "or a callable loss(pred, target) -> scalar Tensor"
            )
        return LOSSES[key]
    if callable(loss):
        return loss
    raise TypeError(f"loss: expected a loss name or a callable, received {type(loss).__name__}")


# -------------------------------------------------------------------- data
def _as_array(x, name):
    if isinstance(x, Tensor):
        return x.data
    array = xp.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric arrays, received dtype {array.dtype}")
    return array


def _is_loader(data) -> bool:
    return hasattr(data, "dataset") and hasattr(data, "batch_size") and hasattr(data, "__iter__")


def _is_dataset(data) -> bool:
    return hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (tuple, list))


def _stack(items):
    return xp.stack([_as_array(item, "dataset item") for item in items])


class _ArrayData:
    """Batches from in-memory arrays (X, y), shuffled by the trainer's generator."""

    def __init__(self, X, y, name):
        self.X, self.y = _as_array(X, f"{name} X"), _as_array(y, f"{name} y")
        if self.X.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"{name}: X and y must have the same number of samples, received {self.X.shape[0]} and {self.y.shape[0]}"
            )
        if self.X.shape[0] == 0:
            raise ValueError(f"{name}: expected at least one sample, received 0")
        if self.X.dtype.kind == "f":
            check_finite(self.X, f"{name} X")

    def __len__(self):
        return self.X.shape[0]

    def split(self, fraction):
        """(train, validation): the last ``fraction`` of the samples is held out (as Keras does)."""
        n_val = math.floor(len(self) * fraction)
        if n_val < 1 or n_val >= len(self):
            raise ValueError(
                f"fit: validation_split={fraction} leaves {n_val} validation and {len(self) - n_val} "
                "training samples; both need at least one"
            )
        cut = len(self) - n_val
        return _ArrayData(self.X[:cut], self.y[:cut], "train"), _ArrayData(self.X[cut:], self.y[cut:], "validation")

    def num_batches(self, batch_size):
        return -(-len(self) // batch_size)

    def batches(self, batch_size, shuffle=False, generator=None):
        order = generator.permutation(len(self)) if shuffle else None
        for start in range(0, len(self), batch_size):
            if order is None:
                yield self.X[start:start + batch_size], self.y[start:start + batch_size]
            else:
                index = order[start:start + batch_size]
                yield self.X[index], self.y[index]


class _DatasetData(_ArrayData):
    """Batches from a map-style Dataset (``dataset[i] -> (x, y)``), collated by stacking."""

    def __init__(self, dataset, indices=None):
        self.dataset = dataset
        self.indices = list(range(len(dataset))) if indices is None else list(indices)
        if not self.indices:
            raise ValueError("fit: the dataset is empty")

    def __len__(self):
        return len(self.indices)

    def split(self, fraction):
        n_val = math.floor(len(self) * fraction)
        if n_val < 1 or n_val >= len(self):
            raise ValueError(f"fit: validation_split={fraction} leaves an empty training or validation set")
        cut = len(self) - n_val
        return _DatasetData(self.dataset, self.indices[:cut]), _DatasetData(self.dataset, self.indices[cut:])

    def batches(self, batch_size, shuffle=False, generator=None):
        order = generator.permutation(len(self)) if shuffle else range(len(self))
        order = list(order)
        for start in range(0, len(order), batch_size):
            samples = [self.dataset[self.indices[i]] for i in order[start:start + batch_size]]
            yield _stack([s[0] for s in samples]), _stack([s[1] for s in samples])


class _LoaderData:
    """Batches from a DataLoader, which does its own batching and shuffling."""

    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader.dataset)

    def split(self, fraction):
        raise ValueError("fit: validation_split needs arrays or a Dataset, not a DataLoader; "
                         "pass validation_data instead")

    def num_batches(self, batch_size):
        return len(self.loader)

    def batches(self, batch_size, shuffle=False, generator=None):
        for batch in self.loader:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise ValueError("fit: a DataLoader must yield (inputs, targets) pairs")
            yield _as_array(batch[0], "batch inputs"), _as_array(batch[1], "batch targets")


def _as_data(data, name):
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{name}: expected an (X, y) pair, received a sequence of length {len(data)}")
        return _ArrayData(data[0], data[1], name)
    if _is_loader(data):
        return _LoaderData(data)
    if hasattr(data, "tensors") and len(data.tensors) == 2:  # TensorDataset
        return _ArrayData(data.tensors[0], data.tensors[1], name)
    if _is_dataset(data):
        return _DatasetData(data)
    raise TypeError(f"{name}: expected an (X, y) tuple, a Dataset or a DataLoader, received {type(data).__name__}")


def _model_dtype(model):
    for param in model.parameters():
        if is_float_dtype(param.dtype):
            return param.dtype
    return None


def _input_tensor(x, dtype):
    """Inputs as a Tensor in the model's float dtype (integer index arrays are kept as they are)."""
    needs_cast = is_float_dtype(x.dtype) or (x.dtype.kind in "bu" and x.ndim > 1)
    if dtype is not None and needs_cast and x.dtype != dtype:
        x = x.astype(dtype)
    return Tensor(x)


# ----------------------------------------------------------------- trainer
class Trainer:
    """The state one :func:`fit` call shares with its callbacks.

    Attributes
    ----------
    model, optimizer, loss, history, generator
    epochs : int
        The total number of epochs asked for.
    initial_epoch : int
        The first epoch run (nonzero when resuming).
    epochs_completed : int
    stop_training : bool
        Set it to end training after the current batch.
    """

    def __init__(self, model, optimizer, loss, epochs, generator, history, callbacks, data_generator=None):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.epochs = epochs
        self.generator = generator
        self.history = history
        self.callbacks = callbacks
        self.data_generator = data_generator
        self.initial_epoch = 0
        self.epochs_completed = 0
        self.stop_training = False

    def generators(self) -> dict:
        """Every random generator the run draws from, by a stable name."""
        found = {"fit": self.generator, "default": default_generator()}
        if self.data_generator is not None:
            found["data_loader"] = self.data_generator
        for module_name, module in self.model.named_modules():
            for attr, value in vars(module).items():
                if isinstance(value, xp.random.Generator):
                    found[f"module:{module_name}.{attr}"] = value
        return found

    def save_checkpoint(self, path) -> str:
        """Write a checkpoint of the run after ``epochs_completed`` epochs; return its path."""
        from .. import io

        return io.save_checkpoint(
            path, self.model, self.optimizer, epoch=self.epochs_completed, generators=self.generators(),
            history=self.history, callbacks=self.callbacks.state_dict(),
        )

    def restore(self, path) -> None:
        """Load a checkpoint into this run: weights, optimizer, generators, history, callbacks."""
        from .. import io

        checkpoint = io.load_checkpoint(path)
        io._load_weights(self.model, checkpoint.model_state, checkpoint.path)
        if checkpoint.optimizer_state is not None:
            saved, current = checkpoint.optimizer_type, type(self.optimizer).__name__
            if saved != current:
                raise ValueError(f"fit: resume_from holds a {saved} optimizer state, but the optimizer is a {current}")
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        generators = self.generators()
        for name, state in checkpoint.rng.items():
            if name in generators:
                io.restore_generator(generators[name], state)
        if checkpoint.history:
            restored = History.from_dict(checkpoint.history)
            self.history.history, self.history.epoch = restored.history, restored.epoch
        self.callbacks.load_state_dict(checkpoint.callbacks or {})
        self.initial_epoch = self.epochs_completed = checkpoint.epoch


# ---------------------------------------------------------------- progress
def _stream_is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _progress_bar(total, description, enabled):
    if not enabled or not (_stream_is_tty(sys.stderr) and _stream_is_tty(sys.stdout)):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, leave=False, unit="batch", dynamic_ncols=True)


def _format_logs(logs) -> str:
    parts = []
    for key, value in logs.items():
        if key == "epoch_time":
            parts.append(f"{value:.2f}s")
        elif isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
    return " ".join(parts)


# --------------------------------------------------------------------- fit
def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"fit: {name} must be a positive int, received {value!r}")


def fit(model, train_data, *, loss, optimizer, epochs: int, batch_size: int = 32,
        validation_data=None, validation_split: float = 0.0, callbacks=(), metrics=(),
        progress: bool = True, shuffle: bool = True, generator=None, resume_from=None,
        verbose: int = 1, clip_grad_norm: float | None = None) -> History:
    """Train ``model`` by mini-batch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : chainrule.nn.Module
    train_data : (X, y) tuple of arrays/Tensors, Dataset or DataLoader
        X is (N, ...) inputs, y is (N,) class labels or (N, ...) targets.
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

    Returns
    -------
    History
        ``history.history["loss"]``, ``["val_loss"]``, metrics, ``["lr"]``,
        ``["epoch_time"]``, one entry per epoch. The model is left in eval mode.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim   # doctest: +SKIP
    >>> from chainrule.train import fit, EarlyStopping
    >>> X, y = np.random.default_rng(0).normal(size=(200, 4)), np.arange(200) % 2
    >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> history = fit(model, (X, y), loss="cross_entropy", optimizer=optim.Adam(model.parameters()),
    ...               epochs=5, validation_split=0.2, metrics=["accuracy"],
    ...               callbacks=[EarlyStopping(patience=2)])
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), received {validation_split}")
    if validation_split and validation_data is not None:
        raise ValueError("fit: give validation_data or validation_split, not both")
    loss_fn = get_loss(loss)
    metric_fns = [get_metric(m) for m in metrics]
    generator = get_generator(generator)

    train = _as_data(train_data, "train_data")
    validation = None if validation_data is None else _as_data(validation_data, "validation_data")
    if validation_split:
        train, validation = train.split(validation_split)
    data_generator = None
    if isinstance(train, _LoaderData):
        found = getattr(train.loader, "generator", None)
        data_generator = found if isinstance(found, xp.random.Generator) else None

    history = History()
    callback_list = CallbackList(callbacks)
    trainer = Trainer(model, optimizer, loss_fn, epochs, generator, history, callback_list, data_generator)
    callback_list.set_trainer(trainer)
    if resume_from is not None:
        trainer.restore(resume_from)

    dtype = _model_dtype(model)
    num_batches = train.num_batches(batch_size)
    params = [p for p in model.parameters() if p.requires_grad]
    logs: dict = {}
    callback_list.on_train_begin(logs)
    for epoch in range(trainer.initial_epoch, epochs):
        if trainer.stop_training:
            break
        callback_list.on_epoch_begin(epoch, logs)
        model.train()
        lr = get_lr(optimizer)
        started = time.perf_counter()
        bar = _progress_bar(num_batches, f"Epoch {epoch + 1}/{epochs}", progress and verbose)
        total_loss, seen = 0.0, 0
        outputs, targets = [], []
        for batch, (xb, yb) in enumerate(train.batches(batch_size, shuffle, generator)):
            callback_list.on_batch_begin(batch, {"size": len(xb)})
            optimizer.zero_grad()
            pred = model(_input_tensor(xb, dtype))
            batch_loss = loss_fn(pred, Tensor(yb))
            batch_loss.backward()
            if clip_grad_norm is not None:
                from ..optim import clip_grad_norm_

                clip_grad_norm_(params, clip_grad_norm)
            optimizer.step()
            value = float(batch_loss.item())
            total_loss += value * len(xb)
            seen += len(xb)
            if metric_fns:
                outputs.append(xp.array(pred.data, copy=True))
                targets.append(yb)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
            callback_list.on_batch_end(batch, {"loss": value, "size": len(xb)})
            if trainer.stop_training:
                break
        if bar is not None:
            bar.close()
        logs = {"loss": total_loss / max(seen, 1)}
        if metric_fns and outputs:
            all_outputs, all_targets = xp.concatenate(outputs), xp.concatenate(targets)
            for name, fn in metric_fns:
                logs[name] = float(fn(all_outputs, all_targets))
        if validation is not None:
            results = _evaluate_data(model, validation, loss_fn, metric_fns, batch_size, dtype)
            logs.update({f"val_{k}": v for k, v in results.items()})
        logs["lr"] = lr
        logs["epoch_time"] = time.perf_counter() - started
        history.append(epoch, logs)
        trainer.epochs_completed = epoch + 1
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs}: {_format_logs(logs)}", flush=True)
        callback_list.on_epoch_end(epoch, logs)
    callback_list.on_train_end(logs)
    model.eval()
    return history


# ------------------------------------------------------- evaluate / predict
def _evaluate_data(model, data, loss_fn, metric_fns, batch_size, dtype):
    was_training = model.training
    model.eval()
    total_loss, seen = 0.0, 0
    outputs, targets = [], []
    try:
        with no_grad():
            for xb, yb in data.batches(batch_size):
                pred = model(_input_tensor(xb, dtype))
                if loss_fn is not None:
                    total_loss += float(loss_fn(pred, Tensor(yb)).item()) * len(xb)
                seen += len(xb)
                outputs.append(pred.data)
                targets.append(yb)
    finally:
        model.train(was_training)
    results = {}
    if loss_fn is not None:
        results["loss"] = total_loss / max(seen, 1)
    if outputs:
        all_outputs, all_targets = xp.concatenate(outputs), xp.concatenate(targets)
        for name, fn in metric_fns:
            results[name] = float(fn(all_outputs, all_targets))
    return results


def evaluate(model, data, *, loss=None, metrics=(), batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on ``data``, computed under no_grad in eval mode.

    Parameters
    ----------
    data : (X, y) tuple, Dataset or DataLoader
    loss : str or callable, optional
    metrics : sequence of str or callable

    Returns
    -------
    dict
        ``{"loss": ..., "<metric>": ...}``. The model's train/eval mode is restored.
    """
    _check_positive_int("batch_size", batch_size)
    loss_fn = None if loss is None else get_loss(loss)
    metric_fns = [get_metric(m) for m in metrics]
    return _evaluate_data(model, _as_data(data, "data"), loss_fn, metric_fns, batch_size, _model_dtype(model))


def predict(model, X, *, batch_size: int = 256):
    """The model's outputs for inputs ``X`` (N, ...), as an ndarray, under no_grad in eval mode.

    ``X`` may be an array, a Tensor, a Dataset or a DataLoader (whose targets are ignored).
    """
    _check_positive_int("batch_size", batch_size)
    if isinstance(X, (Tensor, xp.ndarray, list)):
        X = _as_array(X, "X")
        data = _ArrayData(X, xp.zeros(X.shape[0]), "X")
    else:
        data = _as_data(X, "X")
    dtype = _model_dtype(model)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with no_grad():
            for xb, _ in data.batches(batch_size):
                outputs.append(xp.array(model(_input_tensor(xb, dtype)).data))
    finally:
        model.train(was_training)
    return xp.concatenate(outputs)
