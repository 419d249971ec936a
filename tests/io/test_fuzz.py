"""Property-based fuzzing: mutated model files, checkpoints, estimator folders give ModelFileError.

Hypothesis mutates valid files two ways: bytes (flips, truncation, insertion,
overwritten runs) and JSON (a value anywhere in the architecture, checkpoint
or estimator document replaced by arbitrary JSON, or a key removed). Loading
the result must either succeed or raise :class:`~chainrule.io.ModelFileError`,
and every attempt must stay within a small traced-memory budget. The default
suite runs a bounded number of examples; the slow marker runs many more.
"""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tests.io.files_for_tests import small_model, trained_checkpoint  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import io, optim  # noqa: E402
from chainrule.io import ModelFileError  # noqa: E402

# Estimators here fit for a few epochs on purpose: their ConvergenceWarning is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer. Maximum iterations")

MEMORY_BUDGET = 32 * 1024 * 1024
"""Peak traced bytes one load of a mutated file may use (the valid files are a few kB)."""

DEFAULT_EXAMPLES, SLOW_EXAMPLES = 25, 400

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["Linear", "Sequential", "float64", "__array__", "__float__", "nan", "PCG64"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(["type", "config", "children", "__items__", "__tuple__"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)

byte_edits = st.lists(
    st.tuples(
        st.sampled_from(["flip", "truncate", "insert", "overwrite"]),
        st.floats(min_value=0, max_value=1),
        st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=3,
)


def mutate_bytes(data: bytes, edits) -> bytes:
    for operation, where, payload in edits:
        at = int(where * len(data))
        if operation == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ (payload[0] or 1)]) + data[at + 1 :]
        elif operation == "truncate":
            data = data[:at]
        elif operation == "insert":
            data = data[:at] + payload + data[at:]
        else:
            data = data[:at] + payload + data[at + len(payload) :]
    return data


def json_paths(value, prefix=()):
    """Every path (a tuple of keys and indices) to a value inside ``value``."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, (*prefix, index))


def mutate_json(document, data):
    """Replace the value at a path drawn from ``data`` by arbitrary JSON, or delete it."""
    paths = list(json_paths(document))
    path = data.draw(st.sampled_from(paths), label="path")
    if not path:
        return data.draw(json_values, label="document")
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values, label="value")
    return document


def loads_or_refuses(load, *args) -> None:
    """``load(*args)`` succeeds or raises ModelFileError, within the memory budget."""
    tracemalloc.start()
    try:
        load(*args)
    except ModelFileError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BUDGET, f"a mutated file made the loader trace {peak} bytes"


def header_split(data: bytes):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def with_metadata(data: bytes, key: str, document) -> bytes:
    header, body = header_split(data)
    header["__metadata__"][key] = json.dumps(document)
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def restore_checkpoint(path) -> None:
    checkpoint = io.load_checkpoint(path)
    model = small_model()
    checkpoint.restore(
        model, optim.Adam(model.parameters(), lr=0.1), generators={"fit": np.random.default_rng(0)}
    )


# ------------------------------------------------------------------ targets
@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("originals")
    model_file = folder / "model.safetensors"
    io.save(small_model(), model_file)
    checkpoint = trained_checkpoint(folder / "ck")
    found = {"model": model_file.read_bytes(), "checkpoint": open(checkpoint, "rb").read()}
    try:
        from chainrule.estimators import MLPClassifier
    except ImportError:
        return found
    X = np.random.default_rng(0).normal(size=(12, 3))
    estimator = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(
        X, np.arange(12) % 3
    )
    cr.save(estimator, folder / "est")
    found["estimator.json"] = (folder / "est" / io.ESTIMATOR_FILE).read_bytes()
    found["estimator weights"] = (folder / "est" / io.WEIGHTS_FILE).read_bytes()
    return found


def check_model_bytes(tmp_path, originals, data):
    edits = data.draw(byte_edits, label="edits")
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(mutate_bytes(originals["model"], edits))
    loads_or_refuses(cr.load, path)


def check_model_json(tmp_path, originals, data):
    header, _ = header_split(originals["model"])
    document = mutate_json(json.loads(header["__metadata__"]["chainrule_config"]), data)
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(with_metadata(originals["model"], "chainrule_config", document))
    loads_or_refuses(cr.load, path)


def check_checkpoint_bytes(tmp_path, originals, data):
    edits = data.draw(byte_edits, label="edits")
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(mutate_bytes(originals["checkpoint"], edits))
    loads_or_refuses(restore_checkpoint, path)


def check_checkpoint_json(tmp_path, originals, data):
    header, _ = header_split(originals["checkpoint"])
    document = mutate_json(json.loads(header["__metadata__"]["chainrule_checkpoint"]), data)
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(with_metadata(originals["checkpoint"], "chainrule_checkpoint", document))
    loads_or_refuses(restore_checkpoint, path)


def estimator_folder(tmp_path, originals, estimator_json: bytes, weights: bytes):
    folder = tmp_path / "est"
    folder.mkdir(exist_ok=True)
    (folder / io.ESTIMATOR_FILE).write_bytes(estimator_json)
    (folder / io.WEIGHTS_FILE).write_bytes(weights)
    return folder


def check_estimator_json(tmp_path, originals, data):
    if "estimator.json" not in originals:
        pytest.skip("needs scikit-learn")
    document = mutate_json(json.loads(originals["estimator.json"]), data)
    folder = estimator_folder(
        tmp_path, originals, json.dumps(document).encode(), originals["estimator weights"]
    )
    loads_or_refuses(cr.load, folder)


def check_estimator_bytes(tmp_path, originals, data):
    if "estimator.json" not in originals:
        pytest.skip("needs scikit-learn")
    edits = data.draw(byte_edits, label="edits")
    in_weights = data.draw(st.booleans(), label="in the weights")
    json_bytes, weights = originals["estimator.json"], originals["estimator weights"]
    if in_weights:
        weights = mutate_bytes(weights, edits)
    else:
        json_bytes = mutate_bytes(json_bytes, edits)
    loads_or_refuses(cr.load, estimator_folder(tmp_path, originals, json_bytes, weights))


# -------------------------------------------------------------------- tests
def fuzz_settings(examples):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=examples == DEFAULT_EXAMPLES,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


CHECKS = {
    "model_bytes": check_model_bytes,
    "model_json": check_model_json,
    "checkpoint_bytes": check_checkpoint_bytes,
    "checkpoint_json": check_checkpoint_json,
    "estimator_json": check_estimator_json,
    "estimator_bytes": check_estimator_bytes,
}


def make_test(check, examples):
    @fuzz_settings(examples)
    @given(data=st.data())
    def test(tmp_path, originals, data):
        check(tmp_path, originals, data)

    test.__doc__ = f"{check.__name__} on {examples} mutated files."
    return test


for _name, _check in CHECKS.items():
    globals()[f"test_fuzz_{_name}"] = make_test(_check, DEFAULT_EXAMPLES)
    globals()[f"test_fuzz_many_{_name}"] = pytest.mark.slow(make_test(_check, SLOW_EXAMPLES))
