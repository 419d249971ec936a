import itertools

import numpy as np
import pytest

import chainrule.functional as F
from chainrule import Tensor, nn, optim
from chainrule.train import fit, progressive_score


def batches(seed=0, n=40, size=8):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.normal(size=(size, 3))
        yield x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def endless(seed=0):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.normal(size=(8, 3))
        yield x, (x[:, 0] > 0).astype(np.int64)


def model64():
    return nn.Sequential(
        nn.Linear(3, 6, generator=0), nn.Tanh(), nn.Linear(6, 2, generator=1)
    ).double()


def test_fit_on_a_stream_equals_the_hand_written_loop():
    a, b = model64(), model64()
    fit(
        a,
        batches(),
        loss="cross_entropy",
        optimizer=optim.SGD(a.parameters(), lr=0.1),
        epochs=4,
        steps_per_epoch=10,
        progress=False,
        verbose=0,
    )
    opt = optim.SGD(b.parameters(), lr=0.1)
    for x, y in batches():
        opt.zero_grad()
        F.cross_entropy(b(Tensor(x, dtype=np.float64)), y).backward()
        opt.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=False):
        assert np.array_equal(pa.data, pb.data)


def test_an_endless_stream_needs_steps_per_epoch_and_stops_at_epochs():
    model = model64()
    history = fit(
        model,
        endless(),
        loss="cross_entropy",
        epochs=3,
        steps_per_epoch=5,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        progress=False,
        verbose=0,
    )
    assert len(history.epoch) == 3


def test_a_stream_that_ends_stops_training_without_an_empty_epoch():
    model = model64()
    history = fit(
        model,
        batches(n=12),
        loss="cross_entropy",
        epochs=10,
        steps_per_epoch=5,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        progress=False,
        verbose=0,
    )
    assert len(history.epoch) == 3  # 5 + 5 + 2 batches
    assert all(loss > 0 for loss in history.history["loss"])


def test_stream_errors():
    model = model64()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="steps_per_epoch applies to a stream"):
        fit(
            model,
            (np.ones((4, 3)), np.zeros(4, dtype=np.int64)),
            loss="cross_entropy",
            optimizer=opt,
            epochs=1,
            steps_per_epoch=2,
            verbose=0,
        )
    with pytest.raises(ValueError, match="validation_split"):
        fit(
            model,
            batches(),
            loss="cross_entropy",
            optimizer=opt,
            epochs=1,
            validation_split=0.5,
            verbose=0,
        )
    with pytest.raises(ValueError, match="pairs"):
        fit(model, iter([np.ones(3)]), loss="cross_entropy", optimizer=opt, epochs=1, verbose=0)


@pytest.mark.parametrize("delay", [0, 3])
def test_progressive_score_equals_the_manual_predict_then_learn_loop(delay):
    a, b = model64(), model64()
    score = progressive_score(
        a,
        batches(),
        "accuracy",
        loss="cross_entropy",
        optimizer=optim.SGD(a.parameters(), lr=0.2),
        delay=delay,
    )
    opt = optim.SGD(b.parameters(), lr=0.2)
    correct = total = 0
    queue = []
    for x, y in batches():
        b.eval()
        pred = b(Tensor(x, dtype=np.float64)).data.argmax(axis=1)
        b.train()
        correct += int((pred == y).sum())
        total += len(y)
        queue.append((x, y))
        if len(queue) > delay:
            xl, yl = queue.pop(0)
            opt.zero_grad()
            F.cross_entropy(b(Tensor(xl, dtype=np.float64)), yl).backward()
            opt.step()
    assert score == pytest.approx(correct / total, abs=1e-15)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=False):
        assert np.array_equal(pa.data, pb.data)


def test_progressive_score_with_an_estimator_skips_batches_before_the_first_fit():
    from chainrule.estimators import MLPClassifier

    est = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
    history = []
    score = progressive_score(
        est, itertools.islice(batches(), 20), "accuracy", classes=[0, 1], history=history
    )
    assert len(history) == 19 and 0.0 <= score <= 1.0
    manual = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
    correct = total = 0
    for i, (x, y) in enumerate(itertools.islice(batches(), 20)):
        if i:
            correct += int((manual.predict(x) == y).sum())
            total += len(y)
        manual.partial_fit(x, y, classes=[0, 1])
    assert score == pytest.approx(correct / total)


def test_progressive_score_errors():
    model = model64()
    with pytest.raises(ValueError, match="loss= and optimizer="):
        progressive_score(model, batches(), "accuracy")
    with pytest.raises(ValueError, match="delay"):
        progressive_score(
            model,
            batches(),
            "accuracy",
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            delay=-1,
        )
