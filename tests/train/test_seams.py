"""The training layer's seams: the one step, the strategy contract and the callback hooks."""

import copy
import csv
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim
from chainrule.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    SingleProcess,
    Strategy,
    fit,
    train_step,
)


def blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 4)) + 3.0 * y[:, None]
    return X, y


def tiny_model(seed=0):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def grad_norm(model):
    return math.sqrt(
        sum(
            float((p.grad.astype(np.float64) ** 2).sum())
            for p in model.parameters()
            if p.grad is not None
        )
    )


# ------------------------------------------------------------------ the step
def test_train_step_is_one_plain_gradient_step():
    """train_step on a linear model with MSE equals w − lr · (2/N) Xᵀ(Xw + b − y), by hand."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    model = nn.Linear(3, 1, dtype=np.float64, generator=rng)
    W, b = model.weight.data.copy(), model.bias.data.copy()
    result = train_step(
        model,
        X,
        cr.Tensor(y, dtype=np.float64),
        loss=F.mse_loss,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
    )
    residual = X @ W.T + b - y
    np.testing.assert_allclose(result.loss, (residual**2).mean())
    np.testing.assert_allclose(model.weight.data, W - 0.1 * (2 / 6) * residual.T @ X, atol=1e-12)
    np.testing.assert_allclose(model.bias.data, b - 0.1 * (2 / 6) * residual.sum(axis=0))


# ------------------------------------------------------------------ strategy
class RecordingStrategy(Strategy):
    """A test double: records every call and keeps the first half of each batch."""

    def __init__(self, events, rank=0):
        self.events = events
        self.rank = rank

    def setup(self, model, optimizer, **run):
        self.events.append(f"setup:{sorted(run)}")

    def shard(self, batch):
        x, y = batch
        self.events.append(f"shard{len(x)}")
        half = max(len(x) // 2, 1)
        return x[:half], y[:half]

    def reduce_gradients(self, parameters, local_size, global_size):
        grads_present = all(p.grad is not None for p in parameters)
        self.events.append(f"reduce_gradients{local_size}/{global_size}:{grads_present}")

    def reduce_metrics(self, sums):
        self.events.append(f"reduce_metrics:{sorted(sums)}")
        return dict(sums)

    def barrier(self):
        self.events.append("barrier")

    def teardown(self):
        self.events.append("teardown")


class Recorder(Callback):
    def __init__(self, events):
        self.events = events

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_train_end(self, logs=None):
        self.events.append("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin{epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end{epoch}")

    def on_batch_begin(self, batch, logs=None):
        self.events.append(f"batch_begin{batch}")

    def on_batch_end(self, batch, logs=None):
        self.events.append(f"batch_end{batch}")

    def on_after_backward(self, batch, logs=None):
        self.events.append(f"after_backward{batch}")

    def on_before_optimizer_step(self, batch, logs=None):
        self.events.append(f"before_step{batch}")

    def on_validation_end(self, epoch, logs=None):
        self.events.append(f"validation_end{epoch}:{'val_loss' in logs}")


def test_loop_calls_every_strategy_method_and_hook_at_its_moment():
    X, y = blobs(8)
    model = tiny_model()
    events = []
    strategy = RecordingStrategy(events)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        batch_size=4,
        shuffle=False,
        validation_data=(X[:2], y[:2]),
        callbacks=[Recorder(events)],
        strategy=strategy,
        verbose=0,
    )
    batch = [
        "shard4",
        "batch_begin{b}",
        "reduce_gradients2/4:True",
        "after_backward{b}",
        "before_step{b}",
        "batch_end{b}",
    ]
    epoch = ["epoch_begin{e}"]
    for b in range(2):
        epoch += [item.format(b=b) for item in batch]
    epoch += [
        "reduce_metrics:['count', 'loss_sum']",
        "shard2",
        "reduce_metrics:['count', 'loss_sum']",
        "validation_end{e}:True",
        "epoch_end{e}",
    ]
    expected = ["setup:['data_size', 'generators']", "train_begin"]
    for e in range(2):
        expected += [item.format(e=e) for item in epoch]
    expected += ["barrier", "train_end", "teardown"]
    assert events == expected


def test_sharded_loop_trains_on_the_local_half_only():
    """With the double's shard (first half of each batch), fit equals fit on those halves."""
    X, y = blobs(8)
    halves = (np.concatenate([X[0:2], X[4:6]]), np.concatenate([y[0:2], y[4:6]]))
    a, b = tiny_model(), tiny_model()
    fit(
        a,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(a.parameters(), lr=0.1),
        epochs=1,
        batch_size=4,
        shuffle=False,
        strategy=RecordingStrategy([]),
        verbose=0,
    )
    fit(
        b,
        halves,
        loss="cross_entropy",
        optimizer=optim.SGD(b.parameters(), lr=0.1),
        epochs=1,
        batch_size=2,
        shuffle=False,
        verbose=0,
    )
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_teardown_runs_when_training_fails():
    X, y = blobs(8)
    events = []

    class Boom(Callback):
        def on_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    model = tiny_model()
    with pytest.raises(RuntimeError, match="boom"):
        fit(
            model,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            callbacks=[Boom()],
            strategy=RecordingStrategy(events),
            verbose=0,
        )
    assert events[-1] == "teardown"


