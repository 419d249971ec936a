"""Table-driven tests of the CLI as a new user meets it: every bad input gives exit status 2 (1
for a diverged run) with one line on stderr and no traceback, and nothing good is overwritten."""

import gzip
import hashlib
import io
import os
import shutil
import zipfile

import numpy as np
import pytest

from chainrule.cli import main

RUN_FILES = (
    "run.json",
    "checkpoint.safetensors",
    "metrics.json",
    "history.csv",
    os.path.join("model", "model.safetensors"),
)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def digest(folder):
    """The bytes of a run's files, to check that nothing changed."""
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in RUN_FILES
        if (folder / name).exists()
    }


def write_csv(path, header, rows, delimiter=","):
    lines = [delimiter.join(header)] + [delimiter.join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small data files, good and bad, shared by the cases."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).round(4)
    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    made = {}
    made["points"] = write_csv(
        root / "points.csv",
        ["label", "a", "b", "c"],
        [[f"{y:.1f}", *x] for y, x in zip(labels, X, strict=True)],
        ";",
    )
    made["one_class"] = write_csv(
        root / "one.csv", ["a", "b", "y"], [[i, i * 2, 1] for i in range(30)]
    )
    nan_rows = [[i, i % 2] for i in range(30)]
    nan_rows[3][0] = "inf"
    made["nan"] = write_csv(root / "nan.csv", ["a", "y"], nan_rows)
    made["tiny"] = write_csv(root / "tiny.csv", ["a", "y"], [[1, 0], [2, 1]])
    made["field"] = root / "field.csv"
    made["field"].write_text("a,y\n" + "1" * 200_000 + ",0\n2,1\n")
    made["new_points"] = write_csv(
        root / "new.csv", ["c", "a", "b"], [[x[2], x[0], x[1]] for x in X[:6]]
    )
    made["ordered_points"] = write_csv(root / "ordered.csv", ["a", "b", "c"], X[:6].tolist())
    made["wrong_columns"] = write_csv(root / "wrong.csv", ["a", "b", "d"], [[1, 2, 3]])
    buffer = io.BytesIO()
    np.savez(buffer, X=X, y=labels)
    made["truncated_npz"] = root / "cut.npz"
    made["truncated_npz"].write_bytes(buffer.getvalue()[:200])
    header = io.BytesIO()
    np.save(header, np.ones((3, 4)))
    huge = header.getvalue().replace(b"(3, 4)", b"(10000000000, 4)")
    made["declared_npz"] = root / "declared.npz"
    with zipfile.ZipFile(made["declared_npz"], "w") as archive:
        archive.writestr("X.npy", huge)
        archive.writestr("y.npy", header.getvalue())
    idx = root / "idx"
    idx.mkdir()
    from chainrule.data.datasets import write_idx

    for split, n in (("train", 40), ("t10k", 10)):
        write_idx(idx / f"{split}-images-idx3-ubyte.gz", np.zeros((n, 4, 4), np.uint8))
        write_idx(idx / f"{split}-labels-idx1-ubyte.gz", (np.arange(n) % 2).astype(np.uint8))
    made["idx"] = idx
    broken = root / "idx-broken"
    shutil.copytree(idx, broken)
    data = (broken / "train-images-idx3-ubyte.gz").read_bytes()
    (broken / "train-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    made["idx_truncated"] = broken
    bomb = root / "idx-bomb"
    shutil.copytree(idx, bomb)
    with gzip.open(bomb / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(
            bytes([0, 0, 8, 3])
            + (3000).to_bytes(4, "big")
            + (28).to_bytes(4, "big")
            + (28).to_bytes(4, "big")
            + bytes(3000 * 784)
        )
    made["idx_bomb"] = bomb
    made["file"] = root / "plain-file"
    made["file"].write_text("not a folder")
    return made


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A finished 2-epoch run on the default data."""
    out = tmp_path_factory.mktemp("runs") / "good"
    assert main(["train", "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture
def run_copy(good_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(good_run, copy)
    return copy


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory, files):
    out = tmp_path_factory.mktemp("runs") / "regression"
    assert (
        main(
            [
                "train",
                "--data",
                str(files["points"]),
                "--task",
                "regression",
                "--epochs",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    return out


# (name, argv with placeholders, exit status, fragment of the one stderr line)
CASES = [
    (
        "existing run refused",
        ["train", "--out", "{run}", "--epochs", "1"],
        2,
        "already holds a run",
    ),
    (
        "diverging resume keeps the run",
        ["train", "--resume", "{run}", "--epochs", "4", "--lr", "1e6"],
        1,
        "training diverged",
    ),
    (
        "adam lr 1e6 diverges",
        ["train", "--lr", "1e6", "--epochs", "2", "--out", "{new}"],
        1,
        "training diverged",
    ),
    (
        "sgd lr 50 diverges",
        ["train", "--optimizer", "sgd", "--lr", "50", "--epochs", "2", "--out", "{new}"],
        1,
        "training diverged",
    ),
    (
        "one class refused",
        ["train", "--data", "{one_class}", "--out", "{new}"],
        2,
        "at least 2 classes",
    ),
    ("inf named by line", ["train", "--data", "{nan}", "--out", "{new}"], 2, "line 5"),
    ("empty test split", ["train", "--data", "{tiny}", "--out", "{new}"], 2, "test split is empty"),
    (
        "overlong CSV field",
        ["train", "--data", "{field}", "--out", "{new}"],
        2,
        "field larger than field limit",
    ),
    (
        "truncated npz",
        ["train", "--data", "{truncated_npz}", "--out", "{new}"],
        2,
        "not a valid .npz",
    ),
    (
        "npy header declaring 149 GiB",
        ["train", "--data", "{declared_npz}", "--out", "{new}"],
        2,
        "declares shape (10000000000, 4)",
    ),
    (
        "truncated gzip IDX",
        ["train", "--data", "{idx_truncated}", "--out", "{new}"],
        2,
        "gzip stream is truncated or corrupt",
    ),
    (
        "IDX over --max-data-mb",
        ["train", "--data", "{idx_bomb}", "--max-data-mb", "1", "--out", "{new}"],
        2,
        "over the limit",
    ),
    ("negative seed names the option", ["train", "--seed", "-1"], 2, "--seed"),
    (
        "unwritable run folder",
        ["train", "--epochs", "1", "--out", "{file}/run"],
        2,
        "--out: cannot write",
    ),
    (
        "resume cannot change the model",
        ["train", "--resume", "{run}", "--model", "cnn"],
        2,
        "keeps its model",
    ),
    (
        "unknown target column",
        ["train", "--data", "{points}", "--target", "nosuch", "--out", "{new}"],
        2,
        "target column 'nosuch' not found",
    ),
    (
        "target on a named set",
        ["train", "--target", "1", "--out", "{new}"],
        2,
        "--target applies to CSV files",
    ),
    (
        "test data for a named set",
        ["train", "--test-data", "{points}", "--out", "{new}"],
        2,
        "has its own test split",
    ),
    ("bad hidden sizes", ["train", "--hidden", "64,0"], 2, "--hidden"),
    ("dropout out of range", ["train", "--dropout", "1.5"], 2, "--dropout"),
    (
        "recurrent preset has no dropout",
        ["train", "--model", "gru", "--dropout", "0.2", "--out", "{new}"],
        2,
        "no dropout",
    ),
    (
        "predict refuses other columns",
        ["predict", "{points_run}", "{wrong_columns}"],
        2,
        "missing column(s) ['c'] and unknown column(s) ['d']",
    ),
    (
        "proba of a regressor",
        ["predict", "{regression_run}", "{ordered_points}", "--proba"],
        2,
        "--proba: the model is a regressor",
    ),
    ("resume of a missing run", ["train", "--resume", "{new}"], 2, "--resume: no run folder"),
    (
        "test data of another kind",
        ["train", "--data", "{points}", "--test-data", "{truncated_npz}", "--out", "{new}"],
        2,
        "must be the same kind of file",
    ),
]


@pytest.fixture(scope="module")
def points_run(tmp_path_factory, files):
    out = tmp_path_factory.mktemp("runs") / "points"
    assert (
        main(
            [
                "train",
                "--data",
                str(files["points"]),
                "--target",
                "label",
                "--epochs",
                "2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    return out


@pytest.mark.parametrize("name, argv, status, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(
    name, argv, status, fragment, files, run_copy, points_run, regression_run, tmp_path, capsys
):
    places = {
        **{k: str(v) for k, v in files.items()},
        "run": str(run_copy),
        "new": str(tmp_path / "new-run"),
        "points_run": str(points_run),
        "regression_run": str(regression_run),
    }
    before = digest(run_copy)
    argv = [a.format(**places) for a in argv] + (["--no-progress"] if argv[0] == "train" else [])
    code, out, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and lines[0].startswith("chainrule: error:"), err
    assert fragment in lines[0] and "Traceback" not in err
    assert digest(run_copy) == before
    assert not (tmp_path / "new-run").exists() or not os.listdir(tmp_path / "new-run")
    if "diverge" not in name and argv[0] == "train":
        assert "Epoch 1/" not in out  # refused before training
