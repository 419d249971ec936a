"""Containers: ``Sequential``, ``ModuleList`` and the reshaping layer ``Flatten``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from .. import functional as F
from ..tensor import Tensor
from .linear import as_input
from .module import Module

__all__ = ["Flatten", "ModuleList", "Sequential"]


def _check_module(owner: str, module, position) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected a Module at position {position}, received {type(module).__name__}")
    return module


def _index(owner: str, idx, length: int) -> int:
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise TypeError(f"{owner}: indices must be integers or slices, received {type(idx).__name__}")
    if not -length <= idx < length:
        raise IndexError(f"{owner}: index {idx} is out of range for {length} modules")
    return idx % length


class Sequential(Module):
    """Modules applied one after another: y = fₙ(… f₂(f₁(x))).

    Build it from modules (named "0", "1", … as in PyTorch) or from an
    OrderedDict of name → module. Supports ``len``, iteration, ``seq[i]``,
    ``seq[a:b]`` (a new Sequential keeping the names) and ``append``.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> len(model), [name for name, _ in model.named_parameters()]
    (3, ['0.weight', '0.bias', '2.weight', '2.bias'])
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(str(name), _check_module("Sequential", module, repr(name)))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), _check_module("Sequential", module, i))

    def forward(self, input):
        x = input
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[_index("Sequential", idx, len(items))][1]

    def __setitem__(self, idx, module) -> None:
        name = list(self._modules)[_index("Sequential", idx, len(self._modules))]
        self.add_module(name, _check_module("Sequential", module, idx))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by the next free integer)."""
        self.add_module(str(len(self._modules)), _check_module("Sequential", module, len(self._modules)))
        return self

    def reset_parameters(self, generator=None) -> None:
        """Re-initialise every child that can (in order, drawing from ``generator``)."""
        for module in self:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters(generator)

    def get_config(self) -> dict:
        return {}


class ModuleList(Module):
    """A list of modules whose parameters are registered (named "0", "1", …).

    It has no ``forward``: the owner decides how to call its items.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, idx):
        values = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(values[idx])
        return values[_index("ModuleList", idx, len(values))]

    def __setitem__(self, idx, module) -> None:
        idx = _index("ModuleList", idx, len(self._modules))
        self.add_module(str(idx), _check_module("ModuleList", module, idx))

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), _check_module("ModuleList", module, len(self._modules)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        values = list(self._modules.values())
        values.insert(index, _check_module("ModuleList", module, index))
        for name in list(self._modules):
            delattr(self, name)
        self.extend(values)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it and call the modules")

    def get_config(self) -> dict:
        return {}


class Flatten(Module):
    """Merge dimensions ``start_dim`` … ``end_dim`` into one (default: all but the batch).

    Shapes: (N, C, H, W) → (N, C·H·W) with the defaults start_dim=1, end_dim=−1.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Flatten: {name} must be an int, received {type(value).__name__}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        x = as_input(input)
        for name, dim in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
                raise ValueError(
                    f"{self!r}: {name}={dim} is out of range for input of shape {tuple(x.shape)}"
                )
        return F.flatten(x, self.start_dim, self.end_dim)

    def get_config(self) -> dict:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
