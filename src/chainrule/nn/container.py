"""Containers ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``,
and the reshaping layers ``Flatten`` and ``Unflatten``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from .. import functional as F
from ..tensor import Tensor
from .linear import as_input
from .module import Module, Parameter

__all__ = [
    "Flatten",
    "ModuleDict",
    "ModuleList",
    "ParameterDict",
    "ParameterList",
    "Sequential",
    "Unflatten",
]


def _check_module(owner: str, module, position) -> Module:
    if not isinstance(module, Module):
        raise TypeError(
            f"{owner}: expected a Module at position {position}, received {type(module).__name__}"
        )
    return module


def _index(owner: str, idx, length: int) -> int:
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise TypeError(
            f"{owner}: indices must be integers or slices, received {type(idx).__name__}"
        )
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
        self.add_module(
            str(len(self._modules)), _check_module("Sequential", module, len(self._modules))
        )
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
        self.add_module(
            str(len(self._modules)), _check_module("ModuleList", module, len(self._modules))
        )
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
        raise NotImplementedError(
            "ModuleList has no forward(); iterate over it and call the modules"
        )

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


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`).

    Shapes: (N, C·H·W) → (N, C, H, W) with ``Unflatten(1, (C, H, W))``; one entry may be −1.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.Unflatten(1, (2, 3))(np.zeros((4, 6))).shape
    (4, 2, 3)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, received {type(dim).__name__}")
        sizes = tuple(unflattened_size) if isinstance(unflattened_size, (tuple, list)) else None
        if (
            not sizes
            or any(
                isinstance(s, bool) or not isinstance(s, int) or (s < 1 and s != -1) for s in sizes
            )
            or sizes.count(-1) > 1
        ):
            raise ValueError(
                f"Unflatten: unflattened_size must be a tuple of positive ints (one may be −1), "
                f"received {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, sizes

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        x = as_input(input)
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(
                f"{self!r}: dim {self.dim} is out of range for input of shape {tuple(x.shape)}"
            )
        dim = self.dim % x.ndim
        known = 1
        for s in self.unflattened_size:
            known *= s if s != -1 else 1
        size = x.shape[dim]
        if (-1 in self.unflattened_size and size % known) or (
            -1 not in self.unflattened_size and size != known
        ):
            raise ValueError(
                f"{self!r}: dimension {dim} of size {size} cannot be split into "
                f"{self.unflattened_size}"
            )
        return F.reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1 :])

    def get_config(self) -> dict:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _check_key(owner: str, key) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{owner}: keys must be strings, received {type(key).__name__}")
    if not key or "." in key:
        raise ValueError(f"{owner}: a key must be non-empty and contain no '.', received {key!r}")
    return key


class ModuleDict(Module):
    """A dict of modules, registered under their keys (PyTorch's ``nn.ModuleDict``).

    Insertion order is kept; ``state_dict`` keys are ``"<key>.<parameter>"``. It has no ``forward``.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> heads = nn.ModuleDict({"age": nn.Linear(8, 1), "kind": nn.Linear(8, 3)})
    >>> list(heads), [name for name, _ in heads.named_parameters()][:2]
    (['age', 'kind'], ['age.weight', 'age.bias'])
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(
                f"ModuleDict: no module named {key!r}; the keys are {list(self._modules)}"
            )
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(
            _check_key("ModuleDict", key), _check_module("ModuleDict", module, repr(key))
        )

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return list(self._modules.keys())

    def values(self):
        return list(self._modules.values())

    def items(self):
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); call the modules it holds")

    def get_config(self) -> dict:
        return {}


def _as_parameter(owner: str, value, position) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        raise TypeError(
            f"{owner}: expected a Parameter at {position}, received a Tensor; wrap it in "
            "nn.Parameter(tensor.data)"
        )
    raise TypeError(f"{owner}: expected a Parameter at {position}, received {type(value).__name__}")


class ParameterList(Module):
    """A list of parameters registered as "0", "1", … (PyTorch's ``nn.ParameterList``).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> scales = nn.ParameterList([nn.Parameter(np.ones(3)) for _ in range(2)])
    >>> list(scales.state_dict())
    ['0', '1']
    """

    def __init__(self, values: Iterable[Parameter] | None = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __getitem__(self, idx):
        values = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(values[idx])
        return values[_index("ParameterList", idx, len(values))]

    def __setitem__(self, idx, value) -> None:
        idx = _index("ParameterList", idx, len(self._parameters))
        setattr(self, str(idx), _as_parameter("ParameterList", value, idx))

    def append(self, value: Parameter) -> ParameterList:
        setattr(
            self,
            str(len(self._parameters)),
            _as_parameter("ParameterList", value, len(self._parameters)),
        )
        return self

    def extend(self, values: Iterable[Parameter]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(); use the parameters it holds")

    def get_config(self) -> dict:
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"({i}): {tuple(p.shape)}" for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their keys (PyTorch's ``nn.ParameterDict``).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> table = nn.ParameterDict({"scale": nn.Parameter(np.ones(2)),
    ...                           "shift": nn.Parameter(np.zeros(2))})
    >>> list(table.state_dict()), "scale" in table
    (['scale', 'shift'], True)
    """

    def __init__(
        self, parameters: Mapping[str, Parameter] | Iterable[tuple[str, Parameter]] | None = None
    ):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(
                f"ParameterDict: no parameter named {key!r}; the keys are {list(self._parameters)}"
            )
        return self._parameters[key]

    def __setitem__(self, key: str, value: Parameter) -> None:
        setattr(
            self, _check_key("ParameterDict", key), _as_parameter("ParameterDict", value, repr(key))
        )

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return list(self._parameters.keys())

    def values(self):
        return list(self._parameters.values())

    def items(self):
        return list(self._parameters.items())

    def pop(self, key: str) -> Parameter:
        value = self[key]
        del self[key]
        return value

    def update(self, parameters) -> None:
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward(); use the parameters it holds")

    def get_config(self) -> dict:
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"({k}): {tuple(p.shape)}" for k, p in self._parameters.items())
