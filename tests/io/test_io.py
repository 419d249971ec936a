import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import io, nn, optim, presets
from chainrule.io import ModelFileError, atomic


def outputs_equal(a, b, x):
    a.eval(), b.eval()
    with cr.no_grad():
        out_a, out_b = a(cr.tensor(x)), b(cr.tensor(x))
    out_a = out_a[0] if isinstance(out_a, tuple) else out_a
    out_b = out_b[0] if isinstance(out_b, tuple) else out_b
    np.testing.assert_array_equal(out_a.data, out_b.data)


rng = np.random.default_rng(0)
CASES = {
    "mlp-sequential": (
        lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)),
        (5, 4),
    ),
    "activations": (
        lambda: nn.Sequential(
            nn.Linear(4, 4),
            nn.Tanh(),
            nn.Sigmoid(),
            nn.LeakyReLU(0.2),
            nn.GELU(),
            nn.Softmax(dim=-1),
        ),
        (2, 4),
    ),
    "batchnorm1d-layernorm": (
        lambda: nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.LayerNorm(6)),
        (5, 4),
    ),
    "conv2d": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1),
            nn.BatchNorm2d(2),
            nn.MaxPool2d(2),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(2, 2),
        ),
        (2, 1, 4, 4),
    ),
    "conv1d": (lambda: nn.Sequential(nn.Conv1d(2, 3, 3), nn.MaxPool1d(2), nn.Flatten()), (2, 2, 8)),
    "adaptive-pool": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        (2, 1, 5, 5),
    ),
    "gru": (lambda: nn.GRU(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
    "lstm": (lambda: nn.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    "rnn": (lambda: nn.RNN(3, 4), (5, 2, 3)),
    "preset-mlp": (lambda: presets.build_preset("mlp", (64,), 10, (1, 8, 8)), (2, 64)),
    "preset-cnn2d": (lambda: presets.build_preset("cnn", (64,), 10, (1, 8, 8)), (2, 64)),
    "preset-cnn1d": (lambda: presets.build_preset("cnn", (40,), 10, (1, 40)), (2, 40)),
    "preset-gru": (lambda: presets.build_preset("gru", (64,), 10, (1, 8, 8)), (2, 64)),
    "preset-lstm": (lambda: presets.build_preset("lstm", (40,), 10, (1, 40)), (2, 40)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_gives_equal_outputs(tmp_path, name):
    make, shape = CASES[name]
    cr.manual_seed(0)
    model = make()
    if any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules()):
        model.train()
        with cr.no_grad():
            model(
                cr.tensor(rng.normal(size=shape))
            )  # move the running statistics off their defaults
    cr.manual_seed(99)
    for path in (tmp_path / "folder", tmp_path / "single.safetensors"):
        io.save(model, path)
        loaded = cr.load(path)
        assert type(loaded) is type(model)
        outputs_equal(model, loaded, rng.normal(size=shape).astype(np.float32))
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(loaded.state_dict()[key], value)


def test_embedding_round_trip(tmp_path):
    model = nn.Embedding(10, 3)
    io.save(model, tmp_path / "m")
    loaded = cr.load(tmp_path / "m")
    idx = np.array([[1, 2], [9, 0]])
    np.testing.assert_array_equal(loaded(idx).data, model(idx).data)


def test_folder_layout_and_float64(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2)).double()
    io.save(model, tmp_path / "m", info={"task": "regression"})
    assert sorted(os.listdir(tmp_path / "m")) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["architecture"]["type"] == "Sequential"
    assert config["architecture"]["children"]["0"] == {
        "type": "Linear",
        "config": {"in_features": 2, "out_features": 2, "bias": True},
        "children": {},
    }
    loaded = cr.load(tmp_path / "m")
    assert loaded[0].weight.dtype == np.float64
    assert io.read_info(tmp_path / "m") == {"task": "regression"}


def test_unknown_type_is_refused(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="not a chainrule layer"):
        io.save(nn.Sequential(Custom()), tmp_path / "m")
    assert not (tmp_path / "m").exists()
    with pytest.raises(ModelFileError, match="unknown layer type 'os.system'"):
        io.build_model({"type": "os.system", "config": {}, "children": {}})


def test_registered_user_type_round_trips(tmp_path):
    @io.register_module(name="TestScale")
    class Scale(nn.Module):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

        def get_config(self):
            return {"factor": self.factor}

        def forward(self, x):
            return x * self.factor

    io.save(nn.Sequential(nn.Linear(2, 2), Scale(3.0)), tmp_path / "m")
    loaded = cr.load(tmp_path / "m")
    assert loaded[1].factor == 3.0


def _good(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    path = tmp_path / "m.safetensors"
    io.save(model, path)
    return model, path


def test_truncated_file(tmp_path):
    _, path = _good(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(ModelFileError, match="truncated"):
        cr.load(path)
    path.write_bytes(data[:5])
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        cr.load(path)


def test_non_safetensors_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00this is not json" + b"x" * 20)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        cr.load(path)
    path.write_text("a plain text file that is long enough")
    with pytest.raises(ModelFileError):
        cr.load(path)


def _rewrite(path, tensors, metadata):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata=metadata)


def test_invalid_config_json(tmp_path):
    model, path = _good(tmp_path)
    tensors = {k: np.asarray(v, order="C") for k, v in model.state_dict().items()}
    _rewrite(path, tensors, {"format": "chainrule.model", "chainrule_config": "{not json"})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        cr.load(path)
    _rewrite(
        path,
        tensors,
        {
            "format": "chainrule.model",
            "chainrule_config": json.dumps({"architecture": {"type": 3}}),
        },
    )
    with pytest.raises(ModelFileError, match="expected a string 'type'"):
        cr.load(path)
    bad_config = {
        "architecture": {"type": "Linear", "config": {"in_features": "x"}, "children": {}}
    }
    _rewrite(
        path, tensors, {"format": "chainrule.model", "chainrule_config": json.dumps(bad_config)}
    )
    with pytest.raises(ModelFileError, match="cannot build Linear"):
        cr.load(path)


def test_shape_mismatch(tmp_path):
    model, path = _good(tmp_path)
    tensors = {k: np.asarray(v, order="C") for k, v in model.state_dict().items()}
    tensors["0.weight"] = np.zeros((5, 3), dtype=np.float32)
    document = io.architecture_document(model)
    _rewrite(path, tensors, {"format": "chainrule.model", "chainrule_config": json.dumps(document)})
    with pytest.raises(
        ModelFileError, match=r"0.weight has shape \(5, 3\) but the architecture needs \(2, 3\)"
    ):
        cr.load(path)
    del tensors["0.weight"]
    _rewrite(path, tensors, {"format": "chainrule.model", "chainrule_config": json.dumps(document)})
    with pytest.raises(ModelFileError, match="missing tensors: 0.weight"):
        cr.load(path)


def test_missing_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        cr.load(tmp_path / "empty")


def test_plain_safetensors_with_config_json(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    folder = tmp_path / "m"
    folder.mkdir()
    _rewrite(
        folder / "model.safetensors",
        {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()},
        None,
    )
    with pytest.raises(ModelFileError, match="no architecture"):
        cr.load(folder)
    (folder / "config.json").write_text(json.dumps(io.architecture_document(model)))
    np.testing.assert_array_equal(cr.load(folder)[0].weight.data, model[0].weight.data)


def test_failed_save_leaves_old_model_intact(tmp_path, monkeypatch):
    good = nn.Sequential(nn.Linear(3, 2))
    io.save(good, tmp_path / "m")
    before = {name: (tmp_path / "m" / name).read_bytes() for name in os.listdir(tmp_path / "m")}

    def half_then_fail(handle, data):
        handle.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(atomic, "_write_file", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        io.save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "m")
    after = {name: (tmp_path / "m" / name).read_bytes() for name in os.listdir(tmp_path / "m")}
    assert after == before  # no temp files left behind, bytes unchanged
    monkeypatch.undo()
    np.testing.assert_array_equal(cr.load(tmp_path / "m")[0].weight.data, good[0].weight.data)


def test_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((2, 3))).sum().backward()
    opt.step()
    gen = np.random.default_rng(5)
    gen.random(3)
    path = io.save_checkpoint(
        tmp_path / "ck",
        model,
        opt,
        epoch=7,
        generators={"g": gen},
        extra={"note": "x", "nan": float("nan")},
    )
    assert path.endswith(".safetensors")
    ck = io.load_checkpoint(path)
    assert ck.epoch == 7 and ck.optimizer_type == "Adam" and ck.extra["note"] == "x"
    assert np.isnan(ck.extra["nan"])
    fresh = np.random.default_rng(0)
    io.restore_generator(fresh, ck.rng["g"])
    assert np.array_equal(fresh.random(4), gen.random(4))
    opt2 = optim.Adam(ck.model.parameters(), lr=0.5)
    opt2.load_state_dict(ck.optimizer_state)
    assert opt2.param_groups[0]["lr"] == 0.01
    state = opt.state_dict()["state"]
    state2 = opt2.state_dict()["state"]
    for key in state:
        for name, value in state[key].items():
            np.testing.assert_array_equal(np.asarray(state2[key][name]), np.asarray(value))
    # a checkpoint also loads as a model
    np.testing.assert_array_equal(cr.load(path)[0].weight.data, model[0].weight.data)
    with pytest.raises(ModelFileError, match="not a chainrule checkpoint"):
        io.save(model, tmp_path / "plain.safetensors")
        io.load_checkpoint(tmp_path / "plain.safetensors")


def test_corrupt_data_offsets_give_a_clear_error(tmp_path):
    path = tmp_path / "m.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": ["a", "b"]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 4)
    with pytest.raises(ModelFileError, match="no valid data_offsets"):
        cr.load(path)


def test_save_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(
        TypeError, match="expected a chainrule.nn.Module or a chainrule estimator, received dict"
    ):
        cr.save({"w": np.ones(2)}, tmp_path / "x")


@pytest.mark.filterwarnings(
    "ignore:Stochastic Optimizer. Maximum iterations"
)  # 30 epochs, on purpose
def test_estimators_save_and_load_through_chainrule(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris

    from chainrule.estimators import MLPClassifier

    X, y = load_iris(return_X_y=True)
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    cr.save(est, tmp_path / "est")
    back = cr.load(tmp_path / "est")
    assert type(back) is MLPClassifier
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X))
    network = io.load_model(tmp_path / "est")
    assert isinstance(network, nn.Sequential)
    doc = json.loads((tmp_path / "est" / io.ESTIMATOR_FILE).read_text())
    doc["estimator"] = "EvilEstimator"
    (tmp_path / "est" / io.ESTIMATOR_FILE).write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="unknown estimator type 'EvilEstimator'"):
        cr.load(tmp_path / "est")
