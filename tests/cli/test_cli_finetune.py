"""chainrule finetune and chainrule train --init-from."""

import json

import numpy as np
import pytest

from chainrule.cli import main

pytest.importorskip("safetensors")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ft")
    code = main(["train", "--epochs", "1", "--out", str(folder / "base"), "--no-progress"])
    assert code == 0
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = digits.target >= 5
    np.savez(folder / "new.npz", X=digits.data[keep].astype(np.float32), y=digits.target[keep] - 5)
    np.savez(
        folder / "narrow.npz",
        X=digits.data[keep][:, :30].astype(np.float32),
        y=digits.target[keep] - 5,
    )
    return folder


def test_finetune_writes_a_run_that_records_its_origin(base_run, capsys):
    out = base_run / "ft"
    code = main(
        [
            "finetune",
            str(base_run / "base"),
            "--data",
            str(base_run / "new.npz"),
            "--epochs",
            "2",
            "--freeze-epochs",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "new head" in printed
    document = json.loads((out / "run.json").read_text())
    assert document["status"] == "finished"
    assert document["config"]["init_from"] == str((base_run / "base").resolve())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > metrics["before_test_accuracy"]
    import chainrule

    model = chainrule.load(out / "model")
    assert (
        chainrule.io.read_info(out / "model")["finetuned_from"] == document["config"]["init_from"]
    )
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 3 and model is not None
    assert main(["predict", str(out), str(base_run / "new.npz")]) == 0


def test_finetune_refuses_data_of_another_shape(base_run, capsys):
    code = main(
        [
            "finetune",
            str(base_run / "base"),
            "--data",
            str(base_run / "narrow.npz"),
            "--out",
            str(base_run / "bad"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "(30,)" in err[0] and "(64,)" in err[0]
    assert not (base_run / "bad").exists()


def test_train_init_from_a_state_dict_keeps_a_mismatched_head(base_run, capsys, tmp_path):
    from safetensors.numpy import save_file

    import chainrule

    state = chainrule.load(base_run / "base" / "model").state_dict()
    save_file({k: np.array(v) for k, v in state.items()}, str(tmp_path / "export.safetensors"))
    code = main(
        [
            "train",
            "--data",
            str(base_run / "new.npz"),
            "--epochs",
            "1",
            "--init-from",
            str(tmp_path / "export.safetensors"),
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "kept as initialised" in printed
    document = json.loads((tmp_path / "run" / "run.json").read_text())
    assert document["config"]["init_from"].endswith("export.safetensors")
    assert (
        main(["train", "--init-from", str(tmp_path / "none"), "--out", str(tmp_path / "r2")]) == 2
    )
