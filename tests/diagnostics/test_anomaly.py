"""detect_anomaly names the module, the op and the phase of the first non-finite value."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim
from chainrule.autograd import AnomalyError
from chainrule.train import TerminateOnNaN, fit


def five_layer_mlp():
    g = np.random.default_rng(0)
    layers = []
    for i in range(5):
        layers.append(nn.Linear(4, 4 if i < 4 else 2, generator=g))
        if i < 4:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)  # Linear layers at 0, 2, 4, 6, 8


X = np.random.default_rng(1).normal(size=(32, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def first_anomaly(model, fn=None):
    with pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        (fn or (lambda: F.cross_entropy(model(X), Y).backward()))()
    return info.value


def test_nan_in_layer_2_output_is_reported_at_layer_2_not_later():
    model = five_layer_mlp()
    model[2].register_forward_hook(lambda m, a, out: out * np.float32(np.nan))
    error = first_anomaly(model)
    assert error.module == "model.2 (Linear)" and error.phase == "forward"
    assert error.op == "Mul"


def test_nan_parameter_is_named():
    model = five_layer_mlp()
    model[2].weight.data[1, 1] = np.nan
    error = first_anomaly(model)
    assert error.module == "model.2 (Linear)"
    assert error.origin == "parameter model.2.weight"


def test_an_op_that_produces_nan_from_finite_inputs():
    class Log(nn.Module):
        def forward(self, x):
            return (x - 100.0).log()

    model = nn.Sequential(nn.Linear(4, 4), Log(), nn.Linear(4, 2))
    with np.errstate(invalid="ignore"):
        error = first_anomaly(model)
    assert error.module == "model.1 (Log)" and "from finite inputs" in str(error)


def test_a_backward_that_produces_nan_names_its_module():
    class Sqrt(nn.Module):
        def forward(self, x):
            return (x * 0.0).sqrt()  # d√u/du = 1/(2√u) is inf at 0

    model = nn.Sequential(nn.Linear(4, 4), Sqrt(), nn.Linear(4, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        error = first_anomaly(model)
    assert error.phase == "backward" and error.module == "model.1 (Sqrt)"
    assert error.op == "Sqrt"


def test_fit_with_detect_anomaly_reports_the_batch():
    model = five_layer_mlp()
    calls = {"n": 0}

    def poison_third_batch(module, args, out):
        calls["n"] += 1
        return out * np.float32(np.nan) if calls["n"] == 3 else None

    model[4].register_forward_hook(poison_third_batch)
    with pytest.raises(AnomalyError) as info:
        fit(
            model,
            (X, Y),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            batch_size=8,
            shuffle=False,
            verbose=0,
            progress=False,
            detect_anomaly=True,
        )
    error = info.value
    assert (error.epoch, error.batch, error.module) == (0, 2, "model.4 (Linear)")
    assert "(epoch 1, batch 3)" in str(error)


def test_terminate_on_nan_reports_the_same_origin():
    model = five_layer_mlp()
    model[6].weight.data[0, 0] = np.inf
    guard = TerminateOnNaN()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(
            model,
            (X, Y),
            loss="cross_entropy",
            epochs=3,
            verbose=0,
            progress=False,
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            callbacks=[guard],
            detect_anomaly=True,
        )
    assert guard.terminated_batch == 0 and len(history.epoch) <= 1
    assert "model.6 (Linear)" in guard.report and "parameter model.6.weight" in guard.report


def test_without_anomaly_mode_terminate_on_nan_says_how_to_find_it():
    model = five_layer_mlp()
    model[6].weight.data[0, 0] = np.inf
    guard = TerminateOnNaN()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        fit(
            model,
            (X, Y),
            loss="cross_entropy",
            epochs=1,
            verbose=0,
            progress=False,
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            callbacks=[guard],
        )
    assert "detect_anomaly=True" in guard.report
