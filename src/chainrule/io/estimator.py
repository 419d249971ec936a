"""Estimator folders, the registry estimators fill, and the ``save``/``load`` dispatch.

An estimator saves as one folder, written as one atomic unit (see
:func:`~chainrule.io.atomic.write_folder`)::

    my_estimator/
        model.safetensors   the network (weights + architecture), as for a model
        config.json         a readable copy of the architecture
        estimator.json      {"format", "version", "estimator", "module", "params", "fitted"}

This module knows no estimator: a class registers itself with
:func:`register_estimator`, and ``estimator.json`` records the module that
defines it, imported on load only when it belongs to the chainrule package.
The estimator checks its own ``params`` and ``fitted`` fields on load, with
:func:`check_fields`.
"""

from __future__ import annotations

import os

from .architecture import import_defining_module
from .atomic import write_folder
from .errors import ModelFileError
from .files import check_version, json_bytes, parse_json, read_bytes
from .model import FOLDER_FILES, load_model, model_files, save_model

__all__ = [
    "ESTIMATOR_FILE",
    "ESTIMATOR_FORMAT",
    "check_fields",
    "load",
    "read_estimator",
    "register_estimator",
    "save",
    "save_estimator",
]

ESTIMATOR_FILE = "estimator.json"
ESTIMATOR_FORMAT = "chainrule.estimator"
ESTIMATOR_VERSION = 1

_ESTIMATORS: dict[str, type] = {}


def register_estimator(cls):
    """Class decorator: let :func:`save` and :func:`load` handle instances of ``cls``.

    ``cls`` needs a ``save(path)`` method and a ``load(path)`` classmethod,
    normally written with :func:`save_estimator` and :func:`read_estimator`.
    """
    if not (
        isinstance(cls, type)
        and callable(getattr(cls, "save", None))
        and callable(getattr(cls, "load", None))
    ):
        raise TypeError(
            f"register_estimator: expected a class with save and load, received {cls!r}"
        )
    _ESTIMATORS[cls.__name__] = cls
    return cls


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


FIELD_KINDS = {
    "int": (
        "a non-negative int",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    ),
    "number": ("a number", _is_number),
    "number_or_null": ("a number or null", lambda v: v is None or _is_number(v)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "number_list": ("a list of numbers", lambda v: isinstance(v, list) and all(map(_is_number, v))),
    "str_list": (
        "a list of strings",
        lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
    ),
    "scalar_list": (
        "a list of strings, numbers or booleans",
        lambda v: isinstance(v, list) and all(isinstance(s, (str, int, float, bool)) for s in v),
    ),
}
"""The kinds :func:`check_fields` knows: name → (description, test)."""


def check_fields(fields, kinds: dict[str, str], file, what: str, *, required=()) -> dict:
    """Check a JSON object read from ``file`` against ``kinds``.

    ``kinds`` maps each field name to a kind of :data:`FIELD_KINDS`.

    Returns ``fields``. Raises ModelFileError naming the file and the field
    when ``fields`` is not an object, lacks a ``required`` field, holds a
    field ``kinds`` does not name, or a value of the wrong kind.

    Examples
    --------
    >>> check_fields({"n_iter_": 3}, {"n_iter_": "int"}, "est/estimator.json", "fitted")
    {'n_iter_': 3}
    """
    if not isinstance(fields, dict):
        raise ModelFileError(
            f"{file}: '{what}' must be an object, received {type(fields).__name__}"
        )
    missing = [name for name in required if name not in fields]
    if missing:
        raise ModelFileError(f"{file}: '{what}' lacks {', '.join(missing)}")
    for name, value in fields.items():
        if name not in kinds:
            raise ModelFileError(
                f"{file}: '{what}' holds an unknown field {name!r}; "
                f"known: {', '.join(sorted(kinds))}"
            )
        description, test = FIELD_KINDS[kinds[name]]
        if not test(value):
            raise ModelFileError(
                f"{file}: '{what}.{name}' must be {description}, received {repr(value)[:80]}"
            )
    return fields


def save_estimator(path, estimator, model, *, params: dict, fitted: dict) -> str:
    """Write an estimator folder (network, ``estimator.json``) as one atomic unit."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        raise ValueError(
            f"{type(estimator).__name__}.save: path must be a folder, received a file name {path!r}"
        )
    document = {
        "format": ESTIMATOR_FORMAT,
        "version": ESTIMATOR_VERSION,
        "estimator": type(estimator).__name__,
        "module": type(estimator).__module__,
        "params": params,
        "fitted": fitted,
    }
    files = model_files(model)
    files[ESTIMATOR_FILE] = json_bytes(document, indent=2, allow_nan=True)
    return write_folder(path, files, replaceable=FOLDER_FILES)


def _estimator_document(path) -> tuple[dict, str]:
    file = os.path.join(os.fspath(path), ESTIMATOR_FILE)
    if not os.path.isfile(file):
        raise FileNotFoundError(
            f"load: {os.fspath(path)!r} has no {ESTIMATOR_FILE}; save the estimator there first"
        )
    document = parse_json(read_bytes(file), "estimator JSON", file)
    if not isinstance(document, dict) or document.get("format") != ESTIMATOR_FORMAT:
        raise ModelFileError(
            f"{file}: not a chainrule estimator file (expected format {ESTIMATOR_FORMAT!r})"
        )
    check_version(document.get("version"), ESTIMATOR_VERSION, file, "version")
    return document, file


def read_estimator(path, cls) -> tuple[dict, dict, object, str]:
    """Read an estimator folder saved by :func:`save_estimator` for class ``cls``.

    Returns ``(params, fitted, model, file)``: the two JSON objects (to be
    checked by the estimator, see :func:`check_fields`), the network, and the
    path of ``estimator.json`` for error messages.
    """
    document, file = _estimator_document(path)
    if document.get("estimator") != cls.__name__:
        raise ModelFileError(
            f"{file} holds a {document.get('estimator')!r}, expected {cls.__name__!r}"
        )
    for field in ("params", "fitted"):
        if not isinstance(document.get(field), dict):
            raise ModelFileError(
                f"{file}: '{field}' must be an object, received {document.get(field)!r}"
            )
    return document["params"], document["fitted"], load_model(path), file


def save(obj, path, **kwargs) -> str:
    """Save a model (:func:`~chainrule.io.model.save_model`) or registered estimator to ``path``."""
    if isinstance(obj, tuple(_ESTIMATORS.values())):
        if kwargs:
            raise ValueError(f"save: {', '.join(kwargs)} applies to models, not to estimators")
        return obj.save(path)
    return save_model(obj, path, **kwargs)


def load(path):
    """Load what :func:`save` wrote: an estimator if ``path`` has ``estimator.json``, else a model.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    ModelFileError
        Anything wrong with the files, naming the file and the problem.
    """
    path = os.fspath(path)
    if not (os.path.isdir(path) and os.path.isfile(os.path.join(path, ESTIMATOR_FILE))):
        return load_model(path)
    document, file = _estimator_document(path)
    name = document.get("estimator")
    if isinstance(name, str) and name not in _ESTIMATORS:
        import_defining_module(document.get("module"), file)
    if not isinstance(name, str) or name not in _ESTIMATORS:
        raise ModelFileError(
            f"{file}: unknown estimator type {name!r}; known: {sorted(_ESTIMATORS)}"
        )
    return _ESTIMATORS[name].load(path)
