"""The epoch loop shared by :func:`chainrule.train.fit` and the scikit-learn estimators.

:func:`run_epochs` walks the epochs and batches of one training run; each
batch goes through :func:`chainrule.train.step.train_step`, the one
optimisation step. The loop consults the run's :class:`~chainrule.train.Strategy`
(shard each global batch, sum the epoch's statistics over processes, let only
the main process print) and calls the callbacks' hooks (see
:mod:`chainrule.train.callbacks` and ``docs/design.md``).

All the loop's randomness (the shuffling order) comes from the trainer's
``generator``; every generator the run draws from is saved in checkpoints and
restored by ``resume_from``, so a run resumed at an epoch boundary produces
bit-identical weights to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time

from ..autograd import AnomalyError, detect_anomaly, no_grad
from ..backend import xp
from ..optim.factory import get_lr
from ..rng import default_generator
from ..tensor import Tensor
from .callbacks import CallbackList, TerminateOnNaN
from .history import History
from .step import input_tensor, model_dtype, train_step
from .strategy import get_strategy

__all__ = ["Trainer", "evaluate_batches", "input_tensor", "model_dtype", "run_epochs"]


def _target(y):
    return Tensor(y) if isinstance(y, xp.ndarray) else y


class Trainer:
    """The state one training run shares with its callbacks.

    Attributes
    ----------
    model, optimizer, loss, history, generator, strategy
    callbacks : CallbackList
        The run's callbacks, :class:`History` included.
    epochs : int
        The total number of epochs asked for.
    initial_epoch : int
        The first epoch run (nonzero when resuming).
    epochs_completed : int
    stop_training : bool
        Set it to end training after the current batch.
    """

    def __init__(self, model, optimizer, loss, epochs, generator, history=None, callbacks=(),
                 data_generator=None, strategy=None):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.epochs = epochs
        self.generator = generator
        self.history = History() if history is None else history
        callbacks = list(callbacks.callbacks if isinstance(callbacks, CallbackList) else callbacks)
        self.callbacks = CallbackList([*callbacks, self.history])
        self.callbacks.set_trainer(self)
        self.data_generator = data_generator
        self.strategy = get_strategy(strategy)
        self.initial_epoch = 0
        self.epochs_completed = 0
        self.stop_training = False
        self.detect_anomaly = False
        self.anomaly = None

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
            path, self.model, self.optimizer, epoch=self.epochs_completed,
            generators=self.generators(), history=self.history,
            callbacks=self.callbacks.state_dict(),
        )

    def restore(self, path) -> None:
        """Load a checkpoint into this run: weights, optimizer, generators, history, callbacks."""
        from .. import io

        checkpoint = io.load_checkpoint(path)
        checkpoint.restore(self.model, self.optimizer, generators=self.generators(),
                           callbacks=self.callbacks)
        if checkpoint.history:
            restored = History.from_dict(checkpoint.history)
            self.history.history, self.history.epoch = restored.history, restored.epoch
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


# -------------------------------------------------------------------- loop
def _global_rows(strategy, chunks, positions, total):
    """The rows each process computed, in the global order, on every process.

    With one process this is ``concatenate(chunks)``. Otherwise each process
    places its rows at their global ``positions`` in a zero array of ``total``
    rows and ``strategy.reduce_metrics`` sums the placements: every row comes
    from exactly one process, so metrics computed on the result are those of
    one process on the whole data (no padding, nothing counted twice).
    """
    local = xp.concatenate(chunks)
    if strategy.world_size == 1:
        return local
    placed = xp.zeros((total,) + local.shape[1:], dtype=xp.float64)
    placed[xp.concatenate(positions)] = local
    return strategy.reduce_metrics({"rows": placed})["rows"].astype(local.dtype)


def _shard_positions(strategy, start, size):
    """The global row numbers of this process's shard of a batch of ``size`` rows from ``start``."""
    if strategy.world_size == 1:
        return None
    rows = xp.arange(start, start + size)
    return strategy.shard((rows, rows))[0]


