"""chainrule train --diagnose, chainrule explain, chainrule lr-find."""

import json

import pytest

from chainrule.cli import main

pytest.importorskip("safetensors")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("diag") / "run"
    assert main(["train", "--epochs", "2", "--diagnose", "--out", str(out), "--no-progress"]) == 0
    return out


def test_diagnose_writes_the_report_and_plots(run):
    report = json.loads((run / "diagnostics.json").read_text())
    assert report["warnings"] == []
    assert {"net.1.weight", "net.4.weight", "net.7.weight"} <= set(report["parameters"])
    assert len(report["parameters"]["net.1.weight"]["grad_norm"]) == len(report["steps"]) > 0
    pytest.importorskip("matplotlib")
    for name in ("gradient_norms.png", "update_ratios.png", "dead_units.png"):
        assert (run / name).stat().st_size > 10_000
    assert json.loads((run / "run.json").read_text())["config"]["diagnose"] is True


def test_explain_prints_checked_equations(run, capsys):
    assert main(["explain", str(run), "--samples", "8"]) == 0
    out = capsys.readouterr().out
    assert "δ⁽³⁾ = ∂J/∂z⁽³⁾  (8×10)" in out
    assert "δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ g'(z⁽¹⁾)" in out and "all checks agree" in out
    assert "MISMATCH" not in out


def test_explain_refuses_a_cnn(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cnn"
    assert (
        main(["train", "--model", "cnn", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    )
    capsys.readouterr()
    assert main(["explain", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "explain" in err[0]


def test_lr_find_plots_and_suggests(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "lr.png"
    assert main(["lr-find", "--steps", "40", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    assert "suggested learning rate" in out and png.stat().st_size > 10_000
    assert main(["lr-find", "--start-lr", "1", "--end-lr", "0.1"]) == 2
    assert main(["lr-find", "--model", "resnet"]) == 2
