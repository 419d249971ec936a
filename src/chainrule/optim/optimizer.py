"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

An optimizer holds references to parameters and, at each ``step()``, reads
their ``.grad`` and updates ``.data`` **in place**. Layers never update
themselves; the training loop calls ``loss.backward()`` and then
``optimizer.step()``.

Hyperparameters live in ``param_groups``: a list of dicts, each with a
``"params"`` list and its own values of the hyperparameters (missing ones
come from the optimizer's defaults), so different layers can use different
learning rates. ``state`` maps each parameter to a dict (momentum buffers,
step counts, ...) created the first time the parameter is updated.
"""

from __future__ import annotations

from numbers import Real

from ..autograd import enable_grad
from ..backend import xp
from ..tensor import Tensor

__all__ = ["Optimizer"]

_EXTRA_GROUP_KEYS = ("params", "initial_lr", "name")


class Optimizer:
    """Base class of the optimizers (PyTorch's ``torch.optim.Optimizer``).

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        The tensors to optimise, or parameter groups: dicts with a ``"params"``
        entry and optional per-group hyperparameters.
    defaults : dict
        The hyperparameters of a group that does not set them.

    Notes
    -----
    Subclasses implement ``_validate(group)`` (raise ValueError naming a bad
    hyperparameter) and ``_update(param, grad, state, group)`` for one parameter.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict = {}
        self._scratch: dict = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Parameters or of dicts, "
                "received a single Tensor; wrap it in a list"
            )
        if isinstance(params, dict):
            params = [params]
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Parameters or of dicts, "
                f"received {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError(f"{type(self).__name__}: received an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (others from the defaults)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a parameter group must be a dict, received {type(param_group).__name__}"
            )
        unknown = [k for k in param_group if k not in self.defaults and k not in _EXTRA_GROUP_KEYS]
        if unknown:
            raise TypeError(
                f"{name}: unknown hyperparameter {unknown[0]!r} in a parameter group; expected "
                f"one of {', '.join(sorted(self.defaults))}"
            )
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: params[{i}] must be a Parameter (Tensor), received {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: params[{i}] is not a leaf tensor; only leaves can be optimised"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{name}: params[{i}] (shape {p.shape}) appears twice in one parameter group; "
                    "give each parameter once"
                )
            seen.add(id(p))
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError(
                    f"{name}: some parameters appear in more than one parameter group; give each "
                    "parameter once"
                )
        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:  # pragma: no cover - overridden
        pass

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``.grad`` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place.

        Parameters with ``grad`` None are skipped.

        ``closure`` (optional) re-evaluates the model and returns the loss; it
        is called with grad mode on and its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if grad.shape != p.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}: a gradient has shape {grad.shape}, its parameter "
                        f"{p.data.shape}"
                    )
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                self._update(p, grad, state, group)
        return loss

    def _update(self, param, grad, state: dict, group: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _work(self, param, count: int = 1):
        """``count`` scratch arrays shaped like ``param``, kept between steps (not in the state)."""
        arrays = self._scratch.get(id(param))
        if arrays is None or len(arrays) < count or arrays[0].shape != param.data.shape \
                or arrays[0].dtype != param.data.dtype:
            arrays = [xp.empty_like(param.data) for _ in range(count)]
            self._scratch[id(param)] = arrays
        return arrays

    @staticmethod
    def _effective_grad(param, grad, out, weight_decay: float, maximize: bool):
        """±grad + weight_decay·param (the L2 penalty added to the gradient), without new arrays.

        Returns ``grad`` itself when there is nothing to add (no copy: callers
        must not write into the result), else ``out`` filled with the sum.
        """
        if weight_decay:
            xp.multiply(param.data, weight_decay, out=out)
            if maximize:
                out -= grad
            else:
                out += grad
            return out
        if maximize:
            return xp.negative(grad, out=out)
        return grad

    # ----------------------------------------------------------- state dicts
    def _all_params(self) -> list:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are referred to by their position across the groups, as in
        PyTorch; values are Python scalars, lists and (copied) ndarrays only,
        so the dict can be written as JSON plus safetensors.
        """
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {}
        for p, values in self.state.items():
            if id(p) not in index:
                continue
            state[index[id(p)]] = {
                k: (v.copy() if isinstance(v, xp.ndarray) else v) for k, v in values.items()
            }
        groups = []
        for group in self.param_groups:
            saved = {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in group.items()
                if k != "params"
            }
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (int or string keys)."""
        name = type(self).__name__
        if (
            not isinstance(state_dict, dict)
            or "state" not in state_dict
            or "param_groups" not in state_dict
        ):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: expected {len(self.param_groups)} parameter groups, "
                f"received {len(saved_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameters, the saved one {len(saved['params'])}"
                )
        params = self._all_params()
        new_state = {}
        for key, values in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter index {i}, but there are "
                    f"{len(params)}"
                )
            p = params[i]
            restored = {}
            for k, v in values.items():
                if isinstance(v, xp.ndarray) or (hasattr(v, "shape") and hasattr(v, "dtype")):
                    v = xp.array(
                        v,
                        dtype=p.data.dtype if xp.asarray(v).dtype.kind == "f" else None,
                        copy=True,
                    )
                    if v.ndim and v.shape != p.data.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: state {k!r} of parameter {i} has shape "
                            f"{v.shape}, "
                            f"expected {p.data.shape}"
                        )
                elif (
                    isinstance(v, Real)
                    and not isinstance(v, bool)
                    and float(v).is_integer()
                    and k == "step"
                ):
                    v = int(float(v))
                restored[k] = v
            new_state[p] = restored
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for k, v in saved.items():
                if k == "params":
                    continue
                group[k] = tuple(v) if isinstance(self.defaults.get(k), tuple) else v
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def check_number(
    owner: str, name: str, value, *, low=0.0, low_open=False, high=None, high_open=True
):
    """Raise TypeError/ValueError unless ``value`` is a real number in the given interval.

    The shared validator :func:`chainrule._validation.check_real` (infinity allowed).
    """
    from .._validation import check_real

    check_real(owner, name, value, low=low, low_open=low_open, high=high, high_open=high_open,
               allow_inf=True)
