"""Saving and loading models and training checkpoints: safetensors + JSON, never pickle.

Formats
-------
**Model** (:func:`save`, :func:`load`). The primary format is a folder::

    my_model/
        model.safetensors   the weights (``state_dict`` keys) and, in the file's
                            metadata header, the architecture as JSON
        config.json         a readable copy of that architecture JSON

``model.safetensors`` is self-contained: it alone is enough to rebuild the
model, and being one file it is replaced atomically, so a folder never holds
weights from one save and an architecture from another. Saving to a path
ending in ``.safetensors`` writes just that file. ``load`` reads the
architecture from the weights file; when a safetensors file carries no
chainrule metadata (say, weights saved by PyTorch's ``safetensors.torch``),
a ``config.json`` next to it is used instead.

The architecture JSON is a tree of nodes
``{"type": "Linear", "config": {...}, "children": {name: node, ...}}`` built
from each layer's ``get_config()`` and ``named_children()``. Type names are
resolved through an allowlist of the library's layers and the CLI presets
(:func:`registered_types`); anything else is refused with :class:`ModelFileError`.
Your own layer classes can be allowed with :func:`register_module`.

**Checkpoint** (:func:`save_checkpoint`, :func:`load_checkpoint`): one
``.safetensors`` file holding the model weights (``model.<key>``), the
optimizer's arrays (``optimizer.<n>``) and, as JSON metadata, the
architecture, the optimizer's other state, the number of finished epochs, the
random generators' states (NumPy's ``bit_generator.state``), the history and
callback states. :func:`load` also accepts a checkpoint and returns its model.

Every write goes to a temporary file in the destination folder, is flushed and
fsynced, then moved over the old file with :func:`os.replace`: a crash or an
error mid-save leaves the previous file intact. Every read is validated; a
file that is truncated, corrupt, not safetensors, whose JSON is invalid or
whose tensors disagree with the architecture raises :class:`ModelFileError`
(a :class:`ValueError`) with a message that says which.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import OrderedDict

from .backend import is_float_dtype, to_numpy, xp

__all__ = [
    "Checkpoint",
    "ModelFileError",
    "atomic_write_bytes",
    "build_model",
    "load",
    "load_checkpoint",
    "model_config",
    "read_info",
    "read_safetensors",
    "register_module",
    "registered_types",
    "restore_generator",
    "save",
    "save_checkpoint",
]

MODEL_FORMAT = "chainrule.model"
CHECKPOINT_FORMAT = "chainrule.checkpoint"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
ESTIMATOR_FILE = "estimator.json"  # written next to the model by chainrule.estimators
CONTAINER_TYPES = frozenset({"Sequential", "ModuleList", "ModuleDict"})
"""Types rebuilt from their children; every other type builds its own children from its config."""


class ModelFileError(ValueError):
    """A model or checkpoint file is unreadable, corrupt, or disagrees with its architecture."""


# ---------------------------------------------------------------- registry
_USER_TYPES: dict[str, type] = {}


def register_module(cls=None, *, name: str | None = None):
    """Allow ``cls`` (a Module subclass with ``get_config()``) in saved architectures.

    Usable as a decorator. The class is rebuilt on load as ``cls(**config)``,
    so ``get_config()`` must return its constructor arguments as JSON values.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> @register_module
    ... class Scale(nn.Module):
    ...     def __init__(self, factor=2.0):
    ...         super().__init__()
    ...         self.factor = factor
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    ...     def forward(self, x):
    ...         return x * self.factor
    """
    from .nn import Module

    def add(klass):
        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"register_module: expected a Module subclass, received {klass!r}")
        key = name or klass.__name__
        existing = registered_types().get(key)
        if existing is not None and existing is not klass:
            raise ValueError(f"register_module: the type name {key!r} is already taken by {existing!r}")
        _USER_TYPES[key] = klass
        return klass

    return add if cls is None else add(cls)


def _library_types() -> dict[str, type]:
    from . import nn

    found = {}
    for attr in dir(nn):
        obj = getattr(nn, attr)
        if (isinstance(obj, type) and issubclass(obj, nn.Module) and obj is not nn.Module
                and obj.__module__.startswith("chainrule.")):
            found[obj.__name__] = obj
    try:
        from . import presets
    except ImportError:  # pragma: no cover - presets need the layers
        return found
    for cls in presets.MODEL_CLASSES:
        found[cls.__name__] = cls
    return found


def registered_types() -> dict[str, type]:
    """The allowlist: type name → class, for every type :func:`load` may construct."""
    types = _library_types()
    types.update(_USER_TYPES)
    return types


# ------------------------------------------------------------ architecture
def _type_name(module, types_by_class) -> str:
    name = types_by_class.get(type(module))
    if name is None:
        raise ValueError(
            f"save: cannot describe a {type(module).__name__} module: it is not a chainrule layer "
            "or a registered type. Build the model from chainrule.nn layers, register your class "
            "with chainrule.io.register_module (it needs get_config()), or save model.state_dict() "
            "with safetensors yourself."
        )
    return name


def model_config(model) -> dict:
    """The architecture tree of ``model``: ``{"type", "config", "children"}`` nodes.

    Raises ValueError when a module is not an allowed type or its config is
    not JSON-serialisable.
    """
    types_by_class = {cls: name for name, cls in registered_types().items()}

    def node(module, path):
        name = _type_name(module, types_by_class)
        get_config = getattr(module, "get_config", None)
        config = dict(get_config()) if callable(get_config) else {}
        try:
            json.dumps(config, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"save: the config of {path} ({name}) is not JSON-serialisable: {error}; received {config!r}"
            ) from None
        children = OrderedDict(
            (child_name, node(child, f"{path}.{child_name}")) for child_name, child in module.named_children()
        )
        return {"type": name, "config": config, "children": children}

    return node(model, "model")


def _check_node(node, path):
    if not isinstance(node, dict):
        raise ModelFileError(f"invalid architecture at {path}: expected an object, received {type(node).__name__}")
    if not isinstance(node.get("type"), str):
        raise ModelFileError(f"invalid architecture at {path}: expected a string 'type', received {node.get('type')!r}")
    config = node.get("config", {})
    children = node.get("children", {})
    if not isinstance(config, dict):
        raise ModelFileError(f"invalid architecture at {path}: 'config' must be an object, received {config!r}")
    if not isinstance(children, dict):
        raise ModelFileError(f"invalid architecture at {path}: 'children' must be an object, received {children!r}")
    return node["type"], config, children


def build_model(tree: dict, _path: str = "model"):
    """Construct a model (with fresh weights) from an architecture tree.

    Containers (Sequential, ModuleList) are rebuilt from their children; every
    other type is called as ``cls(**config)`` and builds its own children,
    which are checked against the tree. Unknown types raise
    :class:`ModelFileError` (a ValueError) and nothing is constructed.
    """
    types = registered_types()
    type_name, config, children = _check_node(tree, _path)
    cls = types.get(type_name)
    if cls is None:
        raise ModelFileError(
            f"unknown layer type {type_name!r} at {_path}: only chainrule layers and registered "
            f"types can be loaded (known: {', '.join(sorted(types))})"
        )
    try:
        module = cls(**config)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"cannot build {type_name} at {_path} from config {config!r}: {error}") from None
    if type_name in CONTAINER_TYPES:
        for child_name, child in children.items():
            module.add_module(str(child_name), build_model(child, f"{_path}.{child_name}"))
    else:
        _check_children(module, children, _path)
    return module


def _check_children(module, children, path):
    """A self-building module's children must have the types the file records."""
    built = dict(module.named_children())
    types_by_class = {cls: name for name, cls in registered_types().items()}
    for child_name, child_tree in children.items():
        child_type, _, grandchildren = _check_node(child_tree, f"{path}.{child_name}")
        if child_name not in built:
            raise ModelFileError(
                f"architecture mismatch at {path}: the file lists a child {child_name!r} "
                f"({child_type}) that {type(module).__name__} does not build"
            )
        actual = types_by_class.get(type(built[child_name]), type(built[child_name]).__name__)
        if actual != child_type:
            raise ModelFileError(
                f"architecture mismatch at {path}.{child_name}: the file says {child_type}, "
                f"the config builds {actual}"
            )
        _check_children(built[child_name], grandchildren, f"{path}.{child_name}")


