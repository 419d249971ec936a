import math

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.diagnostics import TrainingHealth
from chainrule.train import fit


def toy(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def test_sgd_update_ratio_exact_on_one_step():
    X, y = toy(32)
    model = nn.Sequential(
        nn.Linear(8, 4, generator=0), nn.Tanh(), nn.Linear(4, 2, generator=1)
    ).double()
    weights = {n: p.data.copy() for n, p in model.named_parameters()}
    health = TrainingHealth(every=1, verbose=False)
    lr = 0.1
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=lr),
        epochs=1,
        batch_size=32,
        callbacks=[health],
        progress=False,
        verbose=0,
        shuffle=False,
    )
    for name, p in model.named_parameters():
        grad_norm = health.grad_norms[name][0]
        expected = lr * grad_norm / np.linalg.norm(weights[name])
        assert health.update_ratios[name][0] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(
            np.linalg.norm(p.data - weights[name]), lr * grad_norm, rtol=1e-12
        )


def test_three_dead_units_of_ten_are_counted_exactly():
    X, y = toy()
    model = nn.Sequential(
        nn.Linear(8, 10, generator=0), nn.ReLU(), nn.Linear(10, 2, generator=1)
    ).double()
    model[0].bias.data[[1, 4, 7]] = -1e6
    health = TrainingHealth(every=5, verbose=False)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.01),
        epochs=2,
        batch_size=32,
        callbacks=[health],
        progress=False,
        verbose=0,
        generator=0,
    )
    assert health.dead_units["1"] == [3, 3]
    assert health.dead_fraction["1"] == [0.3, 0.3]
    assert not any("dead units" in w for w in health.warnings())  # 30% < the 40% threshold
    model[0].bias.data[:6] = -1e6
    health2 = TrainingHealth(every=5, verbose=False)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.01),
        epochs=1,
        batch_size=32,
        callbacks=[health2],
        progress=False,
        verbose=0,
        generator=0,
    )
    assert health2.dead_units["1"] == [7]
    assert any(w.startswith("dead units: 7 of 10") for w in health2.warnings())


def test_deep_sigmoid_network_with_small_weights_is_flagged_as_vanishing():
    X, y = toy()
    g = np.random.default_rng(0)
    layers = []
    for i in range(10):
        linear = nn.Linear(8, 8 if i < 9 else 2, generator=g)
        linear.weight.data *= 0.2
        layers += [linear, nn.Sigmoid()] if i < 9 else [linear]
    model = nn.Sequential(*layers)
    health = TrainingHealth(every=2, verbose=False)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        batch_size=32,
        callbacks=[health],
        progress=False,
        verbose=0,
        generator=0,
    )
    warnings = health.warnings()
    assert any(w.startswith("vanishing gradients") for w in warnings), warnings
    first, last = health.grad_norms["0.weight"][0], health.grad_norms["18.weight"][0]
    assert first / last < 1e-3


def test_a_healthy_mlp_on_digits_gets_no_warning():
    pytest.importorskip("sklearn")
    from chainrule.data import datasets

    bundle = datasets.load("digits")
    model = nn.Sequential(
        nn.Linear(64, 128, generator=0), nn.ReLU(), nn.Linear(128, 10, generator=1)
    )
    health = TrainingHealth(every=10, verbose=False)
    history = fit(
        model,
        (bundle.X_train, bundle.y_train),
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=1e-3),
        epochs=5,
        batch_size=32,
        callbacks=[health],
        progress=False,
        verbose=0,
        generator=0,
    )
    assert health.warnings() == []
    assert history.history["health_warnings"] == [0.0] * 5
    assert abs(health.initial_loss - math.log(10)) < 0.25 * math.log(10)


def test_exploding_learning_rate_and_nonfinite_values_are_reported():
    X, y = toy()
    model = nn.Sequential(nn.Linear(8, 16, generator=0), nn.ReLU(), nn.Linear(16, 2, generator=1))
    health = TrainingHealth(every=1, verbose=False)
    with np.errstate(all="ignore"):
        fit(
            model,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=1e4),
            epochs=1,
            batch_size=32,
            callbacks=[health],
            progress=False,
            verbose=0,
            generator=0,
        )
    text = " ".join(health.warnings())
    assert "update ratio" in text and "too high" in text
    assert sum(health.nonfinite.values()) > 0 and "non-finite values" in text


def test_report_json_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = toy()
    model = nn.Sequential(nn.Linear(8, 16, generator=0), nn.ReLU(), nn.Linear(16, 2, generator=1))
    health = TrainingHealth(every=2, verbose=False)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=1e-3),
        epochs=2,
        batch_size=32,
        callbacks=[health],
        progress=False,
        verbose=0,
        generator=0,
    )
    health.save(tmp_path / "diagnostics.json")
    import json

    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert set(report["layers"]) == {"0", "1", "2"}
    assert len(report["parameters"]["0.weight"]["grad_norm"]) == len(report["steps"])
    paths = health.plot(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in paths] == [
        "gradient_norms.png",
        "update_ratios.png",
        "dead_units.png",
    ]


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        TrainingHealth(every=0)
    with pytest.raises(ValueError, match="unknown thresholds"):
        TrainingHealth(thresholds={"nope": 1})
