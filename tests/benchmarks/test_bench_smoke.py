"""Smoke test of the benchmark driver: one small workload, one repeat, no timing assertions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

run = pytest.importorskip("benchmarks.run")


@pytest.mark.parametrize("separate", [True, False], ids=["separate-processes", "in-process"])
def test_run_mlp_inference_writes_json_and_markdown(tmp_path, separate):
    report = run.run(only=["mlp_inference"], quick=True, memory=False, use_torch=False, out=tmp_path,
                     verbose=False, separate=separate)
    (row,) = report["rows"]
    assert row["workload"] == "mlp_inference"
    assert "error" not in row, row.get("error")
    assert set(row["timings"]) == {"chainrule"}
    assert row["timings"]["chainrule"]["median_s"] > 0
    assert report["gemm_ceiling"]["best_gflops"] > 0
    assert (tmp_path / "latest.json").is_file()
    table = (tmp_path / "latest.md").read_text()
    assert "| mlp_inference |" in table
    assert ("own subprocess" in table) == separate


def test_flops_count_of_the_mlp_step():
    from benchmarks.bench_mlp import mlp_flops_per_step

    # forward 2·N·(784·256 + 256·256 + 256·10); backward dW for all three layers, dX for the last two
    forward = 2 * 128 * (784 * 256 + 256 * 256 + 256 * 10)
    assert mlp_flops_per_step() == 2 * forward + 2 * 128 * (256 * 256 + 256 * 10)


def test_unknown_only_name_is_refused():
    with pytest.raises(SystemExit, match="no workload matches"):
        run._select(["no-such-workload"])