def _architecture_document(model) -> dict:
    from . import __version__
    from .nn import Module

    if not isinstance(model, Module):
        raise TypeError(
            f"save: expected a chainrule.nn.Module or a chainrule estimator, received {type(model).__name__}"
        )

    float_dtypes = sorted({str(p.dtype) for p in model.parameters() if is_float_dtype(p.dtype)})
    return {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "dtype": float_dtypes[0] if len(float_dtypes) == 1 else None,
        "architecture": model_config(model),
    }


# -------------------------------------------------------------- file layer
def _write_file(handle, data: bytes) -> None:
    """Write ``data`` to an open file (a separate step so tests can simulate a failure mid-write)."""
    view = memoryview(data)
    chunk = 1 << 20
    for start in range(0, len(view), chunk):
        handle.write(view[start:start + chunk])


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace.

    If anything fails, the temporary file is removed and whatever was at
    ``path`` before is left untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: the folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_file(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); best effort elsewhere
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)


def _safetensors_bytes(tensors: dict, metadata: dict) -> bytes:
    try:
        from safetensors.numpy import save as st_save
    except ImportError:  # pragma: no cover - exercised only without the package
        raise ImportError("saving models needs the 'safetensors' package: pip install safetensors") from None
    arrays = {key: xp.asarray(to_numpy(value), order="C") for key, value in tensors.items()}  # keeps 0-d
    return st_save(arrays, metadata=metadata)


