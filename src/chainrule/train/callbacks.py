"""Callbacks: small state machines that :func:`chainrule.train.fit` calls at fixed points.

A callback overrides any of the empty hooks below. ``logs`` is a dict of the
numbers measured so far (``loss``, metrics, ``val_*``, ``lr``, ``epoch_time``).
During training ``self.trainer`` is the shared :class:`~chainrule.train.fit.Trainer`
(``self.model`` and ``self.optimizer`` are shortcuts); setting
``self.stop_training = True`` ends training after the current batch.

Hooks, in order::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_batch_begin(batch, logs)   on_batch_end(batch, logs)    (per batch)
      on_epoch_end(epoch, logs)
    on_train_end(logs)
"""

from __future__ import annotations

import csv
import math
import os
import warnings

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "get_lr",
    "set_lr",
]


def get_lr(optimizer) -> float:
    """The learning rate of the optimizer's first parameter group (NaN when it has none)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return float(groups[0]["lr"])
    lr = getattr(optimizer, "lr", None)
    return float(lr) if lr is not None else math.nan


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for group in groups:
            group["lr"] = float(lr)
    elif hasattr(optimizer, "lr"):
        optimizer.lr = float(lr)
    else:
        raise TypeError(f"set_lr: {type(optimizer).__name__} has neither param_groups nor lr")


def _resolve_mode(mode: str, monitor: str, name: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{name}: mode must be 'auto', 'min' or 'max', received {mode!r}")
    if mode != "auto":
        return mode
    maximised = ("acc", "r2", "auc", "precision", "recall", "f1")
    return "max" if any(word in monitor for word in maximised) else "min"


class Callback:
    """Base class: every hook does nothing. Override the ones you need."""

    trainer = None
    run_last = False
    """Checkpoint-writing callbacks set this, so they see the epoch after every other callback."""

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    @property
    def model(self):
        return None if self.trainer is None else self.trainer.model

    @property
    def optimizer(self):
        return None if self.trainer is None else self.trainer.optimizer

    @property
    def stop_training(self) -> bool:
        return bool(self.trainer is not None and self.trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        if self.trainer is None:
            raise RuntimeError(f"{type(self).__name__}: stop_training can only be set during fit()")
        self.trainer.stop_training = bool(value)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self) -> dict:
        """JSON-able state saved in checkpoints so a resumed run continues where it stopped."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class CallbackList:
    """Calls each hook on every callback in order (``run_last`` callbacks after the rest)."""

    def __init__(self, callbacks=()):
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be Callback instances, received {type(cb).__name__}")
        self.callbacks = [cb for cb in callbacks if not cb.run_last] + [cb for cb in callbacks if cb.run_last]

    def __iter__(self):
        return iter(self.callbacks)

    def set_trainer(self, trainer):
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs)

    def keys(self):
        """Stable keys for checkpointed states: ``<index>:<ClassName>``."""
        return [f"{i}:{type(cb).__name__}" for i, cb in enumerate(self.callbacks)]

    def state_dict(self) -> dict:
        return {key: cb.state_dict() for key, cb in zip(self.keys(), self.callbacks)}

    def load_state_dict(self, state: dict) -> None:
        for key, cb in zip(self.keys(), self.callbacks):
            if key in state:
                cb.load_state_dict(state[key])


