import random

import numpy as np
import pytest

from chainrule.transfer import ADWIN, DriftCallback


def detections(detector, stream):
    return [i for i, value in enumerate(stream) if detector.update(value)]


def test_river_published_indices_on_its_seeded_stream():
    # river/drift/test_drift_detectors.py: np.random.seed(12345), 1000 draws from {0, 1} then
    # 1000 from {0..7}; river's ADWIN() detects at [1055]. RandomState(12345) gives the same draws.
    legacy = np.random.RandomState(12345)
    stream = np.concatenate((legacy.randint(2, size=1000), legacy.randint(8, size=1000)))
    assert detections(ADWIN(), stream) == [1055]


def test_river_docstring_example():
    # river's ADWIN docstring: random.Random(12345), choices of {0, 1} then of {4..7}: index 1023.
    rng = random.Random(12345)
    stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    assert detections(ADWIN(), stream) == [1023]


def test_no_drift_on_a_stationary_stream():
    stream = np.random.default_rng(0).integers(0, 2, size=3000)
    assert detections(ADWIN(), stream) == []


def test_window_statistics_match_numpy_before_any_cut():
    values = np.random.default_rng(1).normal(size=200)
    detector = ADWIN()
    for v in values:
        detector.update(v)
    assert detector.width == 200
    assert detector.estimation == pytest.approx(values.mean(), abs=1e-12)
    assert detector.variance == pytest.approx(values.var(), rel=1e-9)


def test_without_reset_the_window_keeps_its_recent_part():
    stream = np.concatenate([np.zeros(1000), np.ones(1000)])
    detector = ADWIN(reset_on_drift=False)
    found = detections(detector, stream)
    assert found and found[0] > 1000
    assert 0 < detector.width < 2000
    assert detector.estimation > 0.9  # the window now holds mostly the new regime


@pytest.mark.parametrize(
    "kwargs",
    [{"delta": 0}, {"delta": 1.5}, {"clock": 0}, {"max_buckets": 2.5}, {"grace_period": True}],
)
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError, match="ADWIN"):
        ADWIN(**kwargs)


def test_non_finite_value_is_refused():
    with pytest.raises(ValueError, match="finite"):
        ADWIN().update(float("nan"))


def test_drift_callback_calls_back_on_the_detected_batch():
    calls = []
    callback = DriftCallback(lambda cb, batch, logs: calls.append(batch))
    losses = np.concatenate([np.full(300, 0.1), np.full(300, 2.0)])
    reference = detections(ADWIN(), losses)
    for batch, loss in enumerate(losses):
        callback.on_batch_end(batch, {"loss": loss})
    assert callback.drifts == reference == calls
    with pytest.raises(KeyError, match="val_loss"):
        DriftCallback(print, monitor="val_loss").on_batch_end(0, {"loss": 1.0})


def test_a_drift_during_online_fit_triggers_the_callback_and_helps():
    from chainrule import nn, optim
    from chainrule.optim import set_lr
    from chainrule.train import Callback, fit

    def stream(change=150, n=300):
        rng = np.random.default_rng(0)
        for t in range(n):
            x = rng.normal(size=(32, 2)).astype(np.float32)
            y = (x[:, 0] > 0).astype(np.int64)
            yield x, (1 - y if t >= change else y)      # the concept flips at batch 150

    class Losses(Callback):
        def __init__(self):
            self.values = []

        def on_batch_end(self, batch, logs=None):
            self.values.append(logs["loss"])

    results = {}
    for react in (False, True):
        model = nn.Sequential(nn.Linear(2, 8, generator=0), nn.Tanh(),
                              nn.Linear(8, 2, generator=1))
        losses = Losses()
        drift = DriftCallback(lambda cb, batch, logs: set_lr(cb.optimizer, 0.3))
        fit(model, stream(), loss="cross_entropy", epochs=30, steps_per_epoch=10,
            optimizer=optim.SGD(model.parameters(), lr=0.02), progress=False, verbose=0,
            callbacks=[losses, drift] if react else [losses])
        results[react] = (drift.drifts, np.mean(losses.values[250:]))
    drifts = results[True][0]
    assert drifts and 150 < drifts[0] < 250
    assert results[True][1] < 0.75 * results[False][1]     # raising the rate recovered faster
