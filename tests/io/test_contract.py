"""The loaders' one error contract: a bad file gives ModelFileError naming it, with bounded work."""

from __future__ import annotations

import inspect
import json
import tracemalloc

import numpy as np
import pytest
from tests.io.files_for_tests import (
    nested,
    rewrite_metadata,
    small_model,
    trained_checkpoint,
    write_model_file,
)

import chainrule as cr
from chainrule import io, nn, optim
from chainrule.io import ModelFileError
from chainrule.train import fit

# Estimators here fit for a few epochs on purpose: their ConvergenceWarning is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer. Maximum iterations")

LITTLE_MEMORY = 2 * 1024 * 1024
"""Peak bytes traced while refusing a tiny file (the refused layers would need hundreds of MB)."""


def document_for(architecture, dtype="float32"):
    return {
        "format": io.MODEL_FORMAT,
        "format_version": 1,
        "dtype": dtype,
        "architecture": architecture,
    }


def refuse_with_little_memory(path, match):
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as caught:
            cr.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LITTLE_MEMORY, f"refusing {path} traced {peak} bytes"
    assert str(path) in str(caught.value)
    return caught.value


# ------------------------------------------------------------ nesting, size
def test_deeply_nested_architecture_is_refused(tmp_path):
    path = tmp_path / "deep.safetensors"
    write_model_file(path, '{"architecture": ' + nested(1000) + "}", {})
    refuse_with_little_memory(path, "nested deeper than the limit")
    config = tmp_path / "folder"
    config.mkdir()
    write_model_file(config / "model.safetensors", document_for({"type": "ReLU"}), {})
    from safetensors.numpy import save_file

    save_file({}, str(config / "model.safetensors"))  # no chainrule metadata: config.json is read
    (config / "config.json").write_text(nested(5000))
    with pytest.raises(ModelFileError, match="config.json: the architecture JSON is nested deeper"):
        cr.load(config)


def test_modules_nested_past_the_limit_are_refused(tmp_path):
    node = {"type": "ReLU", "config": {}, "children": {}}
    for _ in range(io.MAX_NESTING + 1):
        node = {"type": "Sequential", "config": {}, "children": {"0": node}}
    path = tmp_path / "m.safetensors"
    write_model_file(path, document_for(node), {})
    refuse_with_little_memory(path, f"nests modules deeper than the limit of {io.MAX_NESTING}")


def test_too_many_modules_are_refused_before_any_is_built(tmp_path):
    children = {str(i): {"type": "Identity"} for i in range(100_000)}
    path = tmp_path / "wide.safetensors"
    write_model_file(path, document_for({"type": "Sequential", "children": children}), {})
    with pytest.raises(ModelFileError, match=f"more than the limit of {io.MAX_MODULES} modules"):
        cr.load(path)


def test_oversized_json_is_refused():
    with pytest.raises(ModelFileError, match="the limit is"):
        io.parse_json(" " * (io.MAX_JSON_BYTES + 1), "architecture JSON", "big.json")


# ------------------------------------------------------------ bounded work
HUGE_LAYERS = {
    "Linear": {"in_features": 12000, "out_features": 12000},
    "Embedding": {"num_embeddings": 10_000_000, "embedding_dim": 64},
    "Conv2d": {"in_channels": 2048, "out_channels": 2048, "kernel_size": 7},
    "LSTM": {"input_size": 8000, "hidden_size": 8000},
    "BatchNorm1d": {"num_features": 200_000_000},
    "LayerNorm": {"normalized_shape": [20000, 20000]},
}


@pytest.mark.parametrize("type_name", sorted(HUGE_LAYERS))
def test_tiny_file_declaring_a_huge_layer_is_refused_with_little_memory(tmp_path, type_name):
    path = tmp_path / "huge.safetensors"
    architecture = {
        "type": "Sequential",
        "children": {"0": {"type": type_name, "config": HUGE_LAYERS[type_name]}},
    }
    write_model_file(path, document_for(architecture), {"0.weight": np.zeros((2, 2), np.float32)})
    assert path.stat().st_size < 1024
    refuse_with_little_memory(path, "the weights do not match the architecture")


@pytest.mark.slow
def test_tiny_file_declaring_linear_12000_is_refused_well_under_a_second(tmp_path):
    import time

    path = tmp_path / "huge.safetensors"
    write_model_file(
        path,
        document_for({"type": "Linear", "config": HUGE_LAYERS["Linear"]}),
        {"weight": np.zeros((1, 1), np.float32)},
    )
    start = time.perf_counter()
    with pytest.raises(ModelFileError):
        cr.load(path)
    assert time.perf_counter() - start < 0.5


