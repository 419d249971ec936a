"""Shared helpers for the io tests: valid files to start from, and ways to rewrite them."""

from __future__ import annotations

import json

import numpy as np
from safetensors.numpy import load_file, save_file

import chainrule as cr
from chainrule import io, nn, optim


def small_model(seed: int = 0):
    """A model with a parameter of every kind the loader checks (float weights, an int counter)."""
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def rewrite_metadata(path, key: str, edit) -> None:
    """Apply ``edit`` to the JSON metadata entry ``key`` of a safetensors file, in place."""
    tensors = load_file(str(path))
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        metadata = json.loads(handle.read(size))["__metadata__"]
    document = json.loads(metadata[key])
    edited = edit(document)
    metadata[key] = (
        edited if isinstance(edited, str) else json.dumps(document if edited is None else edited)
    )
    save_file(tensors, str(path), metadata=metadata)


def write_model_file(path, document, tensors: dict) -> None:
    """A safetensors model file with this architecture document (dict or JSON text) and tensors."""
    text = document if isinstance(document, str) else json.dumps(document)
    save_file(
        {k: np.ascontiguousarray(v) for k, v in tensors.items()},
        str(path),
        metadata={"format": io.MODEL_FORMAT, "chainrule_config": text},
    )


def nested(depth: int) -> str:
    """JSON text: a list nested ``depth`` deep."""
    return "[" * depth + "]" * depth


def trained_checkpoint(path):
    """A checkpoint of a model one Adam step in, with a generator and a history."""
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    model.train()
    model(np.ones((4, 3), dtype=np.float32)).sum().backward()
    optimizer.step()
    generator = np.random.default_rng(3)
    return io.save_checkpoint(
        path,
        model,
        optimizer,
        epoch=2,
        generators={"fit": generator},
        history={"epoch": [0, 1], "history": {"loss": [1.0, 0.5]}},
        callbacks={"EarlyStopping": {"wait": 1}},
    )
