"""The architecture JSON and the registry of the types it may name.

A model is described as a tree of nodes
``{"type": "Linear", "config": {...}, "children": {name: node, ...}}`` built
from each layer's ``get_config()`` and ``named_children()``. A node whose type
is defined outside :mod:`chainrule.nn` also records ``"module"``, the module
that defines it.

Type names resolve through an allowlist: the layers of :mod:`chainrule.nn`,
and the types registered with :func:`register_module` by the modules that
define them (the CLI presets register themselves this way; so can yours).
When a file names a type that is not registered yet and records a
``"module"`` inside the chainrule package, that module is imported so that
it can register its types; no other module is ever imported, and anything
unknown is refused with :class:`~chainrule.io.errors.ModelFileError`.

Loading is bounded: :func:`check_architecture` enforces
:data:`~chainrule.io.errors.MAX_MODULES` and
:data:`~chainrule.io.errors.MAX_NESTING`, and :func:`check_tensors` compares
the state the configs imply with the tensors in the file before
:func:`build_model` allocates anything.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable

from .errors import MAX_MODULES, MAX_NESTING, ModelFileError
from .shapes import LIBRARY_STATE_SHAPES

__all__ = [
    "CONTAINER_TYPES",
    "build_model",
    "check_architecture",
    "check_tensors",
    "model_config",
    "register_module",
    "registered_types",
]

CONTAINER_TYPES = frozenset({"Sequential", "ModuleList", "ModuleDict"})
"""Types rebuilt from their children; every other type builds its own children from its config."""

StateShapes = Callable[[dict], dict]

_REGISTERED: dict[str, type] = {}
_STATE_SHAPES: dict[str, StateShapes] = dict(LIBRARY_STATE_SHAPES)
_IMPORTABLE = re.compile(r"chainrule(\._?[a-z][a-z0-9_]*)+")


def register_module(cls=None, *, name: str | None = None, state_shapes: StateShapes | None = None):
    """Allow ``cls`` (a Module subclass with ``get_config()``) in saved architectures.

    Usable as a decorator, with or without arguments. The class is rebuilt on
    load as ``cls(**config)``, so ``get_config()`` must return its constructor
    arguments as JSON values.

    Parameters
    ----------
    name : str, optional
        The type name written in files (the class name by default).
    state_shapes : callable, optional
        ``config → {state_dict key: (shape, "float" or "int")}``: the module's
        whole state (children included) that a config implies. With it, a file
        is checked against its config before the module is built, so the
        loader's work stays bounded by the file; without it the constructor runs
        first and the built state is checked afterwards.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> from chainrule.io import register_module
    >>> @register_module
    ... class Scale(nn.Module):
    ...     def __init__(self, factor=2.0):
    ...         super().__init__()
    ...         self.factor = factor
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    ...     def forward(self, x):
    ...         return x * self.factor
    >>> registered_types()["Scale"] is Scale
    True
    """
    from ..nn import Module

    def add(klass):
        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"register_module: expected a Module subclass, received {klass!r}")
        key = name or klass.__name__
        existing = registered_types().get(key)
        redefined = existing is not None and (existing.__module__, existing.__qualname__) == (
            klass.__module__, klass.__qualname__)  # defined again (a re-run notebook cell)
        if existing is not None and existing is not klass and not redefined:
            raise ValueError(
                f"register_module: the type name {key!r} is already taken by {existing!r}"
            )
        _REGISTERED[key] = klass
        if state_shapes is not None:
            _STATE_SHAPES[key] = state_shapes
        return klass

    return add if cls is None else add(cls)


def _library_types() -> dict[str, type]:
    from .. import nn

    found = {}
    for attr in dir(nn):
        obj = getattr(nn, attr)
        if (
            isinstance(obj, type)
            and issubclass(obj, nn.Module)
            and obj is not nn.Module
            and obj.__module__.startswith("chainrule.nn")
        ):
            found[obj.__name__] = obj
    return found


def registered_types() -> dict[str, type]:
    """The allowlist: type name → class, for every type a loader may construct.

    Examples
    --------
    >>> "Linear" in registered_types()
    True
    """
    types = _library_types()
    types.update(_REGISTERED)
    return types


def import_defining_module(module_name, file) -> None:
    """Import ``module_name`` if it is a module of the chainrule package, so it registers its types.

    Names outside chainrule (or private and dunder ones such as ``__main__``)
    are never imported.
    """
    if not (isinstance(module_name, str) and _IMPORTABLE.fullmatch(module_name)):
        return
    try:
        importlib.import_module(module_name)
    except ImportError as error:
        raise ModelFileError(
            f"{file}: the module {module_name} that defines its types cannot be imported ({error})"
        ) from None


# ------------------------------------------------------------ describing
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

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> model_config(nn.Sequential(nn.ReLU()))["children"]["0"]
    {'type': 'ReLU', 'config': {}, 'children': {}}
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
                f"save: the config of {path} ({name}) is not JSON-serialisable: {error}; "
                f"received {config!r}"
            ) from None
        described = {"type": name}
        if not type(module).__module__.startswith("chainrule.nn"):
            described["module"] = type(module).__module__
        children = {
            child_name: node(child, f"{path}.{child_name}")
            for child_name, child in module.named_children()
        }
        described.update(config=config, children=children)
        return described

    return node(model, "model")


# -------------------------------------------------------------- checking
def _parts(node, path, file):
    if not isinstance(node, dict):
        raise ModelFileError(
            f"{file}: invalid architecture at {path}: expected an object, "
            f"received {type(node).__name__}"
        )
    if not isinstance(node.get("type"), str):
        raise ModelFileError(
            f"{file}: invalid architecture at {path}: expected a string 'type', "
            f"received {node.get('type')!r}"
        )
    config = node.get("config", {})
    children = node.get("children", {})
    if not isinstance(config, dict):
        raise ModelFileError(
            f"{file}: invalid architecture at {path}: 'config' must be an object, "
            f"received {config!r}"
        )
    if not isinstance(children, dict):
        raise ModelFileError(
            f"{file}: invalid architecture at {path}: 'children' must be an object, "
            f"received {children!r}"
        )
    return node["type"], config, children


def check_architecture(tree, file="architecture") -> None:
    """Validate the tree's structure and limits (walked iteratively, nothing built).

    Raises
    ------
    ModelFileError
        A node is malformed, names a type that is not allowed, the tree holds
        more than :data:`~chainrule.io.errors.MAX_MODULES` modules or nests
        deeper than :data:`~chainrule.io.errors.MAX_NESTING`.
    """
    types = registered_types()
    stack, count = [(tree, "model", 1)], 0
    while stack:
        node, path, depth = stack.pop()
        count += 1
        if count > MAX_MODULES:
            raise ModelFileError(
                f"{file}: the architecture holds more than the limit of {MAX_MODULES} modules"
            )
        if depth > MAX_NESTING:
            raise ModelFileError(
                f"{file}: the architecture nests modules deeper than the limit of "
                f"{MAX_NESTING} at {path}"
            )
        type_name, _, children = _parts(node, path, file)
        if type_name not in types:
            import_defining_module(node.get("module"), file)
            types = registered_types()
        if type_name not in types:
            raise ModelFileError(
                f"{file}: unknown layer type {type_name!r} at {path}: only chainrule layers and "
                "registered "
                f"types can be loaded (known: {', '.join(sorted(types))})"
            )
        stack.extend((child, f"{path}.{name}", depth + 1) for name, child in children.items())


def _implied_state(node, prefix, path, file, found, open_prefixes) -> None:
    """Collect the implied state, ``found[key] = (shape, kind)``, and prefixes of unknown state."""
    type_name, config, children = _parts(node, path, file)
    shapes = _STATE_SHAPES.get(type_name)
    if shapes is not None and type_name not in CONTAINER_TYPES:
        try:
            own = shapes(config)
        except (TypeError, ValueError) as error:
            raise ModelFileError(
                f"{file}: cannot build {type_name} at {path} from config {config!r}: {error}"
            ) from None
        for key, (shape, kind) in own.items():
            found[prefix + key] = (tuple(shape), kind)
        return
    if type_name not in CONTAINER_TYPES:
        open_prefixes.append(prefix)
    for name, child in children.items():
        _implied_state(child, f"{prefix}{name}.", f"{path}.{name}", file, found, open_prefixes)


def _kind_of(dtype) -> str:
    return {"f": "float", "i": "int", "u": "int"}.get(dtype.kind, dtype.kind)


def check_tensors(tree, tensors: dict, file, dtype=None) -> None:
    """Compare the state the architecture implies with ``tensors`` (name → array), before building.

    Every tensor the configs imply must be present with its shape and kind of
    dtype (floating ``dtype`` itself when given); every tensor in the file must
    be implied, except under a module whose type declares no state shapes
    (that one is checked once built).

    Raises
    ------
    ModelFileError
        Naming the missing, unexpected and mismatched tensors.
    """
    found: dict = {}
    open_prefixes: list[str] = []
    _implied_state(tree, "", "model", file, found, open_prefixes)
    problems = []
    missing = [key for key in found if key not in tensors]
    unexpected = [
        key
        for key in tensors
        if key not in found and not any(key.startswith(p) for p in open_prefixes)
    ]
    if missing:
        problems.append("missing tensors: " + ", ".join(missing[:20]))
    if unexpected:
        problems.append("unexpected tensors: " + ", ".join(unexpected[:20]))
    for key, (shape, kind) in found.items():
        if key not in tensors:
            continue
        held = tensors[key]
        if tuple(held.shape) != shape:
            problems.append(
                f"{key} has shape {tuple(held.shape)} but the architecture needs {shape}"
            )
        elif _kind_of(held.dtype) != kind or (
            kind == "float" and dtype is not None and held.dtype != dtype
        ):
            needed = dtype if kind == "float" and dtype is not None else f"a {kind} dtype"
            problems.append(f"{key} has dtype {held.dtype} but the architecture needs {needed}")
    if problems:
        raise ModelFileError(
            f"{file}: the weights do not match the architecture: " + "; ".join(problems)
        )


# -------------------------------------------------------------- building
def build_model(tree: dict, _path: str = "model", *, file="architecture"):
    """Construct a model (with fresh weights) from an architecture tree.

    Containers (Sequential, ModuleList) are rebuilt from their children; every
    other type is called as ``cls(**config)`` and builds its own children,
    which are checked against the tree. The tree is validated first
    (:func:`check_architecture`); unknown types raise
    :class:`~chainrule.io.errors.ModelFileError` and nothing is constructed.

    Examples
    --------
    >>> tree = {"type": "Sequential", "config": {}, "children": {
    ...     "0": {"type": "Linear", "config": {"in_features": 2, "out_features": 1}}}}
    >>> build_model(tree)[0].weight.shape
    (1, 2)
    """
    if _path == "model":
        check_architecture(tree, file)
    types = registered_types()
    type_name, config, children = _parts(tree, _path, file)
    try:
        module = types[type_name](**config)
    except Exception as error:  # noqa: BLE001 - a constructor fed a bad config may raise anything
        raise ModelFileError(
            f"{file}: cannot build {type_name} at {_path} from config {config!r}: {error}"
        ) from None
    if type_name in CONTAINER_TYPES:
        for child_name, child in children.items():
            module.add_module(
                str(child_name), build_model(child, f"{_path}.{child_name}", file=file)
            )
    else:
        _check_children(module, children, _path, file, {cls: name for name, cls in types.items()})
    return module


def _check_children(module, children, path, file, types_by_class):
    """A self-building module's children must have the types the file records."""
    built = dict(module.named_children())
    for child_name, child_tree in children.items():
        child_type, _, grandchildren = _parts(child_tree, f"{path}.{child_name}", file)
        if child_name not in built:
            raise ModelFileError(
                f"{file}: architecture mismatch at {path}: the file lists a child {child_name!r} "
                f"({child_type}) that {type(module).__name__} does not build"
            )
        actual = types_by_class.get(type(built[child_name]), type(built[child_name]).__name__)
        if actual != child_type:
            raise ModelFileError(
                f"{file}: architecture mismatch at {path}.{child_name}: "
                f"the file says {child_type}, "
                f"the config builds {actual}"
            )
        _check_children(
            built[child_name], grandchildren, f"{path}.{child_name}", file, types_by_class
        )
