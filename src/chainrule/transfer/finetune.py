"""Fine-tuning: a new head on a trained backbone, its own learning rates, and a staged schedule.

The recipe (Howard and Ruder, "Universal language model fine-tuning", 2018; fastai's
``fine_tune``): replace the output layer for the new task, train it alone for a few epochs with
the backbone frozen (so the random head's large early gradients do not wreck the pretrained
features), then unfreeze and train everything with a smaller learning rate for the backbone.

Examples
--------
>>> import numpy as np
>>> from chainrule import nn
>>> from chainrule.transfer import replace_head, fine_tune
>>> rng = np.random.default_rng(0)
>>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 10))
>>> _ = replace_head(model, 3, generator=0)          # 10 classes -> 3
>>> X, y = rng.normal(size=(60, 4)).astype(np.float32), rng.integers(0, 3, 60)
>>> history = fine_tune(model, (X, y), loss="cross_entropy", epochs=2, freeze_epochs=1,
...                     lr=1e-2, progress=False, verbose=0)
>>> history.history["stage"]          # 1: the head alone, 2: everything
[1.0, 2.0, 2.0]
"""

from __future__ import annotations

from .._validation import check_int, check_real
from ..nn import Linear, Module
from ..train.history import History

__all__ = ["fine_tune", "find_head", "load_pretrained", "param_groups", "replace_head"]


def _get_submodule(model: Module, name: str) -> Module:
    module = model
    for part in name.split("."):
        children = dict(module.named_children())
        if part not in children:
            raise ValueError(
                f"head: {type(model).__name__} has no submodule {name!r}; its "
                f"children are {list(dict(model.named_children()))}"
            )
        module = children[part]
    return module


def find_head(model: Module, head: str | None = None) -> str:
    """The dotted name of the output layer: ``head`` if given, else the last layer (in order of
    registration, nested containers included) that holds parameters of its own."""
    if not isinstance(model, Module):
        raise TypeError(
            f"find_head: expected a chainrule.nn.Module, received {type(model).__name__}"
        )
    if head is not None:
        _get_submodule(model, head)
        return head
    named = [
        name
        for name, module in model.named_modules()
        if name and any(p is not None for p in module._parameters.values())
    ]
    if not named:
        raise ValueError(
            f"find_head: {type(model).__name__} has no submodule with parameters; "
            "pass head='<name of the output layer>'"
        )
    return named[-1]


def _set_submodule(model: Module, name: str, new: Module) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent = _get_submodule(model, parent_name) if parent_name else model
    setattr(parent, leaf, new)


def replace_head(
    model: Module, new_head, *, head: str | None = None, bias: bool = True, generator=None
) -> Module:
    """Replace the output layer of ``model`` in place and return the new layer.

    Parameters
    ----------
    model : Module
        A trained network; for a :class:`~chainrule.nn.Sequential` the head is its last child
        with parameters, for other modules name it with ``head``.
    new_head : int or Module
        The new number of outputs (a fresh :class:`~chainrule.nn.Linear` with the old head's
        input size, initialised as Linear does, from ``generator``), or a module to use.
        A Linear head must take the same number of inputs as the one it replaces.
    head : str, optional
        Dotted name of the layer to replace.
    """
    name = find_head(model, head)
    old = _get_submodule(model, name)
    in_features = getattr(old, "in_features", None)
    if isinstance(new_head, bool) or not isinstance(new_head, (int, Module)):
        raise TypeError(
            "replace_head: new_head must be a number of outputs or a Module, received "
            f"{type(new_head).__name__}"
        )
    if isinstance(new_head, int):
        if new_head < 1:
            raise ValueError(
                f"replace_head: the number of outputs must be >= 1, received {new_head}"
            )
        if in_features is None:
            raise ValueError(
                f"replace_head: the head {name!r} ({type(old).__name__}) is not a Linear "
                "layer; pass the new head as a Module"
            )
        new_head = Linear(in_features, new_head, bias=bias, generator=generator)
    elif in_features is not None and getattr(new_head, "in_features", in_features) != in_features:
        raise ValueError(
            f"replace_head: the new head takes {new_head.in_features} inputs, but the "
            f"backbone gives {in_features} (the input size of {name!r})"
        )
    _set_submodule(model, name, new_head)
    _record_outputs(
        model, name, getattr(old, "out_features", None), getattr(new_head, "out_features", None)
    )
    return new_head


def _record_outputs(model: Module, name: str, old: int | None, new: int | None) -> None:
    """Keep a saved architecture true to the new head: a module on the path to the head that
    records its number of outputs (the CLI presets' ``num_outputs``) gets the new number."""
    if old is None or new is None:
        return
    module, parts = model, name.split(".")
    for part in [None, *parts[:-1]]:
        if part is not None:
            module = dict(module.named_children())[part]
        if getattr(module, "num_outputs", None) == old:
            object.__setattr__(module, "num_outputs", new)


def _split(model: Module, head: str | None):
    name = find_head(model, head)
    head_ids = {id(p) for p in _get_submodule(model, name).parameters()}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    head_params = [p for p in model.parameters() if id(p) in head_ids]
    return name, backbone, head_params


