"""Torn-free saves: a file or folder holds the previous version or the new one, never a mix."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import io, nn
from chainrule.io import atomic

# Estimators here fit for a few epochs on purpose: their ConvergenceWarning is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Stochastic Optimizer. Maximum iterations")


def weights_of(model):
    return {k: np.asarray(v).copy() for k, v in model.state_dict().items()}


def folder_bytes(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def fail_half_way(handle, data):
    handle.write(data[: len(data) // 2])
    raise OSError(28, "No space left on device")


def test_a_folder_save_replaces_the_whole_folder(tmp_path):
    first, second = nn.Sequential(nn.Linear(3, 2)), nn.Sequential(nn.Linear(3, 5), nn.ReLU())
    io.save(first, tmp_path / "m")
    io.save(second, tmp_path / "m")
    assert sorted(os.listdir(tmp_path)) == ["m"]  # nothing staged is left beside it
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["architecture"]["children"]["0"]["config"]["out_features"] == 5
    assert cr.load(tmp_path / "m")[0].out_features == 5


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_folder_save_works_with_and_without_the_atomic_exchange(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    for width in (2, 3, 4):
        io.save(nn.Linear(3, width), tmp_path / "m")
    assert cr.load(tmp_path / "m").out_features == 4
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_stale_temporaries_are_removed_by_the_next_save(tmp_path):
    io.save(nn.Linear(2, 2), tmp_path / "m")
    io.save(nn.Linear(2, 2), tmp_path / "w.safetensors")
    stale = [tmp_path / ".m.chainrule-staging-abc123", tmp_path / ".m.chainrule-old-x1"]
    for folder in stale:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"partial")
    (tmp_path / ".w.safetensors.chainrule-tmp-q9z").write_bytes(b"partial")
    keep = tmp_path / ".other.chainrule-tmp-q9z"
    keep.write_bytes(b"not ours")
    io.save(nn.Linear(2, 2), tmp_path / "m")
    io.save(nn.Linear(2, 2), tmp_path / "w.safetensors")
    assert sorted(os.listdir(tmp_path)) == [".other.chainrule-tmp-q9z", "m", "w.safetensors"]


def test_a_failed_folder_save_leaves_the_previous_version_and_names_the_path(tmp_path, monkeypatch):
    good = nn.Sequential(nn.Linear(3, 2))
    io.save(good, tmp_path / "m")
    before = folder_bytes(tmp_path / "m")
    monkeypatch.setattr(atomic, "_write_file", fail_half_way)
    with pytest.raises(OSError, match=f"could not write {tmp_path / 'm'}.*No space left") as caught:
        io.save(nn.Sequential(nn.Linear(3, 7)), tmp_path / "m")
    assert caught.value.errno == 28
    assert folder_bytes(tmp_path / "m") == before
    assert sorted(os.listdir(tmp_path)) == ["m"]
    monkeypatch.undo()
    np.testing.assert_array_equal(cr.load(tmp_path / "m")[0].weight.data, good[0].weight.data)


def test_a_failed_first_folder_save_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_write_file", fail_half_way)
    with pytest.raises(OSError, match="could not write"):
        io.save(nn.Linear(3, 2), tmp_path / "new")
    assert os.listdir(tmp_path) == []


def test_a_failed_file_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    io.save(nn.Linear(3, 2), path)
    before = path.read_bytes()
    monkeypatch.setattr(atomic, "_write_file", fail_half_way)
    with pytest.raises(OSError, match=f"could not write {path}"):
        io.save(nn.Linear(3, 9), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.safetensors"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions"
)
def test_a_save_into_a_read_only_folder_names_the_path(tmp_path):
    io.save(nn.Linear(3, 2), tmp_path / "m")
    os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(PermissionError, match=str(tmp_path / "m")):
            io.save(nn.Linear(3, 2), tmp_path / "m")
    finally:
        os.chmod(tmp_path, 0o700)


def test_a_folder_holding_other_files_is_refused_untouched(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds files this save does not own.*notes.txt"):
        io.save(nn.Linear(2, 2), tmp_path / "results")
    assert os.listdir(tmp_path / "results") == ["notes.txt"]


def test_a_model_may_replace_an_estimator_folder_and_back(tmp_path):
    pytest.importorskip("sklearn")
    from chainrule.estimators import MLPRegressor

    X = np.random.default_rng(0).normal(size=(20, 3))
    estimator = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, X[:, 0])
    cr.save(estimator, tmp_path / "m")
    cr.save(nn.Linear(2, 2), tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["config.json", "model.safetensors"]
    cr.save(estimator, tmp_path / "m")
    assert type(cr.load(tmp_path / "m")) is MLPRegressor


def test_a_failed_estimator_save_leaves_the_previous_estimator(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    from chainrule.estimators import MLPClassifier

    X = np.random.default_rng(0).normal(size=(20, 3))
    old = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(
        X, np.arange(20) % 2
    )
    new = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=1).fit(
        X, np.arange(20) % 3
    )
    cr.save(old, tmp_path / "est")
    before = folder_bytes(tmp_path / "est")
    calls = {"n": 0}

    def fail_on_the_last_file(handle, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        handle.write(data)

    monkeypatch.setattr(atomic, "_write_file", fail_on_the_last_file)
    with pytest.raises(OSError, match="could not write"):
        cr.save(new, tmp_path / "est")
    monkeypatch.undo()
    assert folder_bytes(tmp_path / "est") == before
    back = cr.load(tmp_path / "est")
    np.testing.assert_array_equal(back.classes_, old.classes_)
    np.testing.assert_array_equal(back.predict(X), old.predict(X))