def _forward_rows(model, xb, dtype):
    """The model's outputs for the rows ``xb``; an empty shard gives an empty (0, ...) output."""
    if len(xb):
        return model(input_tensor(xb, dtype)).data
    row = xp.zeros((1,) + tuple(xb.shape[1:]), dtype=xb.dtype)
    return model(input_tensor(row, dtype)).data[:0]


def evaluate_batches(model, data, loss_fn, metric_fns, batch_size, dtype, strategy=None) -> dict:
    """Loss and metrics of ``model`` over ``data`` under no_grad in eval mode (mode restored).

    With a multi-process ``strategy`` each process evaluates its shard of
    every batch and the loss sums, outputs and targets are combined exactly
    (see :func:`_global_rows`); every process gets the figures of the whole data.
    """
    strategy = get_strategy(strategy)
    was_training = model.training
    model.eval()
    total_loss, seen, start = 0.0, 0, 0
    outputs, targets, positions = [], [], []
    try:
        with no_grad():
            for global_batch in data.batches(batch_size):
                global_size = len(global_batch[0])
                xb, yb = strategy.shard(global_batch)
                xb = xp.asarray(xb)  # rows of a memory-mapped file are read here, this shard's only
                pred = _forward_rows(model, xb, dtype)
                if loss_fn is not None and len(xb):
                    batch_loss = loss_fn(Tensor(pred, dtype=pred.dtype), Tensor(yb))
                    total_loss += float(batch_loss.item()) * len(xb)
                seen += len(xb)
                outputs.append(pred)
                targets.append(yb)
                positions.append(_shard_positions(strategy, start, global_size))
                start += global_size
    finally:
        model.train(was_training)
    reduced = strategy.reduce_metrics({"loss_sum": total_loss, "count": seen})
    results = {}
    if loss_fn is not None:
        results["loss"] = reduced["loss_sum"] / max(reduced["count"], 1)
    if outputs and metric_fns:
        all_outputs = _global_rows(strategy, outputs, positions, start)
        all_targets = _global_rows(strategy, targets, positions, start)
        for name, fn in metric_fns:
            results[name] = float(fn(all_outputs, all_targets))
    return results


def _run_epoch(trainer, epoch, train, batch_size, shuffle, metric_fns, clip_grad_norm, dtype,
               params, bar):
    model, callbacks, strategy = trainer.model, trainer.callbacks, trainer.strategy
    total_loss, seen, start = 0.0, 0, 0
    outputs, targets, positions = [], [], []
    for batch, global_batch in enumerate(train.batches(batch_size, shuffle, trainer.generator)):
        global_size = len(global_batch[0])
        xb, yb = strategy.shard(global_batch)
        xb = xp.asarray(xb)  # rows of a memory-mapped file are read here, this shard's only
        size = len(xb)
        callbacks.on_batch_begin(batch, {"size": size})
        try:
            with detect_anomaly() if trainer.detect_anomaly else contextlib.nullcontext():
                result = train_step(
                    model, input_tensor(xb, dtype), _target(yb), loss=trainer.loss,
                    optimizer=trainer.optimizer, batch=batch, callbacks=callbacks,
                    strategy=strategy, clip_grad_norm=clip_grad_norm, parameters=params,
                    global_size=global_size,
                )
        except AnomalyError as error:
            # where the first NaN/inf came from, with the batch: TerminateOnNaN reports it and
            # stops training; without one, the error ends fit
            trainer.anomaly = error.at_batch(epoch, batch)
            if not any(isinstance(cb, TerminateOnNaN) for cb in callbacks.callbacks):
                raise
            callbacks.on_batch_end(batch, {"loss": math.nan, "size": size,
                                           "anomaly": str(error)})
            break
        total_loss += result.loss * size
        seen += size
        batch_loss = result.loss
        if strategy.world_size > 1:  # the global batch's loss: all ranks' callbacks agree and stop
            reduced = strategy.reduce_metrics({"loss_sum": batch_loss * size})
            batch_loss = reduced["loss_sum"] / global_size
        if metric_fns:
            outputs.append(xp.array(result.output.data[:size], copy=True))
            targets.append(yb)
            positions.append(_shard_positions(strategy, start, global_size))
        start += global_size
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total_loss / max(seen, 1):.4f}", refresh=False)
        callbacks.on_batch_end(batch, {"loss": batch_loss, "size": size})
        if trainer.stop_training:
            break
    reduced = strategy.reduce_metrics({"loss_sum": total_loss, "count": seen})
    logs = {"loss": reduced["loss_sum"] / max(reduced["count"], 1)}
    if metric_fns and outputs:
        all_outputs = _global_rows(strategy, outputs, positions, start)
        all_targets = _global_rows(strategy, targets, positions, start)
        logs.update({name: float(fn(all_outputs, all_targets)) for name, fn in metric_fns})
    return logs


