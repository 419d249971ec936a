"""The run folder's life: run.json, resume with the run's settings, interruption, early stopping,
and predict giving what train's data means (header-matched columns, names, probabilities)."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import chainrule.train
from chainrule.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


SPIRALS_SGD = ["--data", "spirals", "--optimizer", "sgd", "--lr", "0.05", "--schedule",
               "constant", "--hidden", "16,8", "--dropout", "0", "--seed", "3", "--no-progress"]
"""A small run whose settings differ from every default, so a resume that forgot them shows."""


def history_epochs(folder):
    with open(folder / "history.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.fixture
def sgd_run(tmp_path, capsys):
    out = tmp_path / "sgd"
    code, _, err = run(capsys, "train", *SPIRALS_SGD, "--epochs", "2", "--out", out)
    assert code == 0, err
    return out


def test_run_json_records_the_configuration(sgd_run):
    document = json.loads((sgd_run / "run.json").read_text())
    config = document["config"]
    assert document["status"] == "finished" and document["epochs_completed"] == 2
    assert (
        config["data"],
        config["optimizer"],
        config["lr"],
        config["hidden"],
        config["seed"],
    ) == ("spirals", "sgd", 0.05, [16, 8], 3)
    assert config["schedule"] == "constant" and config["batch_size"] == 64
    assert set(document["versions"]) == {"chainrule", "numpy", "python"}
    model = chainrule.load(sgd_run / "model")
    assert model.get_config()["hidden"] == [16, 8] and model.get_config()["dropout"] == 0.0


def test_resume_uses_the_runs_settings(sgd_run, capsys):
    code, out, err = run(capsys, "train", "--resume", sgd_run, "--epochs", "4", "--no-progress")
    assert code == 0, err
    assert "note: --epochs 4 overrides the run's epochs 2" in out
    assert "spirals" in out and "sgd lr=0.05" in out and "Epoch 3/4" in out
    assert "Epoch 1/4" not in out
    assert history_epochs(sgd_run) == [0, 1, 2, 3]
    assert json.loads((sgd_run / "run.json").read_text())["epochs_completed"] == 4


def test_resume_continues_the_same_numbers_as_an_uninterrupted_run(sgd_run, tmp_path, capsys):
    straight = tmp_path / "straight"
    code, _, err = run(capsys, "train", *SPIRALS_SGD, "--epochs", "4", "--out", straight)
    assert code == 0, err
    assert run(capsys, "train", "--resume", sgd_run, "--epochs", "4", "--no-progress")[0] == 0
    resumed = json.loads((sgd_run / "metrics.json").read_text())
    full = json.loads((straight / "metrics.json").read_text())
    assert resumed["final_loss"] == pytest.approx(full["final_loss"], rel=1e-6)


def test_resuming_a_finished_run_changes_nothing(sgd_run, capsys):
    before = {p.name: p.read_bytes() for p in sgd_run.iterdir() if p.is_file()}
    code, out, _ = run(capsys, "train", "--resume", sgd_run)
    assert code == 0 and "already finished 2 epochs; nothing to do" in out
    assert {p.name: p.read_bytes() for p in sgd_run.iterdir() if p.is_file()} == before


def _interrupt_after(epochs, monkeypatch):
    """Make fit stop with Ctrl-C right after ``epochs`` epochs were checkpointed."""
    real_fit = chainrule.train.fit

    def fit_then_interrupt(*args, **kwargs):
        real_fit(*args, **{**kwargs, "epochs": epochs})
        raise KeyboardInterrupt

    monkeypatch.setattr(chainrule.train, "fit", fit_then_interrupt)


def test_interrupted_run_says_how_to_resume_and_resumes(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    _interrupt_after(2, monkeypatch)
    code, _, err = run(
        capsys, "train", "--data", "xor", "--epochs", "4", "--out", out, "--no-progress"
    )
    assert code == 130
    assert f"2 epochs are saved in {out / '.partial'}" in err
    assert f"chainrule train --resume {out}" in err
    assert not (out / "model").exists() and (out / ".partial" / "checkpoint.safetensors").exists()
    code, _, err = run(capsys, "train", "--out", out, "--data", "xor")
    assert code == 2 and "holds an interrupted run" in err
    # a kill between an epoch's CSV row and its checkpoint leaves one row too many
    with open(out / ".partial" / "history.csv", "a") as handle:
        handle.write("2,9.9,0.5,9.9,0.5,0.001,0.1\n")
    monkeypatch.undo()
    code, text, err = run(capsys, "train", "--resume", out, "--no-progress")
    assert code == 0, err
    assert "Epoch 3/4" in text and "Epoch 2/4" not in text
    assert history_epochs(out) == [0, 1, 2, 3]
    assert not (out / ".partial").exists() and (out / "model").is_dir()


def test_csv_logger_drops_rows_after_the_checkpoint_on_resume(tmp_path):
    import chainrule.nn as nn
    import chainrule.optim as optim

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)).astype(np.float32), np.arange(40) % 2
    path, ckpt = tmp_path / "h.csv", tmp_path / "c.safetensors"

    def train(epochs, resume):
        model = nn.Sequential(
            nn.Linear(2, 4, generator=np.random.default_rng(1)),
            nn.ReLU(),
            nn.Linear(4, 2, generator=np.random.default_rng(2)),
        )
        chainrule.train.fit(
            model,
            (X, y),
            loss="cross_entropy",
            epochs=epochs,
            verbose=0,
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            progress=False,
            callbacks=[chainrule.train.CSVLogger(path), chainrule.train.ModelCheckpoint(ckpt)],
            resume_from=ckpt if resume else None,
        )

    train(2, resume=False)
    with open(path, "a") as handle:
        handle.write("2,0.5,0.1,0.2\n")  # the row of an epoch whose checkpoint never landed
    train(3, resume=True)
    with open(path, newline="") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [0, 1, 2]


def test_patience_stops_early_and_restores_the_best_weights(tmp_path, capsys):
    out = tmp_path / "run"
    code, text, err = run(
        capsys,
        "train",
        "--data",
        "xor",
        "--epochs",
        "60",
        "--patience",
        "2",
        "--schedule",
        "constant",
        "--lr",
        "0.01",
        "--out",
        out,
        "--no-progress",
    )
    assert code == 0, err
    assert "early stopping: val_loss did not improve for 2 epochs" in text
    history = json.loads((out / "metrics.json").read_text())
    assert history["epochs"] < 60


def test_whole_number_float_labels_classify_with_a_note_unless_task_says(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    rows = [f"{x[0]:.3f},{x[1]:.3f},{float(x[0] > 0):.1f}" for x in X]
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "\n".join(rows) + "\n")
    code, text, err = run(
        capsys, "train", "--data", data, "--epochs", "1", "--out", tmp_path / "c", "--no-progress"
    )
    assert code == 0, err
    assert "holds whole numbers only" in text and "test_accuracy" in text
    code, text, err = run(
        capsys,
        "train",
        "--data",
        data,
        "--task",
        "regression",
        "--epochs",
        "1",
        "--out",
        tmp_path / "r",
        "--no-progress",
    )
    assert code == 0, err
    assert "test_r2" in text and (tmp_path / "r" / "predicted_vs_true.png").exists()


@pytest.fixture
def csv_run(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    kinds = np.where(X[:, 0] > 0, "up", "down")
    train = tmp_path / "train.csv"
    train.write_text(
        "a;kind;b;c\n"
        + "\n".join(f"{x[0]:.4f};{k};{x[1]:.4f};{x[2]:.4f}" for x, k in zip(X, kinds, strict=True))
        + "\n"
    )
    test = tmp_path / "test.csv"
    test.write_text(
        "a;kind;b;c\n"
        + "\n".join(
            f"{x[0]:.4f};{k};{x[1]:.4f};{x[2]:.4f}" for x, k in zip(X[:30], kinds[:30], strict=True)
        )
        + "\n"
    )
    out = tmp_path / "run"
    code, text, err = run(
        capsys,
        "train",
        "--data",
        train,
        "--target",
        "kind",
        "--test-data",
        test,
        "--epochs",
        "3",
        "--out",
        out,
        "--no-progress",
    )
    assert code == 0, err
    assert "(150 train / 30 test)" in text
    return out, X


def test_predict_matches_columns_by_name_and_writes_what_it_shows(csv_run, tmp_path, capsys):
    out, X = csv_run
    ordered = tmp_path / "ordered.csv"
    ordered.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in x) for x in X[:8]))
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("c,a,b\n" + "\n".join(f"{x[2]:.4f},{x[0]:.4f},{x[1]:.4f}" for x in X[:8]))
    code, first, _ = run(capsys, "predict", out, ordered)
    assert code == 0 and set(first.split()) <= {"up", "down"}
    assert run(capsys, "predict", out, shuffled)[1] == first
    assert run(capsys, "predict", out, shuffled, "--out", tmp_path / "p.csv")[0] == 0
    assert (tmp_path / "p.csv").read_text() == first
    code, text, _ = run(capsys, "predict", out, ordered, "--proba")
    lines = text.strip().splitlines()
    assert lines[0] == "label,p(down),p(up)"
    for line, label in zip(lines[1:], first.split(), strict=True):
        name, *probabilities = line.split(",")
        values = [float(p) for p in probabilities]
        assert name == label and sum(values) == pytest.approx(1, abs=1e-5)
        assert name == ("down", "up")[int(np.argmax(values))]


def test_predict_reads_npz_like_train(csv_run, tmp_path, capsys):
    out, X = csv_run
    np.savez(tmp_path / "x.npz", X=X[:8, [0, 1, 2]])
    ordered = tmp_path / "ordered.csv"
    ordered.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in x) for x in X[:8]))
    assert (
        run(capsys, "predict", out, tmp_path / "x.npz")[1]
        == run(capsys, "predict", out, ordered)[1]
    )


def test_predict_reads_an_estimator_folder(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from chainrule.estimators import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with pytest.warns(Warning):
        estimator.fit(X, y)
    estimator.save(tmp_path / "est")
    np.save(tmp_path / "x.npy", X[:5])
    code, text, err = run(capsys, "predict", tmp_path / "est", tmp_path / "x.npy")
    assert code == 0, err
    assert text.split() == [str(v) for v in estimator.predict(X[:5])]
    code, text, _ = run(capsys, "predict", tmp_path / "est", tmp_path / "x.npy", "--proba")
    expected = estimator.predict_proba(X[:5])
    got = np.array(
        [[float(v) for v in line.split(",")[1:]] for line in text.strip().splitlines()[1:]]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert run(capsys, "inspect", tmp_path / "est")[0] == 0


def test_gradcheck_model_checks_large_tensors_by_sampling(sgd_run, capsys):
    code, text, _ = run(capsys, "gradcheck", "--model", sgd_run, "--max-params", "20")
    assert code == 0, text
    assert "net.1.weight (16, 2)" in text and "20 sampled" in text
    assert "0 failed, 0 skipped" in text and "randomly chosen elements" in text


def test_broken_pipe_is_quiet():
    result = subprocess.run(
        f"{sys.executable} -m chainrule datasets | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == "" and result.stdout.startswith("name")
    status = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, subprocess; p = subprocess.Popen([sys.executable, "
            "'-m', 'chainrule', 'datasets'], stdout=subprocess.PIPE); p.stdout.close(); "
            "sys.exit(p.wait())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0 and "Error" not in status.stderr


def test_plots_are_readable(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    names = [f"a rather long class name {k}" for k in range(10)]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    label = (np.floor((X[:, 0] + 3) * 10 / 6).clip(0, 9)).astype(int)
    data = tmp_path / "long.csv"
    data.write_text(
        "a,b,kind\n"
        + "\n".join(f"{x[0]:.3f},{x[1]:.3f},{names[k]}" for x, k in zip(X, label, strict=True))
    )
    assert (
        run(capsys, "train", "--data", data, "--epochs", "2", "--out", out, "--no-progress")[0] == 0
    )
    from matplotlib import image

    picture = image.imread(out / "confusion_matrix.png")
    assert picture.shape[1] > 700  # wide enough for rotated long labels
    assert {p.name for p in out.glob("*.png")} == {
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
    }


def test_a_full_disk_names_the_folder_and_keeps_the_run(tmp_path, capsys, monkeypatch):
    import errno

    import chainrule.io

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(chainrule.io, "save", no_space)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--data", "xor", "--epochs", "1", "--out", out,
                       "--no-progress")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "[Errno" not in err
    assert f"No space left on device (writing {out / '.partial'})" in lines[0]
    assert f"--resume {out}" in lines[0] and not (out / "model").exists()


def test_ctrl_c_while_starting_is_one_line(capsys, monkeypatch):
    import chainrule.data.datasets

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(chainrule.data.datasets, "load", interrupted)
    code, _, err = run(capsys, "train", "--no-progress")
    assert code == 130 and err == "chainrule: interrupted\n"
