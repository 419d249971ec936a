import csv
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import (
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    evaluate,
    fit,
    predict,
)
from chainrule.train.callbacks import Callback


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 4)).astype(np.float32) + 4.0 * y[:, None]
    return X, y


def tiny_model(seed=0, dropout=0.0):
    cr.manual_seed(seed)
    layers = [nn.Linear(4, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(16, 2))
    return nn.Sequential(*layers)


def test_fit_converges_and_logs_history():
    X, y = blobs()
    model = tiny_model()
    history = fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=0.05),
        epochs=15,
        batch_size=16,
        validation_split=0.25,
        metrics=["accuracy"],
        verbose=0,
    )
    assert isinstance(history, History)
    assert history.epoch == list(range(15))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"):
        assert len(history.history[key]) == 15
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.95
    assert history.history["lr"] == [0.05] * 15
    assert evaluate(model, (X, y), loss="cross_entropy", metrics=["accuracy"])["accuracy"] >= 0.95


def test_fit_regression_with_dataset_and_callable_loss():
    import chainrule.functional as F
    from chainrule.data import TensorDataset

    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(model, TensorDataset(X, y), loss=lambda p, t: F.mse_loss(p, t),
                  optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=30, batch_size=16,
                  metrics=["mse", "r2"], verbose=0)
    assert history.history["mse"][-1] < 1e-3
    assert history.history["r2"][-1] > 0.999


def test_fit_with_dataloader():
    from chainrule.data import DataLoader, TensorDataset

    X, y = blobs()
    model = tiny_model()
    loader = DataLoader(
        TensorDataset(X, y), batch_size=16, shuffle=True, generator=np.random.default_rng(0)
    )
    history = fit(
        model,
        loader,
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=0.05),
        epochs=5,
        metrics=["accuracy"],
        verbose=0,
    )
    assert history.history["accuracy"][-1] > 0.9


def test_predict_and_evaluate_restore_mode_and_run_without_graph():
    X, _y = blobs(20)
    model = tiny_model(dropout=0.5)
    model.train()
    out1, out2 = predict(model, X), predict(model, X)
    np.testing.assert_array_equal(out1, out2)  # eval mode: dropout off
    assert model.training
    assert out1.shape == (20, 2)


def test_fit_rejects_bad_arguments():
    X, y = blobs(10)
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, (X, y), loss="mse", optimizer=opt, epochs=0)
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, (X, y), loss="hinge", optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="same number of samples"):
        fit(model, (X, y[:5]), loss="cross_entropy", optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=1, metrics=["f2"])


# ---------------------------------------------------------------- callbacks
class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin{epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end{epoch}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_callback_hook_order():
    X, y = blobs(16)
    model = tiny_model()
    rec = Recorder()
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        callbacks=[rec],
        verbose=0,
    )
    assert rec.calls == [
        "train_begin",
        "epoch_begin0",
        "epoch_end0",
        "epoch_begin1",
        "epoch_end1",
        "train_end",
    ]


