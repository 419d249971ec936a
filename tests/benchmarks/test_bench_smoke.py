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
    report = run.run(
        only=["mlp_inference"],
        quick=True,
        memory=False,
        use_torch=False,
        out=tmp_path,
        verbose=False,
        separate=separate,
    )
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

    # forward 2·N·(784·256 + 256·256 + 256·10); backward dW for all three layers, dX for the last
    # two
    forward = 2 * 128 * (784 * 256 + 256 * 256 + 256 * 10)
    assert mlp_flops_per_step() == 2 * forward + 2 * 128 * (256 * 256 + 256 * 10)


def test_unknown_only_name_is_refused():
    with pytest.raises(SystemExit, match="no workload matches"):
        run._select(["no-such-workload"])


def test_mlp_breakdown_times_its_five_parts():
    from benchmarks import bench_mlp_breakdown

    timings = bench_mlp_breakdown.run(rounds=1, per_round=1)
    assert set(timings) == {
        "full step",
        "without opt.step()",
        "plain NumPy step",
        "eight GEMMs in NumPy",
        "GEMM 512³",
    }
    assert all(t["median_s"] > 0 for t in timings.values())


def test_mlp_breakdown_gemms_are_the_steps_products():
    """The bare-NumPy GEMMs give the chainrule step's weight gradients (checked on δ = logits)."""
    import numpy as np
    from benchmarks.bench_mlp import _data, chainrule_mlp

    import chainrule as cr
    from benchmarks import bench_mlp_breakdown

    gemms = bench_mlp_breakdown.candidates()["eight GEMMs in NumPy"]
    g3, g2, g1 = gemms()
    # the same products from a linear (no ReLU) chainrule model with loss Σ ½‖logits‖², whose δ is
    # the logits
    model = chainrule_mlp()
    linear = [m for m in model if hasattr(m, "weight")]
    x = cr.tensor(_data()[0])
    for layer in linear:
        x = x @ layer.weight.T
    (0.5 * (x * x).sum()).backward()
    for ours, layer in zip((g1, g2, g3), linear, strict=True):
        np.testing.assert_allclose(ours, layer.weight.grad, rtol=2e-3, atol=1e-3)


def test_mlp_breakdown_plain_numpy_step_is_the_chainrule_step():
    """The hand-written floor does the chainrule step's arithmetic.

    Three SGD steps give the same weights.
    """
    import numpy as np
    from benchmarks.bench_mlp import _data, chainrule_mlp

    import chainrule as cr
    import chainrule.functional as F
    from benchmarks import bench_mlp_breakdown
    from chainrule import optim

    X, y = _data()
    model = chainrule_mlp()
    params = [p.data.copy() for p in model.parameters()]
    plain = bench_mlp_breakdown.plain_numpy_step(params, X, y)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(cr.tensor(X)), y).backward()
        opt.step()
        plain()
    for ours, p in zip(params, model.parameters(), strict=True):
        np.testing.assert_allclose(ours, p.data, rtol=1e-5, atol=1e-6)


def test_blas_products_are_the_steps_products():
    """bench_blas times exactly the step's products: their FLOPs add up to the step's count."""
    from benchmarks.bench_blas import products, run
    from benchmarks.bench_mlp import mlp_flops_per_step

    ops = products()
    assert len(ops) == 8
    assert (
        sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in ops.values())
        == mlp_flops_per_step()
    )
    assert all(a.shape[1] == b.shape[0] for a, b in ops.values())
    timings = run(rounds=1, per_round=1, use_torch=False)
    assert set(timings) == {f"numpy {name}" for name in ops}