def test_the_shape_table_agrees_with_the_layers():
    from chainrule.io.shapes import LIBRARY_STATE_SHAPES

    configs = {
        "Linear": {"in_features": 3, "out_features": 2, "bias": False},
        "Conv1d": {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 2},
        "Conv2d": {"in_channels": 2, "out_channels": 3, "kernel_size": [3, 2]},
        "ConvTranspose1d": {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 2},
        "ConvTranspose2d": {
            "in_channels": 2,
            "out_channels": 3,
            "kernel_size": [3, 2],
            "bias": False,
        },
        "Embedding": {"num_embeddings": 5, "embedding_dim": 2},
        "GroupNorm": {"num_groups": 2, "num_channels": 4},
        "BatchNorm1d": {"num_features": 3, "affine": False},
        "BatchNorm2d": {"num_features": 3, "track_running_stats": False},
        "LayerNorm": {"normalized_shape": [2, 3], "bias": False},
        "PReLU": {"num_parameters": 3},
        "MultiheadAttention": {"embed_dim": 4, "num_heads": 2, "bias": False},
        "TransformerEncoderLayer": {"d_model": 4, "nhead": 2, "dim_feedforward": 6},
        "TransformerEncoder": {"encoder_layer": {"d_model": 4, "nhead": 2, "dim_feedforward": 3,
                                                 "bias": False},
                               "num_layers": 2, "norm": {"normalized_shape": [4]}},
        "RNN": {"input_size": 3, "hidden_size": 2, "num_layers": 2, "bidirectional": True},
        "LSTM": {"input_size": 3, "hidden_size": 2, "bias": False},
        "GRU": {"input_size": 3, "hidden_size": 2, "num_layers": 3},
    }
    assert set(configs) == set(LIBRARY_STATE_SHAPES)
    for name, config in configs.items():
        built = {
            key: (tuple(np.shape(value)), "float" if np.asarray(value).dtype.kind == "f" else "int")
            for key, value in getattr(nn, name)(**config).state_dict().items()
        }
        assert LIBRARY_STATE_SHAPES[name](config) == built, name


