"""Saving and loading models, estimators and training checkpoints: safetensors + JSON, never pickle.

The package, one concern a module:

- :mod:`~chainrule.io.errors`: :class:`ModelFileError` and the limits every loader enforces;
- :mod:`~chainrule.io.files`: reading safetensors and JSON, validated and bounded;
- :mod:`~chainrule.io.atomic`: atomic writes of a file or a whole folder;
- :mod:`~chainrule.io.architecture`: the architecture JSON and the type registry
  (:func:`register_module`);
- :mod:`~chainrule.io.shapes`: the tensors each library layer's config implies;
- :mod:`~chainrule.io.model`: :func:`save_model`, :func:`load_model`;
- :mod:`~chainrule.io.checkpoint`: :func:`save_checkpoint`, :func:`load_checkpoint`;
- :mod:`~chainrule.io.state_dict`: :func:`save_state_dict`, :func:`load_state_dict` (bare
  state dicts, readable by ``safetensors.torch``);
- :mod:`~chainrule.io.estimator`: estimator folders, :func:`register_estimator`, and
  :func:`save`/:func:`load`, which dispatch between a model and an estimator.

What a loader promises: every way a file can be wrong raises
:class:`ModelFileError` naming the file and the problem, and the work a file
can cause is bounded by its own size plus the model it truly holds. What a
save promises: the target holds the previous version or the new one,
complete, whatever happens during the save (see ``docs/guide/persistence.md``).

Examples
--------
>>> import os, tempfile
>>> import chainrule, chainrule.nn as nn
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.safetensors")
>>> _ = chainrule.save(nn.Sequential(nn.Linear(4, 2), nn.ReLU()), path)
>>> chainrule.load(path)[0].weight.shape
(2, 4)
"""

from __future__ import annotations

from .architecture import (
    CONTAINER_TYPES,
    build_model,
    check_architecture,
    check_tensors,
    model_config,
    register_module,
    registered_types,
)
from .atomic import atomic_write_bytes, remove_stale_temporaries, write_folder
from .checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    load_checkpoint,
    restore_generator,
    save_checkpoint,
)
from .errors import MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_MODULES, MAX_NESTING, ModelFileError
from .estimator import (
    ESTIMATOR_FILE,
    ESTIMATOR_FORMAT,
    check_fields,
    load,
    read_estimator,
    register_estimator,
    save,
    save_estimator,
)
from .files import parse_json, read_safetensors
from .model import (
    CONFIG_FILE,
    FORMAT_VERSION,
    MODEL_FORMAT,
    WEIGHTS_FILE,
    architecture_document,
    load_model,
    load_weights,
    model_files,
    model_from_document,
    read_info,
    save_model,
)
from .state_dict import load_state_dict, save_state_dict

__all__ = [
    "CHECKPOINT_FORMAT",
    "CONFIG_FILE",
    "CONTAINER_TYPES",
    "ESTIMATOR_FILE",
    "ESTIMATOR_FORMAT",
    "FORMAT_VERSION",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_MODULES",
    "MAX_NESTING",
    "MODEL_FORMAT",
    "WEIGHTS_FILE",
    "Checkpoint",
    "ModelFileError",
    "architecture_document",
    "atomic_write_bytes",
    "build_model",
    "check_architecture",
    "check_fields",
    "check_tensors",
    "load",
    "load_state_dict",
    "load_checkpoint",
    "load_model",
    "load_weights",
    "model_config",
    "model_files",
    "model_from_document",
    "parse_json",
    "read_estimator",
    "read_info",
    "read_safetensors",
    "register_estimator",
    "register_module",
    "registered_types",
    "remove_stale_temporaries",
    "restore_generator",
    "save",
    "save_state_dict",
    "save_checkpoint",
    "save_estimator",
    "save_model",
    "write_folder",
]
