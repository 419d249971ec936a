"""``chainrule attribute``: files written, numbers equal to the Python API, one-line errors."""

import csv
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import explain, io, nn, presets
from chainrule.cli import main

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """An (untrained) mlp preset saved as if trained on digits: 64 features, 8×8 images."""
    folder = tmp_path_factory.mktemp("runs") / "digits"
    cr.manual_seed(0)
    model = presets.build_preset("mlp", [64], 10)
    names = [f"digit {k}" for k in range(10)]
    io.save(
        model,
        folder / "model",
        info={
            "task": "classification",
            "data": "digits",
            "input_shape": [64],
            "image_shape": [1, 8, 8],
            "class_names": names,
        },
    )
    samples = np.random.default_rng(0).random((3, 64)).astype(np.float32)
    np.save(folder / "samples.npy", samples)
    return folder, model.eval(), samples


@pytest.fixture(scope="module")
def tabular_run(tmp_path_factory):
    """A 3-feature classifier trained on standardised features (mean and scale recorded)."""
    folder = tmp_path_factory.mktemp("runs") / "tabular"
    g = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(3, 8, generator=g), nn.Tanh(), nn.Linear(8, 2, generator=g))
    mean, scale = [10.0, -2.0, 0.5], [2.0, 0.5, 4.0]
    io.save(
        model,
        folder / "model",
        info={
            "task": "classification",
            "input_shape": [3],
            "feature_mean": mean,
            "feature_scale": scale,
            "class_names": ["no", "yes"],
        },
    )
    raw = np.array([[12.0, -2.5, 3.0], [8.0, -1.0, -4.0]], dtype=np.float32)
    with open(folder / "rows.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["height", "depth", "width"])
        writer.writerows(raw.tolist())
    return folder, model, raw, np.array(mean, np.float32), np.array(scale, np.float32)


def test_integrated_gradients_of_images(image_run, capsys, tmp_path):
    folder, model, samples = image_run
    code, out, err = run(
        capsys, "attribute", folder, folder / "samples.npy", "--out", tmp_path, "--steps", 20
    )
    assert code == 0, err
    assert "integrated gradients for 3 samples" in out and "completeness delta" in out
    maps = np.load(tmp_path / "attributions.npy")
    assert maps.shape == (3, 1, 8, 8)  # the digits' image layout, from the training set
    expected = explain.integrated_gradients(model, samples.reshape(3, 1, 8, 8), steps=20)
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-7)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["method"] == "ig" and summary["sample_shape"] == [1, 8, 8]
    predicted = model(cr.tensor(samples)).data.argmax(axis=1)
    assert summary["targets"] == summary["predicted"] == predicted.tolist()
    assert len(summary["completeness_delta"]) == 3
    for i in range(3):
        assert (tmp_path / f"sample_{i:03d}.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize("method", ["saliency", "smoothgrad", "occlusion"])
def test_other_methods_and_a_named_target(image_run, capsys, tmp_path, method):
    folder, model, samples = image_run
    code, _, err = run(
        capsys,
        "attribute",
        folder,
        folder / "samples.npy",
        "--method",
        method,
        "--target",
        "digit 4",
        "--out",
        tmp_path,
        "--samples",
        3,
        "--max-pictures",
        1,
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["targets"] == [4, 4, 4]
    assert np.load(tmp_path / "attributions.npy").shape == (3, 1, 8, 8)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["sample_000.png"]
    if method == "saliency":
        np.testing.assert_allclose(
            np.load(tmp_path / "attributions.npy"),
            explain.saliency(model, samples.reshape(3, 1, 8, 8), target=4),
            rtol=1e-6,
        )


def test_grad_cam_of_a_signal_model(capsys, tmp_path):
    cr.manual_seed(0)
    model = presets.build_preset("cnn", [40], 10, image_shape=(1, 40))
    io.save(
        model, tmp_path / "run" / "model", info={"task": "classification", "input_shape": [1, 40]}
    )
    np.save(
        tmp_path / "signals.npy", np.random.default_rng(0).normal(size=(2, 40)).astype(np.float32)
    )
    code, out, err = run(
        capsys, "attribute", tmp_path / "run", tmp_path / "signals.npy", "--method", "grad-cam"
    )
    assert code == 0, err
    written = tmp_path / "run" / "attributions-grad-cam"
    assert np.load(written / "attributions.npy").shape == (2, 40)
    assert (written / "sample_001.png").read_bytes()[:8] == PNG


def test_tabular_rows_are_attributed_in_their_raw_units(tabular_run, capsys, tmp_path):
    folder, model, raw, mean, scale = tabular_run
    code, _, err = run(capsys, "attribute", folder, folder / "rows.csv", "--out", tmp_path)
    assert code == 0, err
    maps = np.load(tmp_path / "attributions.npy")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["baseline"] == "mean"
    # IG of the raw features from the training mean = IG of the standardised ones from 0
    standardized = (raw - mean) / scale
    expected = explain.integrated_gradients(model, standardized, steps=50)
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)
    assert (tmp_path / "sample_000.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--target", "7"], "target 7 is outside the model's outputs"),
        (
            ["--target", "maybe"],
            "--target expected a class index or name, received 'maybe'; class names: no, yes",
        ),
        (["--method", "grad-cam"], "has no Conv1d or Conv2d layer"),
        (["--baseline", "zero", "--method", "occlusion", "--max-pictures", "0"], None),
    ],
)
def test_one_line_errors(tabular_run, capsys, tmp_path, argv, message):
    folder = tabular_run[0]
    code, _, err = run(capsys, "attribute", folder, folder / "rows.csv", "--out", tmp_path, *argv)
    if message is None:
        assert code == 0 and not list(tmp_path.glob("*.png"))
        return
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_run_saved_without_its_image_shape_asks_the_training_set(capsys, tmp_path):
    pytest.importorskip("sklearn")
    model = presets.build_preset("mlp", [64], 10)
    io.save(
        model,
        tmp_path / "run" / "model",
        info={"task": "classification", "data": "digits", "input_shape": [64]},
    )
    np.save(tmp_path / "x.npy", np.zeros((1, 64), dtype=np.float32))
    code, _, err = run(
        capsys,
        "attribute",
        tmp_path / "run",
        tmp_path / "x.npy",
        "--method",
        "saliency",
        "--max-pictures",
        0,
    )
    assert code == 0, err
    assert np.load(tmp_path / "run" / "attributions-saliency" / "attributions.npy").shape == (
        1,
        1,
        8,
        8,
    )


def test_input_that_does_not_fit(image_run, capsys, tmp_path):
    folder = image_run[0]
    np.save(tmp_path / "short.npy", np.zeros((2, 10), dtype=np.float32))
    code, _, err = run(capsys, "attribute", folder, tmp_path / "short.npy")
    assert code == 2 and "has 10 values per sample, but the model expects 64" in err
    code, _, err = run(capsys, "attribute", folder, tmp_path / "missing.npy")
    assert code == 2 and "no input file" in err
    code, _, err = run(capsys, "attribute", folder, folder / "samples.npy", "--method", "lime")
    assert code == 2 and "invalid choice" in err
