"""``save_state_dict`` / ``load_state_dict``: a bare state dict as one safetensors file.

The equivalent of ``torch.save(model.state_dict(), path)``, without pickle: the file holds
only named arrays, is written atomically (:func:`~chainrule.io.atomic.atomic_write_bytes`),
and is read by ``safetensors.torch.load_file`` in PyTorch (and PyTorch's
``safetensors.torch.save_file`` output is read here). Unlike :func:`chainrule.save` it keeps
no architecture: load it into a model you build yourself with ``model.load_state_dict``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..backend import to_numpy, xp
from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .files import read_safetensors, safetensors_bytes

__all__ = ["load_state_dict", "save_state_dict"]


def save_state_dict(obj, path) -> None:
    """Write a module's ``state_dict()`` (or a mapping name → array/Tensor) to ``path``.

    Parameters
    ----------
    obj : Module or mapping of str to array or Tensor
    path : str or os.PathLike
        The ``.safetensors`` file; replaced atomically if it exists.

    Examples
    --------
    >>> import os, tempfile, numpy as np, chainrule, chainrule.nn as nn
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
    >>> model = nn.Linear(3, 2)
    >>> chainrule.save_state_dict(model, path)
    >>> state = chainrule.load_state_dict(path)
    >>> sorted(state), bool((state["weight"] == model.weight.data).all())
    (['bias', 'weight'], True)
    """
    state = obj.state_dict() if callable(getattr(obj, "state_dict", None)) else obj
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save_state_dict: expected a Module or a mapping of names to arrays, "
            f"received {type(obj).__name__}"
        )
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save_state_dict: keys must be strings, received {key!r}")
        array = to_numpy(value.data if isinstance(value, Tensor) else xp.asarray(value))
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"save_state_dict: {key!r} has dtype {array.dtype}; expected numbers or booleans"
            )
        arrays[key] = array
    atomic_write_bytes(os.fspath(path), safetensors_bytes(arrays, {"format": "pt"}))


def load_state_dict(path) -> dict:
    """Read a safetensors file into a dict name → ndarray (for ``Module.load_state_dict``).

    Raises :class:`~chainrule.io.ModelFileError` naming the file when it is not valid
    safetensors (truncated, a corrupt header, ...), and OSError when it cannot be read.
    """
    tensors, _ = read_safetensors(path)
    return dict(tensors)