def param_groups(
    model: Module, lr: float, *, backbone_lr_scale: float = 0.1, head: str | None = None
) -> list[dict]:
    """Two optimizer parameter groups: the backbone at ``lr * backbone_lr_scale``, the head at lr.

    Examples
    --------
    >>> from chainrule import nn, optim
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> opt = optim.SGD(param_groups(model, 0.1, backbone_lr_scale=0.5), lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.05, 0.1]
    """
    for label, value in (("lr", lr), ("backbone_lr_scale", backbone_lr_scale)):
        check_real("param_groups", label, value, low=0.0)
    _, backbone, head_params = _split(model, head)
    groups = []
    if backbone:
        groups.append(
            {"params": backbone, "lr": float(lr) * float(backbone_lr_scale), "name": "backbone"}
        )
    groups.append({"params": head_params, "lr": float(lr), "name": "head"})
    return groups


def fine_tune(
    model: Module,
    train_data,
    *,
    loss,
    epochs: int,
    freeze_epochs: int = 1,
    lr: float = 1e-3,
    backbone_lr_scale: float = 0.1,
    optimizer: str = "adam",
    head: str | None = None,
    **fit_kwargs,
) -> History:
    """Train the head alone for ``freeze_epochs``, then everything for ``epochs`` more.

    Parameters
    ----------
    model : Module
        The network with its new head (see :func:`replace_head`).
    train_data, loss, fit_kwargs
        As for :func:`chainrule.train.fit` (``validation_data``, ``metrics``, ``callbacks``,
        ``batch_size``, ``generator``...).
    epochs : int
        Epochs of the second stage, with the whole network trainable.
    freeze_epochs : int
        Epochs of the first stage (0 skips it), with the backbone frozen (its BatchNorm layers
        keep their running statistics).
    lr : float
        The head's learning rate; the backbone's in the second stage is ``lr * backbone_lr_scale``.
    optimizer : str
        An optimizer name for :func:`chainrule.optim.get_optimizer`.

    Returns
    -------
    History
        Both stages, one row per epoch, with a ``stage`` column (1: the head alone with the
        backbone frozen, 2: everything).
    """
    from .. import optim
    from ..train import fit

    check_int("fine_tune", "freeze_epochs", freeze_epochs, low=0)
    name, backbone, head_params = _split(model, head)
    combined = History()
    stages = []
    if freeze_epochs:
        stages.append(("head", freeze_epochs, [{"params": head_params, "lr": float(lr)}]))
    stages.append(
        ("all", epochs, param_groups(model, lr, backbone_lr_scale=backbone_lr_scale, head=name))
    )
    for stage, n_epochs, groups in stages:
        if stage == "head":
            model.freeze()
            _get_submodule(model, name).unfreeze()
        else:
            model.unfreeze()
        opt = optim.get_optimizer(optimizer, groups, lr=float(lr))
        history = fit(model, train_data, loss=loss, optimizer=opt, epochs=n_epochs, **fit_kwargs)
        offset = len(combined)
        for i in range(len(history)):
            row = {key: column[i] for key, column in history.history.items()}
            row["stage"] = 1.0 if stage == "head" else 2.0
            combined.append(offset + i, row)
    return combined


def load_pretrained(model: Module, source) -> dict:
    """Copy into ``model`` every weight of ``source`` whose name and shape match; report the rest.

    Parameters
    ----------
    model : Module
        The network to initialise (say, a fresh preset for the new task).
    source : path
        A run folder or model folder saved by chainrule, or a ``.safetensors`` state dict, such
        as one exported from PyTorch with ``safetensors.torch.save_file(model.state_dict(), path)``
        (chainrule's parameter names and layouts are PyTorch's).

    Returns
    -------
    dict
        ``{"loaded": [...], "skipped": [...], "missing": [...], "unexpected": [...]}``: the names
        copied, those whose shape differs (a head for another number of classes stays as
        initialised), the model's names absent from the source, and the source's names the
        model does not have.

    Raises
    ------
    ValueError
        When no weight at all matches (the source is for another architecture).
    """
    import os

    from .. import io

    path = os.fspath(source)
    if os.path.isdir(path):
        folder = os.path.join(path, "model") if os.path.isdir(os.path.join(path, "model")) else path
        loaded = io.load(folder)
        if not isinstance(loaded, Module):
            raise ValueError(
                f"load_pretrained: {path} holds a {type(loaded).__name__}, not a "
                "network; pass its model folder"
            )
        tensors = loaded.state_dict()
    elif os.path.isfile(path):
        tensors, _ = io.read_safetensors(path)
    else:
        raise FileNotFoundError(
            f"load_pretrained: no run folder, model folder or .safetensors file at {path}"
        )
    own = model.state_dict()
    merged = dict(own)
    report = {
        "loaded": [],
        "skipped": [],
        "missing": [],
        "unexpected": sorted(set(tensors) - set(own)),
    }
    for name, value in own.items():
        if name not in tensors:
            report["missing"].append(name)
        else:
            found = tensors[name]
            if (
                found.shape != value.shape
                and found.size == value.size == 1
                and max(found.ndim, value.ndim) <= 1
            ):
                found = found.reshape(value.shape)  # a counter saved as () or as (1,)
            if tuple(found.shape) != tuple(value.shape):
                report["skipped"].append(name)
                continue
            merged[name] = found.astype(value.dtype, copy=False)
            report["loaded"].append(name)
    if not report["loaded"]:
        raise ValueError(
            f"load_pretrained: no weight of {path} matches the model by name and "
            f"shape; the model has {sorted(own)[:6]}..., the file "
            f"{sorted(tensors)[:6]}..."
        )
    model.load_state_dict(merged)
    return report
