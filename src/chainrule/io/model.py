"""Saving and loading a model: safetensors weights plus the architecture JSON.

The primary format is a folder, written as one atomic unit::

    my_model/
        model.safetensors   the weights (``state_dict`` keys) and, in the file's
                            metadata header, the architecture as JSON
        config.json         a readable copy of that architecture JSON

``model.safetensors`` is self-contained: it alone is enough to rebuild the
model. Saving to a path ending in ``.safetensors`` writes just that file.
When a safetensors file carries no chainrule metadata (say, weights saved by
PyTorch's ``safetensors.torch``), a ``config.json`` next to it is used instead.

A load validates before it builds: the JSON is bounded, the architecture's
types and size are checked, and the tensors the configs imply are compared
with those in the file (names, shapes, dtypes) before any parameter is
allocated.
"""

from __future__ import annotations

import json
import os

from ..backend import is_float_dtype, xp
from .architecture import build_model, check_architecture, check_tensors, model_config
from .atomic import atomic_write_bytes, write_folder
from .errors import ModelFileError
from .files import (
    check_version,
    json_bytes,
    parse_json,
    read_bytes,
    read_safetensors,
    safetensors_bytes,
)

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "MODEL_FORMAT",
    "WEIGHTS_FILE",
    "architecture_document",
    "load_model",
    "load_weights",
    "model_files",
    "model_from_document",
    "read_info",
    "save_model",
]

MODEL_FORMAT = "chainrule.model"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FOLDER_FILES = frozenset({WEIGHTS_FILE, CONFIG_FILE, "estimator.json"})
"""What a model or estimator folder may hold; a save replaces exactly these."""


def architecture_document(model, info: dict | None = None) -> dict:
    """The JSON document describing ``model``: format, version, dtype and the architecture tree.

    Raises TypeError when ``model`` is not a Module, ValueError when it cannot be described.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> architecture_document(nn.Linear(2, 1))["dtype"]
    'float32'
    """
    from .. import __version__
    from ..nn import Module

    if not isinstance(model, Module):
        raise TypeError(
            "save: expected a chainrule.nn.Module or a chainrule estimator, "
            f"received {type(model).__name__}"
        )
    float_dtypes = sorted({str(p.dtype) for p in model.parameters() if is_float_dtype(p.dtype)})
    document = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "dtype": float_dtypes[0] if len(float_dtypes) == 1 else None,
        "architecture": model_config(model),
    }
    if info is not None:
        try:
            json.dumps(info, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"save: info must be JSON-serialisable: {error}") from None
        document["info"] = info
    return document


def _weights_bytes(model, document) -> bytes:
    return safetensors_bytes(
        model.state_dict(), {"format": MODEL_FORMAT, "chainrule_config": json.dumps(document)}
    )


def model_files(model, *, info: dict | None = None) -> dict[str, bytes]:
    """The files of a model folder, by name: ``model.safetensors`` and ``config.json``.

    For writers that add files of their own (an estimator's ``estimator.json``)
    and then write the folder in one atomic step with
    :func:`~chainrule.io.atomic.write_folder`.
    """
    document = architecture_document(model, info)
    return {
        WEIGHTS_FILE: _weights_bytes(model, document),
        CONFIG_FILE: json_bytes(document, indent=2),
    }


def save_model(model, path, *, info: dict | None = None) -> str:
    """Save ``model`` (weights + architecture) to a folder, or to one ``.safetensors`` file.

    Parameters
    ----------
    model : chainrule.nn.Module
        Built from library layers (or types registered with
        :func:`~chainrule.io.register_module`).
    path : str or os.PathLike
        A folder (created if needed) that receives ``model.safetensors`` and
        ``config.json``, replaced as one unit; or a file name ending in ``.safetensors``.
    info : dict, optional
        JSON-able facts to keep with the model (the CLI stores the task, the
        class names, the input shape); read back with :func:`read_info`.

    Returns
    -------
    The path written. Raises ValueError before writing anything when the
    architecture cannot be described, OSError naming the path when the write
    fails (the previous version is left intact).

    Examples
    --------
    >>> import os, tempfile
    >>> import chainrule, chainrule.nn as nn
    >>> folder = os.path.join(tempfile.mkdtemp(), "tiny")
    >>> chainrule.save(nn.Sequential(nn.Linear(4, 2)), folder) == folder
    True
    >>> sorted(os.listdir(folder))
    ['config.json', 'model.safetensors']
    >>> chainrule.load(folder)[0].out_features
    2
    """
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        data = _weights_bytes(model, architecture_document(model, info))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        atomic_write_bytes(path, data)
        return path
    return write_folder(path, model_files(model, info=info), replaceable=FOLDER_FILES)


def _resolve_model_file(path) -> tuple[str, str | None]:
    path = os.fspath(path)
    if os.path.isdir(path):
        weights = os.path.join(path, WEIGHTS_FILE)
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"load: the folder {path} has no {WEIGHTS_FILE}")
        config = os.path.join(path, CONFIG_FILE)
        return weights, config if os.path.isfile(config) else None
    if os.path.isfile(path):
        sibling = os.path.join(os.path.dirname(os.path.abspath(path)), CONFIG_FILE)
        return path, sibling if os.path.isfile(sibling) else None
    raise FileNotFoundError(f"load: no model at {path}")


