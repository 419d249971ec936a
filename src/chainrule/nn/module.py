"""Module and Parameter: the containers that hold a network's state.

A :class:`Module` registers :class:`Parameter` attributes, child modules and
buffers (non-trainable state such as BatchNorm's running statistics) when
they are assigned, so ``state_dict()`` keys are dotted paths
(``"0.weight"``, ``"encoder.bias"``) exactly as in PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..autograd.grad_mode import state as _grad_state
from ..autograd.hooks import RemovableHandle
from ..backend import is_float_dtype, xp
from ..tensor import Tensor
from .hooks import call_with_hooks
from .hooks import register as register_hook

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module (``requires_grad=True`` by default)."""

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set parameters and sub-modules as attributes in ``__init__``
    and implement ``forward``. Calling the module calls ``forward``.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.out = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    _parameters: OrderedDict[str, Any]  # Parameter, or None for a registered absent one
    _modules: OrderedDict[str, Any]  # Module or None
    _buffers: OrderedDict[str, Any]
    training: bool

    if TYPE_CHECKING:
        # Parameters, buffers and sub-modules become attributes when they are registered, at
        # run time; this tells the type checker such attributes exist (PyTorch does the same).
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, value) -> None:
        """Register non-trainable state (an ndarray, or None) that ``state_dict`` includes."""
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        if value is not None and not isinstance(value, xp.ndarray):
            value = xp.asarray(value)
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: expected a Module for {name!r}, received {type(module).__name__}"
            )
        if module is None:
            self._modules[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    # ---------------------------------------------------------------- forward
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    _has_hooks = False  # set on the instance by the first register_*_hook

    def __call__(self, *args, **kwargs):
        if self._has_hooks or _grad_state.anomaly:
            return self._call_slow(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_slow(self, args, kwargs):
        """A call with hooks, or in anomaly mode: then this module is on the stack of modules
        being called, which :class:`~chainrule.autograd.detect_anomaly` names in its errors."""
        if not _grad_state.anomaly:
            return call_with_hooks(self, args, kwargs)
        _grad_state.modules.append(self)
        try:
            if self._has_hooks:
                return call_with_hooks(self, args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            _grad_state.modules.pop()

    # ----------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a non-None result replaces the
        positional inputs (a tuple, or one value). Returns a handle: ``handle.remove()``.

        Examples
        --------
        >>> import numpy as np, chainrule.nn as nn
        >>> layer = nn.Linear(2, 1)
        >>> handle = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
        >>> bool((layer(np.ones((1, 2))).data == layer.bias.data).all())  # x · 0 + b
        True
        >>> handle.remove()
        """
        return register_hook(self, "_forward_pre_hooks", hook)

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a non-None result
        replaces the output. Returns a handle: ``handle.remove()``.

        Examples
        --------
        >>> import numpy as np, chainrule.nn as nn
        >>> shapes = []
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        >>> handle = model[0].register_forward_hook(lambda m, args, out: shapes.append(out.shape))
        >>> _ = model(np.ones((2, 3))); shapes
        [(2, 4)]
        """
        return register_hook(self, "_forward_hooks", hook)

    def register_full_backward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once per backward through the module:
        tuples of gradients with respect to the positional inputs (None for a non-tensor or an
        input that needs none) and to the outputs. A non-None result (one entry per input)
        replaces ``grad_input`` for the rest of the backward. Returns a handle.

        Examples
        --------
        >>> import numpy as np, chainrule as cr, chainrule.nn as nn
        >>> layer = nn.Linear(2, 2)
        >>> x = cr.tensor(np.ones((1, 2)), requires_grad=True)
        >>> handle = layer.register_full_backward_hook(lambda m, gi, go: tuple(g * 0 for g in gi))
        >>> layer(x).sum().backward()
        >>> bool((x.grad == 0).all())  # the hook zeroed the input's gradient
        True
        """
        return register_hook(self, "_backward_hooks", hook)

    # -------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "", memo=None) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            yield name, module
            children = [
                (f"{name}.{n}" if name else n, m)
                for n, m in module._modules.items()
                if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by several modules is listed once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, object]]:
        for module_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    def buffers(self):
        for _, buf in self.named_buffers():
            yield buf

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    # --------------------------------------------------------------- freezing
    @property
    def frozen(self) -> bool:
        """Whether :meth:`freeze` froze this module (and :meth:`unfreeze` has not thawed it)."""
        return self.__dict__.get("_frozen", False)

    def freeze(self, up_to: str | int | None = None) -> Module:
        """Freeze this module, or its children up to and including ``up_to``, in place.

        A frozen module's parameters get ``requires_grad=False`` and ``grad=None``, so they
        receive no gradient, an optimizer keeps no state for them and never updates them; a
        frozen BatchNorm normalises with its running statistics and leaves them unchanged,
        even in ``train()`` mode. Gradients still flow *through* a frozen module to the layers
        before it.

        Parameters
        ----------
        up_to : str or int, optional
            Freeze only the direct children from the first one through the one with this
            name (or index, negative counting from the end), as fastai's ``freeze_to``.

        Examples
        --------
        >>> import chainrule.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> _ = model.freeze(up_to="1")
        >>> [(name, p.requires_grad) for name, p in model.named_parameters()]
        [('0.weight', False), ('0.bias', False), ('2.weight', True), ('2.bias', True)]
        """
        if up_to is None:
            targets = [self]
        else:
            children = list(self.named_children())
            names = [name for name, _ in children]
            if isinstance(up_to, bool) or not isinstance(up_to, (str, int)):
                raise TypeError(f"freeze: up_to must be a child name or index, received {up_to!r}")
            if isinstance(up_to, int):
                if not -len(children) <= up_to < len(children):
                    raise ValueError(
                        f"freeze: up_to={up_to} is out of range for "
                        f"{len(children)} children {names}"
                    )
                last = up_to % len(children)
            elif up_to in names:
                last = names.index(up_to)
            else:
                raise ValueError(
                    f"freeze: {type(self).__name__} has no child named {up_to!r}; "
                    f"its children are {names}"
                )
            targets = [module for _, module in children[: last + 1]]
        for target in targets:
            for module in target.modules():
                object.__setattr__(module, "_frozen", True)
                for param in module._parameters.values():
                    if param is not None:
                        param.requires_grad = False
                        param.grad = None
        return self

    def unfreeze(self) -> Module:
        """Undo :meth:`freeze` on this module and all it contains (parameters trainable again)."""
        for module in self.modules():
            object.__setattr__(module, "_frozen", False)
            for param in module._parameters.values():
                if param is not None:
                    param.requires_grad = True
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad[...] = 0

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every child (recursively, each subtree first), then on ``self``,
        as PyTorch: the usual way to initialise a whole model. Returns ``self``.

        Examples
        --------
        >>> import chainrule.nn as nn
        >>> def zero_biases(m):
        ...     if isinstance(m, nn.Linear):
        ...         nn.init.zeros_(m.bias)
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).apply(zero_biases)
        >>> float(abs(model[0].bias.data).sum())
        0.0
        """
        if not callable(fn):
            raise TypeError(
                f"{type(self).__name__}.apply: expected a callable, received {type(fn).__name__}"
            )
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Cast every floating parameter and buffer in place; PyTorch's call forms.

        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype) and the
        keywords ``dtype=`` / ``device=``. The only device is the CPU (``"cpu"`` or
        ``chainrule.device("cpu")``); another raises ValueError. Returns ``self``.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) or type(arg).__name__ == "device":
                device = arg
            else:
                dtype = arg
        if device is not None and str(getattr(device, "type", device)).split(":")[0] != "cpu":
            raise ValueError(
                f"{type(self).__name__}.to: only the 'cpu' device exists in chainrule, "
                f"received {device!r}"
            )
        if dtype is None:
            return self
        try:
            dtype = xp.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}.to: expected a dtype, a device or a Tensor, "
                f"received {dtype!r}"
            ) from None
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and is_float_dtype(param.dtype):
                    param.data = param.data.astype(dtype)
                    param.grad = None
            for name, buf in list(module._buffers.items()):
                if buf is not None and is_float_dtype(buf.dtype):
                    module.register_buffer(name, buf.astype(dtype))
        return self

    def double(self) -> Module:
        return self.to(xp.float64)

    def float(self) -> Module:
        return self.to(xp.float32)

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> OrderedDict[str, object]:
        """Parameters and buffers as ndarrays, keyed by dotted path (PyTorch's names)."""
        state = OrderedDict()
        for module_name, module in self.named_modules():
            for name, param in module._parameters.items():
                if param is not None:
                    state[f"{module_name}.{name}" if module_name else name] = param.data
            for name, buf in module._buffers.items():
                if buf is not None:
                    state[f"{module_name}.{name}" if module_name else name] = buf
        return state

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into parameters and buffers.

        With ``strict`` (the default) missing keys, unexpected keys and shape
        mismatches are collected and raised together in one ValueError. Values
        may be ndarrays or Tensors; they are cast to each parameter's dtype.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = {}
        for module_name, module in self.named_modules():
            for name in list(module._parameters) + list(module._buffers):
                key = f"{module_name}.{name}" if module_name else name
                own[key] = (module, name)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, (module, name) in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else xp.asarray(value)
            current = (
                module._parameters.get(name)
                if name in module._parameters
                else module._buffers.get(name)
            )
            current_shape = None if current is None else tuple(current.shape)
            if current_shape is not None and tuple(value.shape) != current_shape:
                mismatched.append(
                    f"{key}: expected shape {current_shape}, received {tuple(value.shape)}"
                )
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + " | ".join(problems))
        for key, (module, name) in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else xp.asarray(value)
            if name in module._parameters and module._parameters[name] is not None:
                param = module._parameters[name]
                param.data = xp.array(value, dtype=param.dtype, copy=True)
            else:
                current = module._buffers.get(name)
                dtype = current.dtype if current is not None else value.dtype
                module.register_buffer(name, xp.array(value, dtype=dtype, copy=True))
        return missing, unexpected

    # ----------------------------------------------------------------- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
