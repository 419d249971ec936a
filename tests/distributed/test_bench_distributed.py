"""Smoke test of benchmarks/bench_distributed.py: it runs and writes its table (no timings)."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py")
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
bench = pytest.importorskip("benchmarks.bench_distributed")


@pytest.mark.slow
def test_bench_distributed_writes_a_table(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "distributed.md"
    argv = ["--steps", "1", "--presets", "mlp", "--ranks", "1,2", "--out", str(out)]
    assert bench.main(argv) == 0
    table = out.read_text()
    assert "| mlp | 2 ranks × 1 BLAS thread |" in table
    assert (tmp_path / "distributed.json").is_file()