def run_epochs(trainer: Trainer, train, validation=None, *, batch_size: int, shuffle: bool = True,
               metrics=(), clip_grad_norm: float | None = None, verbose: int = 0,
               progress: bool = False, dtype=None) -> History:
    """Train from ``trainer.initial_epoch`` up to ``trainer.epochs``; return the History.

    Parameters
    ----------
    trainer : Trainer
    train, validation : batch-protocol data (see :mod:`chainrule.data.adapters`)
    batch_size : int
    shuffle : bool
        Reshuffle ``train`` every epoch with ``trainer.generator``.
    metrics : sequence of (name, fn)
        Resolved metrics, computed on the epoch's outputs.
    clip_grad_norm : float, optional
    verbose : int
        1: one summary line per epoch (main process only).
    progress : bool
        A tqdm bar per epoch (main process, terminals only).
    dtype : numpy dtype, optional
        Float inputs are cast to it (default: the model's dtype).
    """
    model, optimizer, strategy, callbacks = (trainer.model, trainer.optimizer, trainer.strategy,
                                             trainer.callbacks)
    dtype = model_dtype(model) if dtype is None else dtype
    params = [p for p in model.parameters() if p.requires_grad]
    num_batches = train.num_batches(batch_size)
    speak = bool(verbose) and strategy.is_main
    strategy.setup(model, optimizer, generators=trainer.generators(), data_size=len(train))
    try:
        logs: dict = {}
        callbacks.on_train_begin(logs)
        for epoch in range(trainer.initial_epoch, trainer.epochs):
            if trainer.stop_training:
                break
            callbacks.on_epoch_begin(epoch, logs)
            model.train()
            lr = get_lr(optimizer)
            started = time.perf_counter()
            bar = _progress_bar(num_batches, f"Epoch {epoch + 1}/{trainer.epochs}",
                                progress and speak)
            try:
                logs = _run_epoch(trainer, epoch, train, batch_size, shuffle, metrics,
                                  clip_grad_norm, dtype, params, bar)
            finally:
                if bar is not None:
                    bar.close()
            if validation is not None:
                results = evaluate_batches(model, validation, trainer.loss, metrics, batch_size,
                                           dtype, strategy)
                logs.update({f"val_{k}": v for k, v in results.items()})
                callbacks.on_validation_end(epoch, logs)
            logs["lr"] = lr
            logs["epoch_time"] = time.perf_counter() - started
            trainer.epochs_completed = epoch + 1
            if speak:
                print(f"Epoch {epoch + 1}/{trainer.epochs}: {_format_logs(logs)}", flush=True)
            callbacks.on_epoch_end(epoch, logs)
            if getattr(train, "exhausted", False):
                break                               # a stream that ended: nothing left to learn
        strategy.barrier()
        callbacks.on_train_end(logs)
    finally:
        strategy.teardown()
    return trainer.history