class ScriptedLoss(Callback):
    """Overwrite val_loss with a script so EarlyStopping's decisions are known in advance."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def test_early_stopping_stops_and_restores_best_weights():
    X, y = blobs(32)
    model = tiny_model()
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append({k: v.copy() for k, v in self.model.state_dict().items()})

    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=20,
        callbacks=[ScriptedLoss([5, 3, 1, 2, 4, 0.5, 0.1] + [9] * 13), Snap(), stopper],
        verbose=0,
    )
    # best at epoch 2 (value 1); epochs 3 and 4 do not improve → stop after epoch 4
    assert len(history.epoch) == 5
    assert stopper.best_epoch == 2 and stopper.stopped_epoch == 4
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[2][key])


def test_early_stopping_mode_max_and_min_delta():
    stopper = EarlyStopping(monitor="val_accuracy", min_delta=0.1, patience=1)
    assert stopper.monitor_tracker.mode == "max"
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)


def test_terminate_on_nan_stops_immediately():
    X, y = blobs(64)
    model = tiny_model()
    guard = TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN"), np.errstate(all="ignore"):
        history = fit(
            model,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=1e38),
            epochs=5,
            batch_size=8,
            callbacks=[guard],
            verbose=0,
        )
    assert guard.terminated_batch is not None and guard.terminated_batch < 8
    assert len(history.epoch) == 1


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    X, y = blobs(16)
    model = tiny_model()
    path = tmp_path / "log.csv"
    history = fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=3,
        metrics=["accuracy"],
        callbacks=[CSVLogger(path)],
        verbose=0,
    )
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["epoch", "loss", "accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[1]) for r in rows[1:]] == history.history["loss"]


def test_learning_rate_scheduler_function_and_object():
    X, y = blobs(16)
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=3, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 0.1 / 3])

    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=3, verbose=0,
                  callbacks=[LearningRateScheduler(sched)])
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 0.025])


def test_reduce_lr_on_plateau_callback():
    X, y = blobs(16)
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=5, verbose=0,
                  callbacks=[ScriptedLoss([1.0] * 5), ReduceLROnPlateau(factor=0.5, patience=1)])
    assert history.history["lr"][0] == pytest.approx(0.1)
    assert history.history["lr"][-1] < 0.1


def test_model_checkpoint_writes_loadable_checkpoints(tmp_path):
    from chainrule import io

    X, y = blobs(16)
    model = tiny_model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}.safetensors")
    fit(model, (X, y), loss="cross_entropy", optimizer=optim.Adam(model.parameters()), epochs=2,
        callbacks=[ModelCheckpoint(pattern)], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-01.safetensors",
        "ckpt-02.safetensors",
    ]
    checkpoint = io.load_checkpoint(tmp_path / "ckpt-02.safetensors")
    assert checkpoint.epoch == 2 and checkpoint.optimizer_type == "Adam"
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(checkpoint.model_state[key], value)


def test_model_checkpoint_save_best_only(tmp_path):
    X, y = blobs(16)
    model = tiny_model()
    saved = []

    class Spy(ModelCheckpoint):
        def on_epoch_end(self, epoch, logs=None):
            before = self.last_path
            super().on_epoch_end(epoch, logs)
            saved.append(self.last_path is not None and (before is None or epoch in (0, 2)))

    cb = Spy(tmp_path / "best.safetensors", monitor="val_loss", save_best_only=True)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=4,
        callbacks=[ScriptedLoss([3.0, 4.0, 1.0, 2.0]), cb],
        verbose=0,
    )
    from chainrule import io

    # epoch index 2 was the best
    assert io.load_checkpoint(tmp_path / "best.safetensors").epoch == 3


# ------------------------------------------------------------------- resume
def _run(tmp_path, epochs, resume=None, ckpt=None):
    X, y = blobs(48)
    model = tiny_model(seed=3, dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    callbacks = [ModelCheckpoint(ckpt)] if ckpt else []
    history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=epochs, batch_size=8,
                  callbacks=callbacks, resume_from=resume, verbose=0, validation_split=0.25,
                  metrics=["accuracy"])
    return model, history


def test_resume_is_bit_identical(tmp_path):
    full, full_history = _run(tmp_path, epochs=4)
    ckpt = tmp_path / "ckpt.safetensors"
    _run(tmp_path, epochs=2, ckpt=str(ckpt))
    cr.manual_seed(12345)  # scramble the default generator: the checkpoint must restore it
    resumed, resumed_history = _run(tmp_path, epochs=4, resume=str(ckpt))
    for key, value in full.state_dict().items():
        assert np.array_equal(resumed.state_dict()[key], value), key
    assert resumed_history.epoch == [0, 1, 2, 3]
    assert resumed_history.history["loss"] == full_history.history["loss"]


def test_history_round_trip_and_best():
    h = History()
    h.append(0, {"loss": 1.0, "val_loss": 2.0})
    h.append(1, {"loss": 0.5, "val_loss": 1.5})
    assert h.best("val_loss") == (1, 1.5)
    again = History.from_dict(h.to_dict())
    assert again.history == h.history and again.epoch == h.epoch
    assert math.isnan(History.from_dict({"epoch": [0], "history": {"x": [float("nan")]}})["x"][0])


def test_fit_refuses_nan_in_the_inputs():
    from chainrule import nn, optim
    from chainrule.train import fit

    X = np.ones((6, 2), dtype=np.float32)
    X[3, 1] = np.nan
    model = nn.Linear(2, 2)
    with pytest.raises(
        ValueError, match=r"1 NaN or infinite value; the first is at sample 3, position \(1,\)"
    ):
        fit(model, (X, np.zeros(6, dtype=np.int64)), loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
