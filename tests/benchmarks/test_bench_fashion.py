"""The Fashion-MNIST cnn-preset workload: its PyTorch copy is the same network, an epoch runs,
and the suite skips it cleanly when the data are absent. No timing assertions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

run = pytest.importorskip("benchmarks.run")
from benchmarks import bench_fashion  # noqa: E402


def test_absent_data_is_skipped_with_the_reason(monkeypatch, tmp_path):
    import chainrule.data.datasets.files as files

    monkeypatch.setattr(files, "find_fashion_mnist", lambda root=None: None)
    report = run.run(only=["fashion"], quick=True, memory=False, use_torch=False, out=tmp_path,
                     verbose=False)
    (row,) = report["rows"]
    assert row["workload"] == "fashion_cnn_epoch"
    assert "not found" in row["skipped"]
    assert "| fashion_cnn_epoch | skipped: " in (tmp_path / "latest.md").read_text()


def test_torch_copy_has_the_presets_parameters():
    pytest.importorskip("torch")
    shape = (1, 28, 28)
    ours = [tuple(p.shape) for p in bench_fashion._preset(shape, 10).parameters()]
    theirs = [tuple(p.shape) for p in bench_fashion.torch_copy_of_preset(shape, 10).parameters()]
    assert ours == theirs
    assert len(ours) == 3 * 4 + 4  # conv weight, bias, BN weight, bias per block; two Linear


def test_an_epoch_on_a_few_images_runs():
    if bench_fashion.available() is not None:
        pytest.skip(bench_fashion.available())
    bench_fashion.chainrule_epoch(samples=64)()