def read_safetensors(path) -> tuple[dict, dict]:
    """Read and validate a safetensors file; return ``(tensors, metadata)``.

    Raises :class:`ModelFileError` for a file that is too short, truncated,
    has a header that is not JSON, or is otherwise not valid safetensors.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 8:
        raise ModelFileError(f"{path} is not a safetensors file: it is only {len(raw)} bytes long")
    header_size = int.from_bytes(raw[:8], "little")
    if header_size > len(raw) - 8:
        raise ModelFileError(
            f"{path} is truncated or not a safetensors file: its header claims {header_size} bytes "
            f"but the file has {len(raw) - 8} after the size field"
        )
    try:
        header = json.loads(raw[8:8 + header_size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{path} is not a safetensors file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_size = len(raw) - 8 - header_size
    for name, info in header.items():
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)):
            raise ModelFileError(f"{path} is corrupt: tensor {name!r} has no valid data_offsets")
        if offsets[1] > data_size:
            raise ModelFileError(
                f"{path} is truncated: tensor {name!r} ends at byte {offsets[1]} of the data "
                f"but only {data_size} bytes are present"
            )
    try:
        from safetensors.numpy import load as st_load
    except ImportError:  # pragma: no cover
        raise ImportError("loading models needs the 'safetensors' package: pip install safetensors") from None
    try:
        tensors = st_load(raw)
    except Exception as error:  # noqa: BLE001 - safetensors raises its own SafetensorError
        raise ModelFileError(f"{path} is corrupt: safetensors could not read it ({error})") from None
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path} is corrupt: its metadata is not a JSON object")
    return tensors, metadata


def _parse_json(text, what, path):
    try:
        return json.loads(text)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: the {what} is not valid JSON ({error})") from None


# ------------------------------------------------------------------ models
def save(model, path, *, info: dict | None = None) -> str:
    """Save ``model`` (weights + architecture) to a folder, or to one ``.safetensors`` file.

    Parameters
    ----------
    model : chainrule.nn.Module
        Built from library layers (or types registered with :func:`register_module`).
    path : str or os.PathLike
        A folder (created if needed) that receives ``model.safetensors`` and
        ``config.json``; or a file name ending in ``.safetensors``.
    info : dict, optional
        JSON-able facts to keep with the model (the CLI stores the task, the
        class names, the input shape); read back with :func:`read_info`.

    Returns
    -------
    The path written. Raises ValueError before writing anything when the
    architecture cannot be described.

    Examples
    --------
    >>> import chainrule, chainrule.nn as nn          # doctest: +SKIP
    >>> chainrule.save(nn.Sequential(nn.Linear(4, 2)), "runs/tiny")
    'runs/tiny'
    >>> model = chainrule.load("runs/tiny")
    """
    if _is_estimator(model):
        if info is not None:
            raise ValueError("save: info= applies to models, not to estimators")
        return model.save(path)
    path = os.fspath(path)
    document = _architecture_document(model)
    if info is not None:
        try:
            json.dumps(info)
        except (TypeError, ValueError) as error:
            raise ValueError(f"save: info must be JSON-serialisable: {error}") from None
        document["info"] = info
    metadata = {"format": MODEL_FORMAT, "chainrule_config": json.dumps(document)}
    data = _safetensors_bytes(model.state_dict(), metadata)
    if path.endswith(".safetensors"):
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        atomic_write_bytes(path, data)
        return path
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"save: {path!r} exists and is not a folder; give a folder or a .safetensors file name")
    os.makedirs(path, exist_ok=True)
    atomic_write_bytes(os.path.join(path, WEIGHTS_FILE), data)
    atomic_write_bytes(os.path.join(path, CONFIG_FILE), (json.dumps(document, indent=2) + "\n").encode())
    return path


def _is_estimator(obj) -> bool:
    """A chainrule.estimators estimator (checked without importing scikit-learn)."""
    return type(obj).__module__.startswith(__package__ + ".estimators")


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


def _model_from(document, tensors, path):
    if not isinstance(document, dict) or "architecture" not in document:
        raise ModelFileError(f"{path}: the config has no 'architecture' entry")
    version = document.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: format version {version!r} is newer than this chainrule reads ({FORMAT_VERSION})")
    model = build_model(document["architecture"])
    dtype = document.get("dtype")
    if dtype is not None:
        try:
            dtype = xp.dtype(dtype)
        except TypeError:
            raise ModelFileError(f"{path}: invalid dtype {document.get('dtype')!r} in the config") from None
        if is_float_dtype(dtype):
            model.to(dtype)
    _load_weights(model, tensors, path)
    return model


def _load_weights(model, tensors, path):
    expected = model.state_dict()
    problems = []
    missing = [key for key in expected if key not in tensors]
    unexpected = [key for key in tensors if key not in expected]
    if missing:
        problems.append("missing tensors: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected tensors: " + ", ".join(unexpected))
    for key, value in expected.items():
        if key in tensors and tuple(tensors[key].shape) != tuple(xp.shape(value)):
            problems.append(
                f"{key} has shape {tuple(tensors[key].shape)} but the architecture needs {tuple(xp.shape(value))}"
            )
    if problems:
        raise ModelFileError(f"{path}: the weights do not match the architecture: " + "; ".join(problems))
    model.load_state_dict({key: tensors[key] for key in expected})


def load(path):
    """Load what :func:`save` wrote: a model, or a fitted estimator from :mod:`chainrule.estimators`.

    A folder holding ``estimator.json`` is loaded as that estimator (with the
    scikit-learn extra); anything else as a model with :func:`load_model`.
    """
    path = os.fspath(path)
    estimator_file = os.path.join(path, ESTIMATOR_FILE)
    if os.path.isdir(path) and os.path.isfile(estimator_file):
        document = _parse_json(_read_bytes(estimator_file), "estimator JSON", estimator_file)
        from . import estimators

        name = document.get("estimator") if isinstance(document, dict) else None
        if name not in estimators.__all__:
            raise ModelFileError(f"{estimator_file}: unknown estimator type {name!r}; known: {estimators.__all__}")
        return getattr(estimators, name).load(path)
    return load_model(path)


def _read_bytes(path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def load_model(path):
    """Load a model saved by :func:`save` (a folder or a ``.safetensors`` file) or a checkpoint.

    The model is rebuilt from the architecture stored with it (no user code
    needed for library layers), its weights are loaded, and it is returned in
    eval mode.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path`` (or a folder without ``model.safetensors``).
    ModelFileError (ValueError)
        A truncated, corrupt or non-safetensors file, invalid architecture
        JSON, an unknown layer type, or tensors that do not fit the architecture.
    """
    weights, config_path = _resolve_model_file(path)
    tensors, metadata = read_safetensors(weights)
    fmt = metadata.get("format")
    if fmt == CHECKPOINT_FORMAT:
        document = _parse_json(metadata.get("chainrule_checkpoint"), "checkpoint metadata", weights)
        if not isinstance(document, dict):
            raise ModelFileError(f"{weights}: the checkpoint metadata is not a JSON object")
        model_tensors = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        model = _model_from(document.get("model"), model_tensors, weights)
    elif "chainrule_config" in metadata:
        document = _parse_json(metadata["chainrule_config"], "architecture JSON", weights)
        model = _model_from(document, tensors, weights)
    elif config_path is not None:
        document = _parse_json(_read_bytes(config_path), "architecture JSON", config_path)
        model = _model_from(document, tensors, weights)
    else:
        raise ModelFileError(
            f"{weights} holds weights but no architecture: it has no chainrule metadata and "
            f"there is no {CONFIG_FILE} next to it"
        )
    return model.eval()


def read_info(path) -> dict:
    """The ``info`` dict saved with a model by ``save(..., info=...)`` (empty when none)."""
    weights, _ = _resolve_model_file(path)
    _, metadata = read_safetensors(weights)
    key = "chainrule_checkpoint" if metadata.get("format") == CHECKPOINT_FORMAT else "chainrule_config"
    if key not in metadata:
        return {}
    document = _parse_json(metadata[key], "metadata", weights)
    if key == "chainrule_checkpoint":
        document = document.get("model") if isinstance(document, dict) else None
    info = document.get("info") if isinstance(document, dict) else None
    return info if isinstance(info, dict) else {}


# -------------------------------------------------------------- checkpoints
def _encode(obj, tensors: dict, prefix: str):
    """Turn an optimizer/RNG state into JSON values, moving arrays into ``tensors``."""
    from .tensor import Tensor

    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, xp.ndarray):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = obj
        return {"__array__": key}
    if isinstance(obj, xp.generic):
        obj = obj.item()
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, prefix) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors, prefix) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, tensors, prefix) for k, v in obj.items()}
        return {"__items__": [[_encode(k, tensors, prefix), _encode(v, tensors, prefix)] for k, v in obj.items()]}
    raise TypeError(f"save_checkpoint: cannot store a {type(obj).__name__} value in a checkpoint")


def _decode(obj, tensors: dict):
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if set(obj) == {"__array__"}:
        key = obj["__array__"]
        if key not in tensors:
            raise ModelFileError(f"checkpoint is corrupt: the array {key!r} it refers to is missing")
        return xp.array(tensors[key], copy=True)
    if set(obj) == {"__float__"}:
        return float(obj["__float__"])
    if set(obj) == {"__tuple__"}:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if set(obj) == {"__items__"}:
        return {_hashable(_decode(k, tensors)): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


class Checkpoint:
    """What :func:`load_checkpoint` read back.

    Attributes
    ----------
    model : Module
        The model rebuilt from the stored architecture, with the stored weights.
    model_state : dict[str, ndarray]
        The raw weights (``state_dict`` keys), for loading into an existing model.
    optimizer_state : dict or None
        The optimizer's ``state_dict()`` as saved (arrays restored).
    optimizer_type : str or None
    epoch : int
        Number of finished epochs.
    rng : dict[str, dict]
        ``bit_generator.state`` of each saved generator, by name.
    history : dict or None
        ``History.to_dict()`` of the run so far.
    callbacks : dict
        Saved callback states, by callback key.
    extra : dict
        Anything else the caller stored (JSON).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"Checkpoint(epoch={self.epoch}, optimizer={self.optimizer_type}, rng={list(self.rng)})"