def _document_dtype(document, file):
    dtype = document.get("dtype")
    if dtype is None:
        return None
    try:
        dtype = xp.dtype(dtype) if isinstance(dtype, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or not is_float_dtype(dtype):
        raise ModelFileError(
            f"{file}: invalid dtype {document.get('dtype')!r} in the config; "
            "expected a floating dtype such as 'float32'"
        )
    return dtype


def model_from_document(document, tensors: dict, file):
    """Build the model an architecture document describes and load ``tensors`` into it.

    The document's format version, architecture, dtype and every tensor's
    name, shape and dtype are checked before anything is built.

    Raises
    ------
    ModelFileError
        Naming ``file`` and what is wrong.
    """
    if not isinstance(document, dict) or "architecture" not in document:
        raise ModelFileError(f"{file}: the config has no 'architecture' entry")
    check_version(document.get("format_version", FORMAT_VERSION), FORMAT_VERSION, file,
                  "format version")
    dtype = _document_dtype(document, file)
    check_architecture(document["architecture"], file)
    check_tensors(document["architecture"], tensors, file, dtype)
    model = build_model(document["architecture"], file=file)
    if dtype is not None:
        model.to(dtype)
    load_weights(model, tensors, file)
    return model


def load_weights(model, tensors: dict, file) -> None:
    """Copy ``tensors`` (``state_dict`` keys → arrays) into ``model``, checking each name and shape.

    Raises
    ------
    ModelFileError
        Naming ``file``, the missing and unexpected tensors, and those whose
        shape or kind of dtype (floating or integer) differs from the model's.
    """
    expected = model.state_dict()
    problems = []
    missing = [key for key in expected if key not in tensors]
    unexpected = [key for key in tensors if key not in expected]
    if missing:
        problems.append("missing tensors: " + ", ".join(missing[:20]))
    if unexpected:
        problems.append("unexpected tensors: " + ", ".join(unexpected[:20]))
    for key, value in expected.items():
        if key not in tensors:
            continue
        held, needed = tensors[key], xp.asarray(value)
        if tuple(held.shape) != tuple(needed.shape):
            problems.append(
                f"{key} has shape {tuple(held.shape)} but the architecture needs "
                f"{tuple(needed.shape)}"
            )
        elif (
            is_float_dtype(held.dtype) != is_float_dtype(needed.dtype)
            or held.dtype.kind not in "fiub"
        ):
            problems.append(f"{key} has dtype {held.dtype} but the model holds {needed.dtype}")
    if problems:
        raise ModelFileError(
            f"{file}: the weights do not match the architecture: " + "; ".join(problems)
        )
    model.load_state_dict({key: tensors[key] for key in expected})


def load_model(path):
    """Load a model saved by :func:`save_model` (folder or ``.safetensors`` file) or a checkpoint.

    The model is rebuilt from the architecture stored with it (no user code
    needed for library layers), its weights are loaded, and it is returned in
    eval mode. An estimator folder loads as its network.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path`` (or a folder without ``model.safetensors``).
    ModelFileError (ValueError)
        A truncated, corrupt or non-safetensors file, invalid or oversized
        architecture JSON, an unknown layer type, or tensors that do not fit
        the architecture.
    """
    from .checkpoint import CHECKPOINT_FORMAT, checkpoint_document

    weights, config_path = _resolve_model_file(path)
    tensors, metadata = read_safetensors(weights)
    if metadata.get("format") == CHECKPOINT_FORMAT:
        document = checkpoint_document(metadata, weights)
        model_tensors = {
            k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")
        }
        model = model_from_document(document.get("model"), model_tensors, weights)
    elif "chainrule_config" in metadata:
        document = parse_json(metadata["chainrule_config"], "architecture JSON", weights)
        model = model_from_document(document, tensors, weights)
    elif config_path is not None:
        document = parse_json(read_bytes(config_path), "architecture JSON", config_path)
        model = model_from_document(document, tensors, config_path)
    else:
        raise ModelFileError(
            f"{weights} holds weights but no architecture: it has no chainrule metadata and "
            f"there is no {CONFIG_FILE} next to it"
        )
    return model.eval()


def read_info(path) -> dict:
    """The ``info`` dict saved with a model by ``save(..., info=...)`` (empty when none)."""
    from .checkpoint import CHECKPOINT_FORMAT, checkpoint_document

    weights, _ = _resolve_model_file(path)
    _, metadata = read_safetensors(weights)
    if metadata.get("format") == CHECKPOINT_FORMAT:
        document = checkpoint_document(metadata, weights).get("model")
    elif "chainrule_config" in metadata:
        document = parse_json(metadata["chainrule_config"], "architecture JSON", weights)
    else:
        return {}
    info = document.get("info") if isinstance(document, dict) else None
    return info if isinstance(info, dict) else {}
