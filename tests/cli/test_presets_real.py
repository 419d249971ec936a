"""The presets reach their accuracy targets on real data with the CLI's defaults (issue 5).

Each test runs ``chainrule train --data D --model M`` exactly as a user would
(seed 0, every other option at its default) and reads the test accuracy from
the run's ``metrics.json``. They are slow (seconds to ~10 minutes each on two
cores), so they are marked ``slow``: run them with ``pytest -m slow tests/cli``.
docs/readme/results.md lists the measured accuracies and times.
"""

from __future__ import annotations

import json

import pytest

from chainrule.cli import main
from chainrule.data import datasets

TARGETS = [
    # (data, preset, minimum test accuracy, published reference)
    ("digits", "mlp", 0.97, None),
    ("mnist1d", "mlp", 0.68, "MNIST-1D paper: MLP 68%"),
    ("mnist1d", "cnn", 0.94, "MNIST-1D paper: CNN 94%"),
    ("mnist1d", "gru", 0.91, "MNIST-1D paper: GRU 91%"),
    ("fashion-mnist", "mlp", 0.89, "Fashion-MNIST benchmark: MLP 256-128-100 0.883"),
    ("fashion-mnist", "cnn", 0.92, "Fashion-MNIST benchmark: 2 conv + pooling 0.876-0.916"),
]


def _available(name):
    return next(info.available for info in datasets.list_datasets() if info.name == name)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    ("data", "preset", "target", "reference"), TARGETS, ids=[f"{d}-{m}" for d, m, _, _ in TARGETS]
)
def test_preset_reaches_target(tmp_path, capsys, data, preset, target, reference):
    if not _available(data):
        pytest.skip(f"{data} is not available on this machine (see 'chainrule datasets')")
    out = tmp_path / "run"
    code = main(["train", "--data", data, "--model", preset, "--no-progress", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seed"] == 0 and metrics["model"] == preset
    assert metrics["test_accuracy"] >= target, (
        f"{data}/{preset}: test accuracy {metrics['test_accuracy']:.4f} < target {target} "
        f"({reference or 'no published figure'}); {metrics['epochs']} epochs in "
        f"{metrics['train_time_s']:.0f} s"
    )
    assert metrics["train_time_s"] < 15 * 60, (
        f"{data}/{preset} took {metrics['train_time_s']:.0f} s (> 15 min)"
    )