def test_every_library_layer_with_state_declares_its_shapes():
    """A layer with parameters and no entry would be built before the file is checked."""
    from chainrule.io.shapes import LIBRARY_STATE_SHAPES

    stateless = []
    for name, cls in io.registered_types().items():
        if not cls.__module__.startswith("chainrule.nn") or name in LIBRARY_STATE_SHAPES:
            continue
        required = {
            arg: 2
            for arg, p in inspect.signature(cls).parameters.items()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        try:
            module = cls(**required)
        except (TypeError, ValueError):
            continue  # not buildable from small sizes alone (a container, an either-or argument)
        stateless.append(name)
        assert not module.state_dict(), f"{name} has state but no entry in io/shapes.py"
    assert "ReLU" in stateless


# ------------------------------------------------------------------ dtypes
def test_a_relabelled_dtype_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(nn.Linear(2, 2), path)
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = data[8 : 8 + size].replace(b'"F32"', b'"I32"', 1)
    path.write_bytes(data[:8] + header + data[8 + size :])
    refuse_with_little_memory(path, "has dtype int32 but the architecture needs float32")


def test_a_float_tensor_of_another_precision_is_refused(tmp_path):
    model = nn.Linear(2, 2)
    path = tmp_path / "m.safetensors"
    tensors = {k: np.asarray(v, np.float64) for k, v in model.state_dict().items()}
    write_model_file(path, io.architecture_document(model), tensors)
    refuse_with_little_memory(path, "has dtype float64 but the architecture needs float32")


def test_an_invalid_document_dtype_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(nn.Linear(2, 2), path)
    rewrite_metadata(path, "chainrule_config", lambda d: d.update(dtype="int32"))
    refuse_with_little_memory(path, "invalid dtype 'int32'")


# ------------------------------------------------------------- checkpoints
def edit_document(field, value):
    def edit(document):
        document[field] = value

    return edit


BAD_CHECKPOINT_FIELDS = {
    "negative epoch": (edit_document("epoch", -1), "'epoch'"),
    "epoch as text": (edit_document("epoch", "3"), "'epoch'"),
    "epoch as bool": (edit_document("epoch", True), "'epoch'"),
    "optimizer type without state": (edit_document("optimizer", None), "'optimizer'"),
    "optimizer state not an object": (edit_document("optimizer", [1, 2]), "'optimizer'"),
    "optimizer groups not a list": (
        edit_document("optimizer", {"state": {}, "param_groups": 3}),
        "'optimizer'",
    ),
    "optimizer group params not indices": (
        edit_document("optimizer", {"state": {}, "param_groups": [{"params": ["a"]}]}),
        "param_groups",
    ),
    "unknown float": (edit_document("extra", {"x": {"__float__": "1e999x"}}), "non-finite float"),
    "unhashable key": (edit_document("extra", {"__items__": [[{"a": 1}, 2]]}), "not hashable"),
    "malformed items": (edit_document("extra", {"__items__": [[1]]}), "malformed __items__"),
    "two tags": (edit_document("extra", {"__float__": "nan", "__tuple__": []}), "malformed tagged"),
    "missing array": (edit_document("extra", {"a": {"__array__": "nowhere"}}), "'nowhere'"),
    "rng not an object": (edit_document("rng", [1]), "'rng'"),
    "rng without bit generator": (edit_document("rng", {"fit": {"state": 1}}), "'rng'"),
    "history epochs as text": (
        edit_document("history", {"epoch": ["a"], "history": {}}),
        "history.epoch",
    ),
    "history values as text": (
        edit_document("history", {"epoch": [0], "history": {"loss": ["x"]}}),
        "history.loss",
    ),
    "history not an object": (edit_document("history", 7), "'history'"),
    "callbacks not objects": (edit_document("callbacks", {"EarlyStopping": 3}), "'callbacks'"),
    "extra not an object": (edit_document("extra", 3), "'extra'"),
    "deep extra": (
        lambda d: json.dumps(d)[:-1] + ', "deep": ' + nested(1000) + "}",
        "nested deeper",
    ),
    "newer version": (edit_document("format_version", 99), "format_version"),
    "no model": (edit_document("model", None), "no 'architecture'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINT_FIELDS))
def test_every_checkpoint_field_is_validated(tmp_path, case):
    path = trained_checkpoint(tmp_path / "ck")
    edit, match = BAD_CHECKPOINT_FIELDS[case]
    rewrite_metadata(path, "chainrule_checkpoint", edit)
    with pytest.raises(ModelFileError, match=match) as caught:
        io.load_checkpoint(path)
    assert path in str(caught.value)


BAD_RESTORES = {
    "generator state values": (
        edit_document(
            "rng", {"fit": {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}}
        ),
        "generator state is invalid",
    ),
    "another bit generator": (
        edit_document("rng", {"fit": {"bit_generator": "MT19937", "state": {}}}),
        "is for 'MT19937'",
    ),
    "callback state values": (
        edit_document("callbacks", {"0:EarlyStopping": {"wait": "x"}}),
        "callback states cannot be restored",
    ),
    "optimizer state shapes": (None, "optimizer state cannot be restored"),
    "another optimizer": (edit_document("optimizer_type", "SGD"), "holds a SGD optimizer state"),
}


def _shrink_optimizer_arrays(path):
    """Replace an optimizer moment by one of the wrong shape (rewriting the tensors)."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(path)
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        metadata = json.loads(handle.read(size))["__metadata__"]
    key = next(k for k in tensors if k.startswith("optimizer."))
    tensors[key] = np.zeros((7, 7), np.float32)
    save_file(tensors, path, metadata=metadata)


@pytest.mark.parametrize("case", sorted(BAD_RESTORES))
def test_fit_resume_from_a_bad_checkpoint_raises_model_file_error(tmp_path, case):
    edit, match = BAD_RESTORES[case]
    X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    y = np.array([0, 1] * 4)
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    fit(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optimizer,
        epochs=1,
        batch_size=4,
        verbose=0,
        progress=False,
    )
    path = io.save_checkpoint(
        tmp_path / "ck",
        model,
        optimizer,
        epoch=1,
        generators={"fit": np.random.default_rng(1)},
        callbacks={"0:EarlyStopping": {"wait": 0}},
    )
    if edit is None:
        _shrink_optimizer_arrays(path)
    else:
        rewrite_metadata(path, "chainrule_checkpoint", edit)
    from chainrule.train.callbacks import EarlyStopping

    fresh = small_model(1)
    with pytest.raises(ModelFileError, match=match) as caught:
        fit(
            fresh,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.Adam(fresh.parameters(), lr=0.01),
            epochs=2,
            batch_size=4,
            verbose=0,
            progress=False,
            resume_from=path,
            generator=np.random.default_rng(5),
            callbacks=[EarlyStopping(monitor="loss")],
        )
    assert path in str(caught.value)


def test_checkpoint_weights_are_checked_against_the_model_they_resume(tmp_path):
    path = trained_checkpoint(tmp_path / "ck")
    checkpoint = io.load_checkpoint(path)
    with pytest.raises(ModelFileError, match="missing tensors"):
        checkpoint.load_weights_into(
            nn.Sequential(
                nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2), nn.Linear(2, 2)
            )
        )


# -------------------------------------------------------------- estimators
@pytest.fixture(scope="module")
def fitted_classifier():
    pytest.importorskip("sklearn")
    from chainrule.estimators import MLPClassifier

    X = np.random.default_rng(0).normal(size=(30, 4))
    y = np.array(["a", "b", "c"] * 10)
    return MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y), X


def edit_estimator(edit):
    def apply(folder):
        file = folder / io.ESTIMATOR_FILE
        document = json.loads(file.read_text())
        edit(document)
        file.write_text(json.dumps(document))

    return apply


BAD_ESTIMATOR_FIELDS = {
    "no params": (lambda d: d.pop("params"), "'params' must be an object"),
    "unknown parameter": (
        lambda d: d["params"].update(colour="red"),
        "'colour'.*not MLPClassifier parameters",
    ),
    "invalid parameter": (
        lambda d: d["params"].update(max_iter=-1),
        "invalid MLPClassifier parameters",
    ),
    "invalid dtype parameter": (
        lambda d: d["params"].update(dtype={"x": 1}),
        "invalid MLPClassifier",
    ),
    "unknown fitted attribute": (
        lambda d: d["fitted"].update(predict=5),
        "unknown field 'predict'",
    ),
    "fitted of the wrong kind": (
        lambda d: d["fitted"].update(n_iter_="five"),
        "'fitted.n_iter_' must be",
    ),
    "missing fitted": (lambda d: d["fitted"].pop("classes_"), "lacks classes_"),
    "classes for another network": (
        lambda d: d["fitted"].update(classes_=["a", "b", "c", "d"]),
        "do not fit together",
    ),
    "features for another network": (
        lambda d: d["fitted"].update(n_features_in_=9),
        "the network does not match",
    ),
    "hidden sizes for another network": (
        lambda d: d["params"].update(hidden_layer_sizes=[6]),
        "the network does not match",
    ),
    "bad classes dtype": (lambda d: d["fitted"].update(classes_dtype="<i8"), "classes_dtype"),
    "bad out activation": (
        lambda d: d["fitted"].update(out_activation_="identity"),
        "out_activation_",
    ),
    "bad target type": (lambda d: d["fitted"].update(y_type_="continuous"), "do not fit together"),
    "unknown estimator": (
        lambda d: d.update(estimator="EvilEstimator", module="os"),
        "unknown estimator type 'EvilEstimator'",
    ),
    "not an estimator file": (lambda d: d.update(format="other"), "not a chainrule estimator file"),
    "newer version": (lambda d: d.update(version=2), "version 2"),
    "bad feature names": (
        lambda d: d["fitted"].update(feature_names_in_=["x"]),
        "feature_names_in_",
    ),
    "bad class weights": (lambda d: d["params"].update(class_weight=[[1]]), "class_weight"),
}


@pytest.mark.parametrize("case", sorted(BAD_ESTIMATOR_FIELDS))
def test_every_estimator_field_is_validated(tmp_path, fitted_classifier, case):
    estimator, _ = fitted_classifier
    folder = tmp_path / "est"
    cr.save(estimator, folder)
    edit, match = BAD_ESTIMATOR_FIELDS[case]
    edit_estimator(edit)(folder)
    with pytest.raises(ModelFileError, match=match) as caught:
        cr.load(folder)
    assert str(folder) in str(caught.value)


def test_an_estimator_folder_loads_as_the_estimator_and_its_network_alone(
    tmp_path, fitted_classifier
):
    estimator, X = fitted_classifier
    cr.save(estimator, tmp_path / "est")
    back = cr.load(tmp_path / "est")
    assert type(back) is type(estimator)
    np.testing.assert_array_equal(back.predict(X), estimator.predict(X))
    assert isinstance(io.load_model(tmp_path / "est"), nn.Sequential)
    (tmp_path / "est" / io.ESTIMATOR_FILE).write_text("{not json")
    with pytest.raises(
        ModelFileError, match="estimator.json: the estimator JSON is not valid JSON"
    ):
        cr.load(tmp_path / "est")


def test_a_tiny_file_declaring_a_huge_mlp_preset_is_refused_with_little_memory(tmp_path):
    # presets.MLP declares its state (register_module(state_shapes=...)), so its config is
    # checked against the file before the constructor allocates anything
    import chainrule.presets  # noqa: F401 - registers the preset types

    path = tmp_path / "huge_mlp.safetensors"
    architecture = {"type": "MLP", "module": "chainrule.presets",
                    "config": {"input_shape": [64], "num_outputs": 10,
                               "hidden": [12000, 12000], "dropout": 0.0}}
    weights = {"net.1.weight": np.zeros((2, 2), np.float32)}
    write_model_file(path, document_for(architecture), weights)
    assert path.stat().st_size < 1024
    refuse_with_little_memory(path, "the weights do not match the architecture")


def test_the_mlp_preset_state_shapes_match_the_built_preset():
    from chainrule import presets

    for dropout in (0.0, 0.5):
        model = presets.MLP([2, 3], 4, hidden=[5, 7], dropout=dropout)
        implied = presets._mlp_state_shapes(model.get_config())
        assert {k: v[0] for k, v in implied.items()} == {
            k: v.shape for k, v in model.state_dict().items()}