def save_checkpoint(path, model, optimizer=None, *, epoch: int = 0, generators: dict | None = None,
                    history=None, callbacks: dict | None = None, extra: dict | None = None) -> str:
    """Write a training checkpoint (one ``.safetensors`` file) atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file (``.safetensors`` is appended when missing).
    model : Module
    optimizer : Optimizer, optional
        Its ``state_dict()``: arrays go into safetensors, the rest into JSON.
    epoch : int
        Number of finished epochs; training resumes at this epoch index.
    generators : dict[str, numpy.random.Generator], optional
        Generators whose ``bit_generator.state`` is stored (as JSON).
    history : History or dict, optional
    callbacks : dict, optional
        JSON-able callback states.
    extra : dict, optional
        Any JSON-able extra information.
    """
    path = os.fspath(path)
    if not path.endswith(".safetensors"):
        path += ".safetensors"
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_tensors: dict = {}
    optimizer_json = None if optimizer is None else _encode(optimizer.state_dict(), optimizer_tensors, "optimizer.")
    rng_tensors: dict = {}
    rng_json = {name: _encode(gen.bit_generator.state, rng_tensors, "rng.")
                for name, gen in (generators or {}).items()}
    tensors.update(optimizer_tensors)
    tensors.update(rng_tensors)
    if history is not None and hasattr(history, "to_dict"):
        history = history.to_dict()
    cb_tensors: dict = {}
    document = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "model": _architecture_document(model),
        "epoch": int(epoch),
        "optimizer_type": None if optimizer is None else type(optimizer).__name__,
        "optimizer": optimizer_json,
        "rng": rng_json,
        "history": _encode(history, cb_tensors, "history."),
        "callbacks": _encode(callbacks or {}, cb_tensors, "callbacks."),
        "extra": _encode(extra or {}, cb_tensors, "extra."),
    }
    tensors.update(cb_tensors)
    metadata = {"format": CHECKPOINT_FORMAT, "chainrule_checkpoint": json.dumps(document)}
    data = _safetensors_bytes(tensors, metadata)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    atomic_write_bytes(path, data)
    return path


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (validated; see :class:`Checkpoint`)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        if os.path.isfile(path + ".safetensors"):
            path += ".safetensors"
        else:
            raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != CHECKPOINT_FORMAT or "chainrule_checkpoint" not in metadata:
        raise ModelFileError(f"{path} is not a chainrule checkpoint (it has no checkpoint metadata)")
    document = _parse_json(metadata["chainrule_checkpoint"], "checkpoint metadata", path)
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: the checkpoint metadata is not a JSON object")
    epoch = document.get("epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"{path}: invalid epoch {epoch!r} in the checkpoint")
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model = _model_from(document.get("model"), model_state, path)
    rng = document.get("rng") or {}
    if not isinstance(rng, dict):
        raise ModelFileError(f"{path}: the checkpoint's rng entry is not an object")
    return Checkpoint(
        path=path,
        model=model,
        model_state=model_state,
        optimizer_state=_decode(document.get("optimizer"), tensors),
        optimizer_type=document.get("optimizer_type"),
        epoch=epoch,
        rng={name: _decode(state, tensors) for name, state in rng.items()},
        history=_decode(document.get("history"), tensors),
        callbacks=_decode(document.get("callbacks") or {}, tensors),
        extra=_decode(document.get("extra") or {}, tensors),
    )


def restore_generator(generator, state: dict) -> None:
    """Set ``generator``'s bit-generator state to a saved ``bit_generator.state`` dict."""
    expected = type(generator.bit_generator).__name__
    if not isinstance(state, dict) or state.get("bit_generator") != expected:
        raise ModelFileError(
            f"checkpoint: the saved generator state is for {state.get('bit_generator') if isinstance(state, dict) else state!r}, "
            f"expected {expected}"
        )
    generator.bit_generator.state = state