class _Monitor:
    """Tracks the best value of a logged quantity (shared by the monitoring callbacks)."""

    def __init__(self, name, monitor, mode, min_delta):
        if min_delta < 0:
            raise ValueError(f"{name}: min_delta must be >= 0, received {min_delta}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, name)
        self.min_delta = float(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def _monitored(logs, monitor, owner):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{owner}: the monitored quantity {monitor!r} is not logged (available: "
            f"{sorted(logs or {})}); pass validation data or choose another monitor",
            RuntimeWarning, stacklevel=3,
        )
        return None
    return float(value)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A logged quantity, e.g. ``'val_loss'`` (default) or ``'val_accuracy'``.
    min_delta : float
        The smallest change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    mode : {'auto', 'min', 'max'}
        'auto' maximises names containing 'acc' or 'r2' and minimises the rest.
    baseline : float, optional
        Training stops if the monitor does not beat this value within ``patience`` epochs.
    restore_best_weights : bool
        At the end of training, load the weights of the best epoch.

    Attributes
    ----------
    best, best_epoch, stopped_epoch, wait
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 verbose: int = 0):
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, received {patience!r}")
        self._tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor = monitor
        self.patience = patience
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.wait = 0
        self.best_epoch = -1
        self.stopped_epoch = -1
        self.best_weights = None

    @property
    def best(self) -> float:
        return self._tracker.best

    def on_train_begin(self, logs=None):
        if self.best_epoch < 0 and self.baseline is not None:
            self._tracker.best = float(self.baseline)

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None:
            return
        if self._tracker.improved(value):
            self._tracker.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = {k: v.copy() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs; "
                      f"stopping at epoch {epoch + 1} (best {self.best:.6g} at epoch {self.best_epoch + 1})")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.wait = int(state.get("wait", 0))
        self._tracker.best = float(state.get("best", self._tracker.best))
        self.best_epoch = int(state.get("best_epoch", -1))
        self.stopped_epoch = int(state.get("stopped_epoch", -1))


class ModelCheckpoint(Callback):
    """Write a training checkpoint (model, optimizer, epoch, RNG states) at the end of epochs.

    Parameters
    ----------
    path : str
        The checkpoint file; may use ``{epoch}`` and logged names as format
        fields (``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``); ``epoch``
        is 1-based there (the number of finished epochs).
    monitor : str
        The quantity compared when ``save_best_only``.
    save_best_only : bool
        Write only when ``monitor`` improves.
    mode : {'auto', 'min', 'max'}

    The file is written atomically by :func:`chainrule.io.save_checkpoint` and
    resumes with ``fit(..., resume_from=path)``.
    """

    run_last = True

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self._tracker = _Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.verbose = verbose
        self.last_path = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or not self._tracker.improved(value):
                return
            self._tracker.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"ModelCheckpoint: cannot format path {self.path!r} with the logs: {error}") from None
        self.last_path = self.trainer.save_checkpoint(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {self.last_path}")

    def state_dict(self) -> dict:
        return {"best": self._tracker.best}

    def load_state_dict(self, state: dict) -> None:
        self._tracker.best = float(state.get("best", self._tracker.best))


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def __init__(self):
        self.terminated_batch = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.terminated_batch = batch
            self.stop_training = True
            warnings.warn(f"TerminateOnNaN: batch {batch} has loss {loss}; stopping training",
                          RuntimeWarning, stacklevel=2)


def _is_scheduler(obj) -> bool:
    return hasattr(obj, "step") and hasattr(obj, "state_dict") and not isinstance(obj, type)


class LearningRateScheduler(Callback):
    """Change the learning rate every epoch.

    Parameters
    ----------
    schedule : callable or lr scheduler
        Either ``fn(epoch, lr) -> new_lr``, called before each epoch (epoch
        0-based), or a :mod:`chainrule.optim.lr_scheduler` object, whose
        ``step()`` is called after each epoch (``ReduceLROnPlateau`` gets
        ``logs[monitor]``).
    monitor : str
        Passed to a plateau scheduler's ``step``; ``val_loss`` falls back to ``loss``.
    """

    def __init__(self, schedule, monitor: str = "val_loss", verbose: int = 0):
        if not (callable(schedule) or _is_scheduler(schedule)):
            raise TypeError(
                "LearningRateScheduler: schedule must be fn(epoch, lr) -> lr or an lr_scheduler object, "
                f"received {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.monitor = monitor
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if _is_scheduler(self.schedule):
            return
        lr = self.schedule(epoch, get_lr(self.optimizer))
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, lr) must return a finite float, received {lr!r}")
        set_lr(self.optimizer, lr)
        if self.verbose:
            print(f"LearningRateScheduler: epoch {epoch + 1} lr = {lr:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if not _is_scheduler(self.schedule):
            return
        if type(self.schedule).__name__ == "ReduceLROnPlateau":
            logs = logs or {}
            key = self.monitor if self.monitor in logs else "loss"
            self.schedule.step(float(logs[key]))
        else:
            self.schedule.step()

    def state_dict(self) -> dict:
        if _is_scheduler(self.schedule):
            return {"scheduler": self.schedule.state_dict()}
        return {}

    def load_state_dict(self, state: dict) -> None:
        if _is_scheduler(self.schedule) and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    A callback around :class:`chainrule.optim.lr_scheduler.ReduceLROnPlateau`,
    with Keras' argument names (``min_delta`` is the scheduler's relative
    ``threshold``).

    Parameters
    ----------
    monitor : str
    factor : float
        New lr = lr · factor, 0 < factor < 1.
    patience : int
        Epochs without improvement before reducing.
    mode : {'auto', 'min', 'max'}
    min_delta : float
    cooldown : int
    min_lr : float
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 verbose: int = 0):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), received {factor}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "ReduceLROnPlateau")
        self.factor = factor
        self.patience = patience
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.verbose = verbose
        self.scheduler = None
        self._pending_state = None

    def on_train_begin(self, logs=None):
        from ..optim import lr_scheduler

        self.scheduler = lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode=self.mode, factor=self.factor, patience=self.patience,
            threshold=self.min_delta, cooldown=self.cooldown, min_lr=self.min_lr,
        )
        if self._pending_state is not None:
            self.scheduler.load_state_dict(self._pending_state)
            self._pending_state = None

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if value is None:
            return
        before = get_lr(self.optimizer)
        self.scheduler.step(value)
        after = get_lr(self.optimizer)
        if self.verbose and after < before:
            print(f"ReduceLROnPlateau: epoch {epoch + 1}: lr {before:.6g} -> {after:.6g}")

    def state_dict(self) -> dict:
        return {} if self.scheduler is None else {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "scheduler" in state:
            if self.scheduler is None:
                self._pending_state = state["scheduler"]
            else:
                self.scheduler.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Append one CSV row per epoch (``epoch`` then every logged value) to ``path``.

    Each row is flushed when written, so the file can be followed during
    training. With ``append=False`` the file is rewritten when training
    starts, except when a run resumes from a checkpoint, which appends.
    """

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self._handle = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        resuming = self.trainer is not None and self.trainer.initial_epoch > 0
        append = (self.append or resuming) and os.path.isfile(self.path) and os.path.getsize(self.path) > 0
        if append:
            with open(self.path, newline="") as handle:
                header = next(csv.reader(handle, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        else:
            self._keys = None
        self._handle = open(self.path, "a" if append else "w", newline="")  # noqa: SIM115 - closed in on_train_end
        self._writer = csv.writer(self._handle, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(self._format(logs.get(k, math.nan)) for k in self._keys)])
        self._handle.flush()

    @staticmethod
    def _format(value):
        return repr(float(value)) if isinstance(value, (int, float)) else value

    def on_train_end(self, logs=None):
        if self._handle is not None:
            self._handle.close()
            self._handle = None