def test_only_the_main_process_prints_and_writes(tmp_path, capsys):
    X, y = blobs(8)
    model = tiny_model()
    path = tmp_path / "log.csv"
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        callbacks=[CSVLogger(path), EarlyStopping(monitor="loss", verbose=1)],
        strategy=RecordingStrategy([], rank=1),
        verbose=1,
    )
    assert capsys.readouterr().out == ""
    assert not path.exists()
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        callbacks=[CSVLogger(path)],
        strategy=SingleProcess(),
        verbose=1,
    )
    assert "Epoch 2/2" in capsys.readouterr().out
    assert path.exists()


def test_strategy_must_be_a_strategy():
    X, y = blobs(8)
    model = tiny_model()
    with pytest.raises(TypeError, match="strategy: expected a chainrule.train.Strategy"):
        fit(
            model,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            strategy="mpi",
            verbose=0,
        )


# --------------------------------------------------------------------- hooks
def test_clipping_sits_between_the_two_gradient_hooks():
    """on_after_backward sees the unclipped norm; on_before_optimizer_step at most 1e-3."""
    X, y = blobs(16)
    model = tiny_model()
    seen = []

    class Norms(Callback):
        def on_after_backward(self, batch, logs=None):
            seen.append(
                ("after", grad_norm(self.model), [p.grad.copy() for p in self.model.parameters()])
            )

        def on_before_optimizer_step(self, batch, logs=None):
            seen.append(
                (
                    "before",
                    grad_norm(self.model),
                    [p.grad.copy() for p in self.model.parameters()],
                    logs["grad_norm"],
                )
            )

    reference = copy.deepcopy(model)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        batch_size=16,
        shuffle=False,
        clip_grad_norm=1e-3,
        callbacks=[Norms()],
        verbose=0,
    )
    (_, after, after_grads), (_, before, before_grads, logged) = seen
    # the unclipped gradient, recomputed on an untouched copy of the model
    F.cross_entropy(reference(cr.Tensor(X.astype(np.float32))), cr.Tensor(y)).backward()
    assert after == pytest.approx(grad_norm(reference), rel=1e-6)
    assert after > 0.01 and logged == pytest.approx(after, rel=1e-6)
    assert before <= 1e-3 * (1 + 1e-5)
    scale = 1e-3 / (after + 1e-6)
    for g_after, g_before in zip(after_grads, before_grads, strict=True):
        np.testing.assert_allclose(g_before, g_after * scale, rtol=1e-5, atol=1e-12)


def test_callbacks_read_model_optimizer_strategy_and_lr():
    X, y = blobs(8)
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.25)
    strategy = SingleProcess()
    found = {}

    class Reader(Callback):
        def on_before_optimizer_step(self, batch, logs=None):
            found.update(
                model=self.model, optimizer=self.optimizer, strategy=self.strategy, lr=self.lr
            )

    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=opt,
        epochs=1,
        callbacks=[Reader()],
        strategy=strategy,
        verbose=0,
    )
    assert found == {"model": model, "optimizer": opt, "strategy": strategy, "lr": 0.25}


def test_a_key_added_by_a_callback_reaches_history_and_csv(tmp_path):
    """The adding callback comes after CSVLogger in the list; loggers still run after it."""
    X, y = blobs(8)
    model = tiny_model()
    path = tmp_path / "log.csv"

    class AddsKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["weight_norm"] = float(
                np.sqrt(sum((p.data**2).sum() for p in self.model.parameters()))
            )

    history = fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        callbacks=[CSVLogger(path), AddsKey()],
        verbose=0,
    )
    final_norm = float(
        np.sqrt(sum((p.data.astype(np.float64) ** 2).sum() for p in model.parameters()))
    )
    assert history.history["weight_norm"][-1] == pytest.approx(final_norm, rel=1e-6)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("weight_norm")
    assert [float(r[column]) for r in rows[1:]] == history.history["weight_norm"]


def test_train_step_hooks_see_the_batch_loss():
    X, y = blobs(8)
    model = tiny_model()
    logged = []

    class Logs(Callback):
        def on_after_backward(self, batch, logs=None):
            logged.append(dict(logs))

    result = train_step(
        model,
        cr.Tensor(X.astype(np.float32)),
        cr.Tensor(y),
        loss=F.cross_entropy,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        callbacks=[Logs()],
        batch=3,
    )
    assert logged == [{"loss": result.loss, "size": 8}]


def test_early_stopping_verbose_says_when_it_stopped_and_what_it_restored(capsys):
    X, y = blobs(8)
    model = tiny_model()

    class Scripted(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [3.0, 1.0, 2.0, 2.5, 0.1][epoch]

    stopper = EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=5,
        callbacks=[Scripted(), stopper],
        verbose=0,
    )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Epoch 4: early stopping (val_loss did not improve for 2 epochs; best 1 at epoch 2)",
        "Restoring model weights from the end of the best epoch: 2.",
    ]
    assert stopper.restored_epoch == 1
