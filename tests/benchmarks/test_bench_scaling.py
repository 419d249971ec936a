"""Smoke test of ``python -m benchmarks.bench_scaling --quick``: it runs, writes its three files,
and counts graph nodes right. No timing assertions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

bench_scaling = pytest.importorskip("benchmarks.bench_scaling")
pytest.importorskip("matplotlib")


def test_quick_run_writes_json_markdown_and_png(tmp_path):
    report = bench_scaling.run(quick=True, use_torch=False, out=tmp_path, verbose=False)
    sweeps = {p["sweep"] for p in report["points"]}
    assert sweeps == {"mlp_batch", "mlp_width", "cnn_batch", "lstm_batch"}
    assert all(p["timings"]["chainrule"]["median_s"] > 0 for p in report["points"])
    batch_one = [p for p in report["points"] if p["batch"] == 1]
    assert {p["model"] for p in batch_one} == {"mlp", "cnn", "lstm"}
    assert all(p["chainrule_us_per_op"] > 0 for p in batch_one)
    saved = json.loads((tmp_path / "scaling.json").read_text())
    assert len(saved["points"]) == len(report["points"])
    table = (tmp_path / "scaling.md").read_text()
    assert "| mlp_width | 128 | 64 |" in table
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_node_count_of_the_mlp_step():
    # Linear, ReLU, Linear, ReLU, Linear, cross_entropy: six recorded calls
    step = bench_scaling.chainrule_step("mlp", 2, 8)
    assert bench_scaling.chainrule_graph_nodes(step.loss()) == 6


def test_torch_graph_node_count_of_the_mlp_step():
    pytest.importorskip("torch")
    step = bench_scaling.torch_step("mlp", 2, 8)
    # three Addmm + three transposes of the weights, two ReLU, log_softmax, nll_loss
    assert bench_scaling.torch_graph_nodes(step.loss()) == 10
