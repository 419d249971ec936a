import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    assert main(["train", "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    return out


def test_train_writes_the_run_folder(trained_run):
    names = set(os.listdir(trained_run))
    assert {"model", "checkpoint.safetensors", "metrics.json", "history.csv"} <= names
    assert {"loss.png", "accuracy.png", "confusion_matrix.png"} <= names
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["data"] == "digits" and metrics["model"] == "mlp"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["train_time_s"] > 0
    assert len((trained_run / "history.csv").read_text().strip().splitlines()) == 3


def test_evaluate_json_matches_metrics(trained_run, capsys):
    code, out, _ = run(capsys, "evaluate", str(trained_run), "--json")
    assert code == 0
    results = json.loads(out)
    saved = json.loads((trained_run / "metrics.json").read_text())
    assert results["accuracy"] == pytest.approx(saved["test_accuracy"])
    code, out, _ = run(capsys, "evaluate", str(trained_run / "model"), "--data", "digits")
    assert code == 0 and "accuracy:" in out


def test_resume_continues_from_checkpoint(trained_run, tmp_path, capsys):
    out = tmp_path / "resumed"
    code, text, _ = run(
        capsys,
        "train",
        "--epochs",
        "3",
        "--resume",
        str(trained_run / "checkpoint.safetensors"),
        "--out",
        str(out),
        "--no-progress",
    )
    assert code == 0
    assert "Epoch 3/3" in text and "Epoch 1/3" not in text
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_predict_prints_labels(trained_run, tmp_path, capsys, suffix):
    from chainrule.data import datasets

    bundle = datasets.load("digits")
    X = bundle.X_test[:5]  # already in the model's scale
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(path, X)
    else:
        np.savetxt(path, X, delimiter=",", header=",".join(bundle.feature_names), comments="")
    code, out, _ = run(capsys, "predict", str(trained_run), str(path), "--no-preprocess")
    assert code == 0
    labels = [int(line) for line in out.split()]
    assert len(labels) == 5 and all(0 <= v < 10 for v in labels)
    code, _, _ = run(
        capsys,
        "predict",
        str(trained_run),
        str(path),
        "--no-preprocess",
        "--out",
        str(tmp_path / "p.npy"),
    )
    assert code == 0 and np.load(tmp_path / "p.npy").tolist() == [str(v) for v in labels]


def test_predict_idx(trained_run, tmp_path, capsys):
    from chainrule.data.datasets import write_idx

    path = tmp_path / "x-idx2-ubyte"
    write_idx(path, np.zeros((3, 64), dtype=np.float32))
    code, out, _ = run(capsys, "predict", str(trained_run), str(path))
    assert code == 0 and len(out.split()) == 3


def test_inspect_table(trained_run, capsys):
    code, out, _ = run(capsys, "inspect", str(trained_run))
    assert code == 0
    assert "Linear" in out and "(N, 10)" in out and "total parameters: 167,178" in out


def test_datasets_lists_digits(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "digits" in out and "mnist1d" in out
    code, out, _ = run(capsys, "datasets", "--json")
    assert any(entry["name"] == "digits" and entry["available"] for entry in json.loads(out))


def test_gradcheck_suite_passes(capsys):
    code, out, _ = run(capsys, "gradcheck")
    assert code == 0, out
    assert "nn.Linear" in out and "FAIL" not in out


def test_gradcheck_on_model(trained_run, capsys):
    code, out, _ = run(capsys, "gradcheck", "--model", str(trained_run), "--max-params", "700")
    assert code == 0, out
    assert "model input" in out and "net.7.bias" in out


@pytest.mark.parametrize("preset", ["mlp", "cnn", "gru", "lstm"])
def test_each_preset_trains_one_epoch(tmp_path, capsys, preset):
    out = tmp_path / preset
    code, text, err = run(
        capsys,
        "train",
        "--data",
        "xor",
        "--model",
        preset,
        "--epochs",
        "1",
        "--out",
        str(out),
        "--no-progress",
    )
    assert code == 0, err
    assert "test_accuracy" in text
    import chainrule

    model = chainrule.load(out / "model")
    assert type(model).__name__ == {"mlp": "MLP", "cnn": "CNN"}.get(preset, "RecurrentNet")


def test_cnn_preset_on_images(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "train",
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--batch-size",
        "128",
        "--out",
        str(tmp_path / "r"),
        "--no-progress",
    )
    assert code == 0, err


def test_train_from_config_json(tmp_path, capsys):
    config = {
        "type": "Sequential",
        "config": {},
        "children": {
            "0": {
                "type": "Linear",
                "config": {"in_features": 64, "out_features": 10},
                "children": {},
            }
        },
    }
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(config))
    code, _, err = run(
        capsys,
        "train",
        "--model",
        str(path),
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "r"),
        "--no-progress",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
    )
    assert code == 0, err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--data", "no-such-set"], "unknown dataset"),
        (["train", "--epochs", "0"], "positive integer"),
        (["train", "--optimizer", "lbfgs"], "invalid choice"),
        (["train", "--model", "transformer"], "--model"),
        (["evaluate", "/no/such/run"], "no model or run folder"),
        (["predict", "/no/such/model", "x.npy"], "no model or run folder"),
        (["inspect", "/no/such/model"], "no model or run folder"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error:"), err
    assert fragment in lines[0] and "Traceback" not in err


def test_bad_model_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    code, _, err = run(capsys, "inspect", str(bad))
    assert code == 2 and err.startswith("chainrule: error:") and "safetensors" in err


def test_debug_shows_traceback(capsys):
    with pytest.raises(ValueError, match="unknown dataset"):
        main(["train", "--data", "no-such-set", "--debug"])


def test_failed_run_keeps_the_good_model(trained_run, tmp_path, capsys, monkeypatch):
    import shutil

    import chainrule.train

    real_fit = chainrule.train.fit

    def fit_then_crash(*args, **kwargs):
        real_fit(*args, **kwargs)
        raise RuntimeError("simulated crash after training")

    monkeypatch.setattr(chainrule.train, "fit", fit_then_crash)
    out = tmp_path / "run"
    shutil.copytree(trained_run, out)
    before = (out / "model" / "model.safetensors").read_bytes()
    code, _, err = run(
        capsys, "train", "--out", str(out), "--epochs", "1", "--no-progress", "--overwrite"
    )
    assert code == 2 and "simulated crash" in err
    assert (out / "model" / "model.safetensors").read_bytes() == before


def test_help_for_every_command(capsys):
    for command in ["train", "evaluate", "predict", "inspect", "datasets", "gradcheck"]:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "usage: chainrule " + command in out


def test_python_dash_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "train" in result.stdout and "gradcheck" in result.stdout


@pytest.mark.slow
def test_default_train_reaches_097_on_digits(tmp_path, capsys):
    code, _out, _ = run(capsys, "train", "--out", str(tmp_path / "r"), "--no-progress")
    assert code == 0
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["test_accuracy"] >= 0.97


def test_predict_refuses_wrong_sizes_and_nan(trained_run, tmp_path, capsys):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.ones((3, 10), dtype=np.float32))
    code, _, err = run(capsys, "predict", str(trained_run), str(wrong))
    assert code == 2 and "has 10 values per sample, but the model expects 64" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    nan = tmp_path / "nan.npy"
    data = np.zeros((2, 64), dtype=np.float32)
    data[1, 5] = np.nan
    np.save(nan, data)
    code, _, err = run(capsys, "predict", str(trained_run), str(nan))
    assert code == 2 and "1 NaN or infinite value; the first is at record 1, position (5,)" in err
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((2, 64), dtype=np.float32))
    code, _, err = run(
        capsys, "predict", str(trained_run), str(good), "--out", str(tmp_path / "nowhere" / "p.csv")
    )
    assert code == 2 and "does not exist" in err and ".tmp" not in err
