"""Versions of a model, checkpoint or estimator that say which version they are, saved in a loop.

Run as a script (``python save_loop.py KIND PATH``) it saves versions 1, 2, 3, …
of KIND to PATH forever, printing each version number once its save has
returned; the crash test kills it at a random moment. :func:`identify` reads
what is at PATH, checks that it is complete and self-consistent, and returns
its version number.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

KINDS = ("folder", "file", "checkpoint", "estimator")


def _model(version: int):
    """Linear(64, 8 + version % 3) whose weight and bias all equal ``version``."""
    from chainrule import nn

    model = nn.Linear(64, 8 + version % 3)
    model.weight.data[...] = version
    model.bias.data[...] = version
    return model


_ESTIMATORS: dict = {}


def _estimator(version: int):
    """A fitted MLPClassifier with ``version % 3 + 2`` classes and ``n_iter_ = version``."""
    from chainrule.estimators import MLPClassifier

    variant = version % 3
    if variant not in _ESTIMATORS:
        X = np.random.default_rng(variant).normal(size=(24, 6))
        y = np.arange(24) % (variant + 2)
        _ESTIMATORS[variant] = MLPClassifier(
            hidden_layer_sizes=(32,), max_iter=1, random_state=variant
        ).fit(X, y)
    estimator = _ESTIMATORS[variant]
    estimator.n_iter_ = version
    return estimator


def save(kind: str, version: int, path: str) -> None:
    from chainrule import io

    if kind == "folder":
        io.save(_model(version), path, info={"version": version})
    elif kind == "file":
        io.save(_model(version), path, info={"version": version})
    elif kind == "checkpoint":
        io.save_checkpoint(path, _model(version), epoch=version)
    else:
        io.save(_estimator(version), path)


def _weights_version(model) -> int:
    values = np.unique(np.concatenate([model.weight.data.ravel(), model.bias.data.ravel()]))
    assert values.size == 1, f"weights from several versions: {values}"
    version = int(values[0])
    assert model.out_features == 8 + version % 3, "architecture and weights from different versions"
    return version


def identify(kind: str, path: str) -> int:
    """The version held at ``path``, after checking every part of it belongs to that version."""
    import chainrule as cr
    from chainrule import io

    if kind == "checkpoint":
        checkpoint = io.load_checkpoint(path)
        version = _weights_version(checkpoint.model)
        assert checkpoint.epoch == version
        return version
    loaded = cr.load(path)
    if kind == "estimator":
        version = int(loaded.n_iter_)
        assert len(loaded.classes_) == version % 3 + 2, (
            "classes and fitted fields from different versions"
        )
        expected = _estimator(version)
        X = np.random.default_rng(99).normal(size=(5, 6))
        np.testing.assert_allclose(loaded.predict_proba(X), expected.predict_proba(X), rtol=1e-6)
        return version
    version = _weights_version(loaded)
    assert io.read_info(path)["version"] == version
    if kind == "folder":
        with open(os.path.join(path, io.CONFIG_FILE)) as handle:
            config = json.load(handle)
        assert config["info"]["version"] == version, (
            "config.json from another save than the weights"
        )
    return version


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as scratch:  # imports and first-call work, before the loop
        for version in range(3):
            save(kind, version, os.path.join(scratch, os.path.basename(path)))
    print("ready", flush=True)
    version = 1
    while True:
        save(kind, version, path)
        print(version, flush=True)
        version += 1


if __name__ == "__main__":
    main()
