"""Training checkpoints: one safetensors file holding everything a run needs to resume.

The file holds the model weights (``model.<key>``), the optimizer's arrays
(``optimizer.<n>``) and, as JSON metadata, the architecture, the optimizer's
other state, the number of finished epochs, the random generators' states
(NumPy's ``bit_generator.state``), the history and the callbacks' states.
Values JSON cannot hold are tagged: ``{"__array__": key}`` (a tensor of the
file), ``{"__float__": "nan"}`` (a non-finite float), ``{"__tuple__": [...]}``
and ``{"__items__": [[key, value], ...]}`` (a dict with non-string keys).

:func:`load_checkpoint` validates every field before it returns, and the
:class:`Checkpoint` methods that restore a run (:meth:`Checkpoint.restore`)
turn whatever a bad value makes the optimizer, a generator or a callback
raise into :class:`~chainrule.io.errors.ModelFileError` naming the file.
"""

from __future__ import annotations

import json
import math
import os

from ..backend import xp
from .atomic import atomic_write_bytes
from .errors import ModelFileError
from .files import check_version, parse_json, read_safetensors, safetensors_bytes
from .model import FORMAT_VERSION, architecture_document, load_weights, model_from_document

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "load_checkpoint",
    "restore_generator",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "chainrule.checkpoint"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_RESTORE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)
"""What a restore method turns into ModelFileError (a state of wrong values may raise any)."""


# ------------------------------------------------------------------ codec
def _encode(obj, tensors: dict, prefix: str):
    """Turn an optimizer/RNG/callback state into JSON values, moving arrays into ``tensors``."""
    from ..tensor import Tensor

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
        return {
            "__items__": [
                [_encode(k, tensors, prefix), _encode(v, tensors, prefix)] for k, v in obj.items()
            ]
        }
    raise TypeError(f"save_checkpoint: cannot store a {type(obj).__name__} value in a checkpoint")


def _hashable(key, file):
    if isinstance(key, list):
        key = tuple(key)
    try:
        hash(key)
    except TypeError:
        raise ModelFileError(
            f"{file}: the checkpoint holds a dict key that is not hashable: {key!r}"
        ) from None
    return key


