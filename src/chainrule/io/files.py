"""Reading the two file formats chainrule writes: safetensors and JSON, both validated and bounded.

:func:`read_safetensors` checks the header (size, JSON, every tensor's offsets)
before safetensors builds any array, so a truncated or corrupt file raises
:class:`~chainrule.io.errors.ModelFileError` and never allocates more than
the file's own size. :func:`parse_json` refuses documents larger than
:data:`~chainrule.io.errors.MAX_JSON_BYTES` or nested deeper than
:data:`~chainrule.io.errors.MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import json
import os

from ..backend import to_numpy, xp
from .errors import MAX_JSON_BYTES, MAX_JSON_DEPTH, ModelFileError

__all__ = [
    "check_version",
    "json_bytes",
    "parse_json",
    "read_bytes",
    "read_safetensors",
    "safetensors_bytes",
]

MAX_HEADER_BYTES = 100 * 1024 * 1024
"""The largest safetensors header read (the limit of the safetensors library itself)."""


def read_bytes(path) -> bytes:
    """The whole content of ``path`` (an ``OSError`` names the path when it cannot be read)."""
    with open(path, "rb") as handle:
        return handle.read()


def _nested_too_deep(value, limit: int) -> bool:
    """True when ``value`` nests lists and dicts deeper than ``limit`` (walked iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(text, what: str, path, *, max_bytes: int = MAX_JSON_BYTES):
    """Parse a JSON document read from ``path``, bounded in size and depth.

    Parameters
    ----------
    text : str or bytes
        The document (``None`` counts as missing).
    what : str
        What the document is, for the error message ("architecture JSON").
    path : str or os.PathLike
        The file it came from, for the error message.

    Raises
    ------
    ModelFileError
        Missing, larger than ``max_bytes``, nested deeper than
        :data:`~chainrule.io.errors.MAX_JSON_DEPTH`, or not valid JSON.

    Examples
    --------
    >>> parse_json('{"type": "ReLU"}', "architecture JSON", "config.json")
    {'type': 'ReLU'}
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise ModelFileError(f"{path}: the {what} is missing")
    if len(text) > max_bytes:
        raise ModelFileError(
            f"{path}: the {what} is {len(text)} bytes long; the limit is {max_bytes}"
        )
    try:
        value = json.loads(text)
    except RecursionError:
        raise ModelFileError(
            f"{path}: the {what} is nested deeper than the limit of {MAX_JSON_DEPTH} levels"
        ) from None
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: the {what} is not valid JSON ({error})") from None
    if isinstance(value, (dict, list)) and _nested_too_deep(value, MAX_JSON_DEPTH):
        raise ModelFileError(
            f"{path}: the {what} is nested deeper than the limit of {MAX_JSON_DEPTH} levels"
        )
    return value


def check_version(version, newest: int, file, field: str) -> int:
    """A format version: an int from 1 to ``newest``, else ModelFileError naming ``file``."""
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= newest:
        raise ModelFileError(
            f"{file}: {field} {version!r} is not one this chainrule reads (1 to {newest})"
        )
    return version


def json_bytes(document, *, indent: int | None = None, allow_nan: bool = False) -> bytes:
    """``document`` as UTF-8 JSON; NaN and infinity (not JSON) only with ``allow_nan``."""
    return (
        json.dumps(document, indent=indent, allow_nan=allow_nan) + ("\n" if indent else "")
    ).encode("utf-8")


def _safetensors_module():
    try:
        import safetensors.numpy as module
    except ImportError:  # pragma: no cover - exercised only without the package
        raise ImportError(
            "model files need the 'safetensors' package: pip install safetensors"
        ) from None
    return module


def safetensors_bytes(tensors: dict, metadata: dict) -> bytes:
    """Serialise ``tensors`` (name → array or Tensor) and string ``metadata`` as safetensors."""
    arrays = {
        key: xp.asarray(to_numpy(getattr(value, "data", value)), order="C")  # keeps 0-d
        for key, value in tensors.items()
    }
    return _safetensors_module().save(arrays, metadata=metadata)


def _check_header_entry(path, name, info, data_size: int) -> None:
    if not isinstance(info, dict):
        raise ModelFileError(
            f"{path} is corrupt: the header entry of tensor {name!r} is not an object"
        )
    offsets, shape = info.get("data_offsets"), info.get("shape")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        and offsets[0] <= offsets[1]
    ):
        raise ModelFileError(f"{path} is corrupt: tensor {name!r} has no valid data_offsets")
    if not (
        isinstance(shape, list)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise ModelFileError(f"{path} is corrupt: tensor {name!r} has no valid shape")
    if not isinstance(info.get("dtype"), str):
        raise ModelFileError(f"{path} is corrupt: tensor {name!r} has no dtype")
    if offsets[1] > data_size:
        raise ModelFileError(
            f"{path} is truncated: tensor {name!r} ends at byte {offsets[1]} of the data "
            f"but only {data_size} bytes are present"
        )


def read_safetensors(path) -> tuple[dict, dict]:
    """Read and validate a safetensors file; return ``(tensors, metadata)``.

    Raises
    ------
    OSError
        The file cannot be read.
    ModelFileError
        The file is too short, truncated, its header is not JSON, a tensor's
        entry is malformed, or it is otherwise not valid safetensors.
    """
    path = os.fspath(path)
    raw = read_bytes(path)
    if len(raw) < 8:
        raise ModelFileError(f"{path} is not a safetensors file: it is only {len(raw)} bytes long")
    header_size = int.from_bytes(raw[:8], "little")
    if header_size > len(raw) - 8:
        raise ModelFileError(
            f"{path} is truncated or not a safetensors file: its header claims {header_size} bytes "
            f"but the file has {len(raw) - 8} after the size field"
        )
    try:
        text = raw[8 : 8 + header_size].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            f"{path} is not a safetensors file: its header is not valid JSON"
        ) from None
    header = parse_json(text, "safetensors header", path, max_bytes=MAX_HEADER_BYTES)
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ModelFileError(f"{path} is corrupt: its metadata is not an object of strings")
    data_size = len(raw) - 8 - header_size
    for name, info in header.items():
        _check_header_entry(path, name, info, data_size)
    try:
        tensors = _safetensors_module().load(raw)
    except Exception as error:  # noqa: BLE001 - safetensors raises its own SafetensorError
        raise ModelFileError(
            f"{path} is corrupt: safetensors could not read it ({error})"
        ) from None
    return tensors, metadata