def _decode(obj, tensors: dict, file):
    """The inverse of :func:`_encode`; a malformed tag raises ModelFileError."""
    if isinstance(obj, list):
        return [_decode(v, tensors, file) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tags = [k for k in obj if k.startswith("__")]
    if not tags:
        return {k: _decode(v, tensors, file) for k, v in obj.items()}
    if len(obj) != 1:
        raise ModelFileError(
            f"{file}: the checkpoint holds a malformed tagged value {sorted(obj)[:5]}"
        )
    tag, value = tags[0], obj[tags[0]]
    if tag == "__array__":
        if not isinstance(value, str) or value not in tensors:
            raise ModelFileError(f"{file} is corrupt: the array {value!r} it refers to is missing")
        return xp.array(tensors[value], copy=True)
    if tag == "__float__":
        if value not in _NON_FINITE:
            raise ModelFileError(
                f"{file}: invalid non-finite float {value!r} (expected 'nan', 'inf' or '-inf')"
            )
        return _NON_FINITE[value]
    if tag == "__tuple__" and isinstance(value, list):
        return tuple(_decode(v, tensors, file) for v in value)
    if (
        tag == "__items__"
        and isinstance(value, list)
        and all(isinstance(pair, list) and len(pair) == 2 for pair in value)
    ):
        return {
            _hashable(_decode(k, tensors, file), file): _decode(v, tensors, file) for k, v in value
        }
    raise ModelFileError(f"{file}: the checkpoint holds a malformed {tag} value")


# ------------------------------------------------------------- validation
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(condition: bool, file, field: str, expected: str, value) -> None:
    if not condition:
        shown = repr(value)
        raise ModelFileError(
            f"{file}: invalid checkpoint field {field!r}: expected {expected}, "
            f"received {shown[:80]}"
        )


def _check_optimizer(state, file) -> None:
    _require(
        isinstance(state, dict)
        and isinstance(state.get("state"), dict)
        and isinstance(state.get("param_groups"), list),
        file,
        "optimizer",
        "an object with 'state' and 'param_groups'",
        state,
    )
    for group in state["param_groups"]:
        _require(
            isinstance(group, dict)
            and isinstance(group.get("params"), list)
            and all(_is_int(i) and i >= 0 for i in group["params"]),
            file,
            "optimizer.param_groups",
            "objects whose 'params' is a list of parameter indices",
            group,
        )
    for key, values in state["state"].items():
        _require(
            (_is_int(key) or (isinstance(key, str) and key.isdigit())) and isinstance(values, dict),
            file,
            "optimizer.state",
            "parameter index → object of state values",
            {key: values},
        )


def _check_history(history, file) -> None:
    if history is None:
        return
    _require(
        isinstance(history, dict)
        and isinstance(history.get("epoch", []), list)
        and isinstance(history.get("history", {}), dict),
        file,
        "history",
        "an object with an 'epoch' list and a 'history' object",
        history,
    )
    _require(
        all(_is_int(e) and 0 <= e < 2**31 for e in history.get("epoch", [])),
        file,
        "history.epoch",
        "a list of epoch numbers",
        history.get("epoch"),
    )
    for key, values in history.get("history", {}).items():
        _require(
            isinstance(values, list) and all(_is_number(v) for v in values),
            file,
            f"history.{key}",
            "a list of numbers",
            values,
        )


def _check_document(document, file) -> None:
    _require(isinstance(document, dict), file, "checkpoint", "a JSON object", document)
    check_version(document.get("format_version", FORMAT_VERSION), FORMAT_VERSION, file,
                  "format_version")
    epoch = document.get("epoch")
    _require(
        _is_int(epoch) and 0 <= epoch < 2**31, file, "epoch", "a number of finished epochs", epoch
    )
    optimizer_type = document.get("optimizer_type")
    _require(
        optimizer_type is None or isinstance(optimizer_type, str),
        file,
        "optimizer_type",
        "an optimizer class name or null",
        optimizer_type,
    )
    _require(
        (optimizer_type is None) == (document.get("optimizer") is None),
        file,
        "optimizer",
        "a state exactly when 'optimizer_type' is set",
        document.get("optimizer"),
    )
    rng = document.get("rng", {})
    _require(
        isinstance(rng, dict)
        and all(
            isinstance(s, dict) and isinstance(s.get("bit_generator"), str) for s in rng.values()
        ),
        file,
        "rng",
        "generator name → bit_generator state",
        rng,
    )
    for field in ("callbacks", "extra"):
        value = document.get(field, {})
        _require(isinstance(value, dict), file, field, "an object", value)
    _require(
        all(isinstance(s, dict) for s in document.get("callbacks", {}).values()),
        file,
        "callbacks",
        "callback key → object",
        document.get("callbacks"),
    )


def checkpoint_document(metadata: dict, file) -> dict:
    """The checkpoint's JSON document from a safetensors file's metadata (bounded, an object)."""
    document = parse_json(metadata.get("chainrule_checkpoint"), "checkpoint metadata", file)
    if not isinstance(document, dict):
        raise ModelFileError(f"{file}: the checkpoint metadata is not a JSON object")
    return document


# ------------------------------------------------------------------ class
class Checkpoint:
    """What :func:`load_checkpoint` read back, validated, with the methods that restore a run.

    Attributes
    ----------
    path : str
        The file read.
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
        return (
            f"Checkpoint(epoch={self.epoch}, optimizer={self.optimizer_type}, rng={list(self.rng)})"
        )

    def load_weights_into(self, model) -> None:
        """Copy the saved weights into ``model`` (names, shapes and kinds of dtype checked)."""
        load_weights(model, self.model_state, self.path)

    def restore_optimizer(self, optimizer) -> None:
        """Load the saved optimizer state into ``optimizer`` (nothing when none was saved).

        Raises ModelFileError when the saved state is for another optimizer
        class or does not fit ``optimizer``'s parameters.
        """
        if self.optimizer_state is None:
            return
        if self.optimizer_type != type(optimizer).__name__:
            raise ModelFileError(
                f"{self.path} holds a {self.optimizer_type} optimizer state, but the "
                f"optimizer is a {type(optimizer).__name__}"
            )
        self._guarded("the optimizer state", optimizer.load_state_dict, self.optimizer_state)

    def restore_generators(self, generators: dict) -> None:
        """Set each generator of ``generators`` (name → Generator) saved here to its state."""
        for name, state in self.rng.items():
            if name in generators:
                restore_generator(generators[name], state, file=self.path)

    def restore_callbacks(self, callbacks) -> None:
        """Give ``callbacks`` (anything with ``load_state_dict``, a CallbackList) their states."""
        self._guarded("the callback states", callbacks.load_state_dict, self.callbacks)

    def restore(
        self, model, optimizer=None, *, generators: dict | None = None, callbacks=None
    ) -> None:
        """Restore a run: weights into ``model``, then the optimizer, generators, callbacks given.

        Examples
        --------
        >>> import os, tempfile
        >>> import chainrule.nn as nn, chainrule.optim as optim
        >>> model = nn.Linear(2, 1)
        >>> path = save_checkpoint(os.path.join(tempfile.mkdtemp(), "ck"), model, epoch=3)
        >>> checkpoint = load_checkpoint(path)
        >>> fresh = nn.Linear(2, 1)
        >>> checkpoint.restore(fresh, optim.SGD(fresh.parameters(), lr=0.1))
        >>> checkpoint.epoch
        3
        """
        self.load_weights_into(model)
        if optimizer is not None:
            self.restore_optimizer(optimizer)
        if generators:
            self.restore_generators(generators)
        if callbacks is not None:
            self.restore_callbacks(callbacks)

    def _guarded(self, what: str, restore, state) -> None:
        try:
            restore(state)
        except ModelFileError:
            raise
        except _RESTORE_ERRORS as error:
            raise ModelFileError(f"{self.path}: {what} cannot be restored: {error}") from None


# -------------------------------------------------------------- functions
def save_checkpoint(
    path,
    model,
    optimizer=None,
    *,
    epoch: int = 0,
    generators: dict | None = None,
    history=None,
    callbacks: dict | None = None,
    extra: dict | None = None,
) -> str:
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

    Returns
    -------
    The path written.
    """
    path = os.fspath(path)
    if not path.endswith(".safetensors"):
        path += ".safetensors"
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_json = (
        None if optimizer is None else _encode(optimizer.state_dict(), tensors, "optimizer.")
    )
    rng_json = {
        name: _encode(gen.bit_generator.state, tensors, "rng.")
        for name, gen in (generators or {}).items()
    }
    if history is not None and hasattr(history, "to_dict"):
        history = history.to_dict()
    document = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "model": architecture_document(model),
        "epoch": int(epoch),
        "optimizer_type": None if optimizer is None else type(optimizer).__name__,
        "optimizer": optimizer_json,
        "rng": rng_json,
        "history": _encode(history, tensors, "history."),
        "callbacks": _encode(callbacks or {}, tensors, "callbacks."),
        "extra": _encode(extra or {}, tensors, "extra."),
    }
    metadata = {"format": CHECKPOINT_FORMAT, "chainrule_checkpoint": json.dumps(document)}
    data = safetensors_bytes(tensors, metadata)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, data)
    return path


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, every field validated.

    See :class:`Checkpoint` for what it holds.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path`` (nor at ``path + ".safetensors"``).
    ModelFileError
        Naming the file and the field that is wrong.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        if os.path.isfile(path + ".safetensors"):
            path += ".safetensors"
        else:
            raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != CHECKPOINT_FORMAT or "chainrule_checkpoint" not in metadata:
        raise ModelFileError(
            f"{path} is not a chainrule checkpoint (it has no checkpoint metadata)"
        )
    document = checkpoint_document(metadata, path)
    _check_document(document, path)
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    model = model_from_document(document.get("model"), model_state, path)
    optimizer_state = _decode(document.get("optimizer"), tensors, path)
    if optimizer_state is not None:
        _check_optimizer(optimizer_state, path)
    history = _decode(document.get("history"), tensors, path)
    _check_history(history, path)
    return Checkpoint(
        path=path,
        model=model,
        model_state=model_state,
        optimizer_state=optimizer_state,
        optimizer_type=document.get("optimizer_type"),
        epoch=document["epoch"],
        rng={
            name: _decode(state, tensors, path) for name, state in document.get("rng", {}).items()
        },
        history=history,
        callbacks=_decode(document.get("callbacks", {}), tensors, path),
        extra=_decode(document.get("extra", {}), tensors, path),
    )


def restore_generator(generator, state: dict, *, file="checkpoint") -> None:
    """Set ``generator``'s bit-generator state to a saved ``bit_generator.state`` dict.

    Raises ModelFileError (naming ``file``) when the state is for another bit
    generator or its values are invalid.
    """
    expected = type(generator.bit_generator).__name__
    saved = state.get("bit_generator") if isinstance(state, dict) else state
    if saved != expected:
        raise ModelFileError(
            f"{file}: the saved generator state is for {saved!r}, expected {expected}"
        )
    try:
        generator.bit_generator.state = state
    except _RESTORE_ERRORS as error:
        raise ModelFileError(
            f"{file}: the saved {expected} generator state is invalid: {error}"
        ) from None
