"""Running a model for attribution: checked inputs, targets, and output gradients in chunks.

Every method in :mod:`chainrule.explain` goes through this module:

- :func:`check_input` refuses integer inputs and casts floating ones to the model's dtype;
- :func:`attribution_mode` evaluates the model as it predicts (``eval()``: Dropout off,
  BatchNorm on its running statistics, so each sample's output depends on that sample
  alone) with its parameters' ``requires_grad`` off (no weight gradients are computed),
  and puts both back afterwards;
- :func:`resolve_targets` turns ``target`` (None, an int, one int per sample) into one
  output index per sample and checks it against the model's outputs;
- :class:`StandardizedInput` puts a standardisation in front of a model, so attributions are
  taken with respect to the raw features a user holds;
- :func:`target_gradients` runs rows through the model in chunks and returns
  ∂y_target/∂x for every row, by one backward per chunk seeded with the one-hot of
  each row's target (the rows are independent, so the gradient of the seeded sum is
  each row's own gradient).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..autograd import no_grad
from ..backend import is_float_dtype, xp
from ..functional import cat
from ..nn import Module
from ..tensor import Tensor

__all__ = [
    "StandardizedInput",
    "TwoClassLogits",
    "attribution_mode",
    "check_baseline",
    "check_batch_size",
    "check_input",
    "chunks",
    "model_dtype",
    "predict_targets",
    "resolve_targets",
    "target_gradients",
    "target_outputs",
]


class StandardizedInput(Module):
    """``model((x − mean) / scale)``: a model trained on standardised features, taking raw ones.

    Attributions of this module are with respect to the raw features: by the chain rule its
    gradient is the model's divided by ``scale``, and integrated gradients from a raw baseline
    x′ equal the model's from the standardised baseline (x′ − mean)/scale (the path maps onto
    the path), so baseline = ``mean`` is the standardised zero.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> inner = nn.Linear(2, 1, bias=False)
    >>> inner.weight.data[:] = [[1.0, 1.0]]
    >>> model = StandardizedInput(inner, mean=[10.0, 0.0], scale=[2.0, 1.0])
    >>> model(np.array([[14.0, 1.0]], dtype=np.float32)).data.tolist()
    [[3.0]]
    """

    def __init__(self, model, mean, scale):
        super().__init__()
        self.model = model
        dtype = model_dtype(model, xp.float32)
        self.mean = xp.asarray(mean, dtype=dtype)
        self.scale = xp.asarray(scale, dtype=dtype)
        if self.mean.shape != self.scale.shape:
            raise ValueError(f"StandardizedInput: expected mean and scale of one shape, received "
                             f"{self.mean.shape} and {self.scale.shape}")
        if not (self.scale > 0).all():
            raise ValueError("StandardizedInput: expected every scale > 0")

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.mean.dtype)
        flat = x.reshape((x.shape[0], -1)) if self.mean.ndim == 1 and x.ndim > 2 else x
        standardized = (flat - self.mean) / self.scale
        return self.model(standardized.reshape(x.shape) if flat is not x else standardized)

    @property
    def input_shape(self):
        """The wrapped model's ``input_shape`` (read by :func:`~chainrule.explain.grad_cam`)."""
        return getattr(self.model, "input_shape", None)


class TwoClassLogits(Module):
    """A binary classifier's one logit z (the log-odds of class 1) as two logits (−z, z).

    Class 0's log-odds is −z, so with this wrapper ``target=0`` explains the evidence for
    class 0 and ``target=1`` the evidence for class 1, as for any multi-class model.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> inner = nn.Linear(2, 1, bias=False)
    >>> inner.weight.data[:] = [[1.0, -2.0]]
    >>> TwoClassLogits(inner)(np.array([[3.0, 1.0]], dtype=np.float32)).data.tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        z = self.model(x)
        z = z.reshape((z.shape[0], 1)) if z.ndim == 1 else z
        if z.shape[1] != 1:
            raise ValueError(f"TwoClassLogits: expected one logit per sample, received output "
                             f"shape {tuple(z.shape)}")
        return cat([-z, z], axis=1)


def model_dtype(model, fallback):
    """The dtype of the model's first floating parameter (``fallback`` if it has none)."""
    for param in model.parameters():
        if is_float_dtype(param.dtype):
            return param.dtype
    return xp.dtype(fallback)


def check_input(owner: str, x, model):
    """``x`` as a floating array in the model's dtype, batch first.

    Raises ``TypeError`` for integer or boolean input (an attribution is a derivative with
    respect to the input, which needs real numbers) and ``ValueError`` for a 0-d input.
    """
    array = x.data if isinstance(x, Tensor) else xp.asarray(x)
    if not is_float_dtype(array.dtype):
        raise TypeError(
            f"{owner}: expected a floating input (float32 or float64), received dtype "
            f"{array.dtype}; convert it first, for example x.astype(numpy.float32)"
        )
    if array.ndim < 1 or array.shape[0] == 0:
        raise ValueError(
            f"{owner}: expected a batch of inputs shaped (N, ...) with N >= 1, received shape "
            f"{array.shape}; add the batch axis with x[None]"
        )
    return array.astype(model_dtype(model, array.dtype), copy=False)


def check_baseline(owner: str, baseline, x, name: str = "baseline"):
    """``baseline`` broadcast to ``x``'s shape: a number, one sample's shape, or x's shape."""
    array = baseline.data if isinstance(baseline, Tensor) else xp.asarray(baseline)
    if not (is_float_dtype(array.dtype) or array.dtype.kind in "iu"):
        raise TypeError(f"{owner}: expected {name} to be a number or a numeric array, "
                        f"received dtype {array.dtype}")
    if array.ndim == 0 or array.shape in (x.shape, x.shape[1:]):
        return xp.broadcast_to(array.astype(x.dtype, copy=False), x.shape)
    raise ValueError(
        f"{owner}: expected {name} to be a number, one sample's shape {x.shape[1:]} or the "
        f"input's shape {x.shape}, received shape {array.shape}"
    )


def check_batch_size(owner: str, batch_size, default: int) -> int:
    """A positive int, or ``default`` for None."""
    if batch_size is None:
        return default
    integer = isinstance(batch_size, (int, xp.integer)) and not isinstance(batch_size, bool)
    if not integer or batch_size < 1:
        raise ValueError(f"{owner}: expected batch_size to be a positive int or None, "
                         f"received {batch_size!r}")
    return int(batch_size)


def chunks(count: int, size: int) -> Iterator[slice]:
    """Slices [0, size), [size, 2·size), … covering ``count`` rows."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


@contextlib.contextmanager
def attribution_mode(model):
    """Evaluate ``model`` in ``eval()`` mode without parameter gradients; restore both after."""
    modes = [(module, module.training) for module in model.modules()]
    flags = [(param, param.requires_grad) for param in model.parameters()]
    model.eval()
    for param, _ in flags:
        param.requires_grad = False
    try:
        yield model
    finally:
        for param, flag in flags:
            param.requires_grad = flag
        for module, training in modes:
            object.__setattr__(module, "training", training)


def _as_rows(owner: str, output: Tensor) -> Tensor:
    """The model output as (n, outputs): a (n,) output is one output per row."""
    if output.ndim == 1:
        return output.reshape((output.shape[0], 1))
    if output.ndim != 2:
        raise ValueError(
            f"{owner}: expected the model to return one row of outputs per sample, (N, C) or "
            f"(N,), received shape {tuple(output.shape)}; wrap the model so it returns (N, C)"
        )
    return output


def _forward(owner: str, model, rows, requires_grad: bool) -> tuple[Tensor, Tensor]:
    inputs = Tensor(rows, requires_grad=requires_grad, dtype=rows.dtype)
    return inputs, _as_rows(owner, model(inputs))


def predict_targets(owner: str, model, x, batch_size: int):
    """The model's outputs (N, C) for ``x``, without recording a graph."""
    with no_grad():
        parts = [_forward(owner, model, x[part], False)[1].data
                 for part in chunks(len(x), batch_size)]
    return xp.concatenate(parts)


def resolve_targets(owner: str, target, outputs):
    """One output index per sample: ``target`` None (the predicted class; output 0 for a single
    output), an int, or a sequence of ints, one per sample; checked against the outputs."""
    count, classes = outputs.shape
    if target is None:
        return xp.argmax(outputs, axis=1) if classes > 1 else xp.zeros(count, dtype=xp.int64)
    if isinstance(target, Tensor):
        target = target.data
    array = xp.asarray(target)
    if array.dtype.kind not in "iu" or array.ndim > 1:
        raise TypeError(f"{owner}: expected target to be None, an int or one int per sample, "
                        f"received {target!r:.80}")
    if array.ndim == 1 and array.shape[0] != count:
        raise ValueError(f"{owner}: expected one target per sample ({count}), "
                         f"received {array.shape[0]}")
    array = xp.broadcast_to(array, (count,)).astype(xp.int64)
    outside = (array < 0) | (array >= classes)
    if outside.any():
        bad = int(array[outside][0])
        raise ValueError(
            f"{owner}: target {bad} is outside the model's outputs: expected a class in "
            f"0..{classes - 1} ({classes} outputs)"
        )
    return array


def target_outputs(owner: str, model, rows, targets, batch_size: int):
    """y[target] for every row, without recording a graph."""
    outputs = predict_targets(owner, model, rows, batch_size)
    return outputs[xp.arange(len(rows)), targets]


def target_gradients(owner: str, model, rows, targets, batch_size: int):
    """∂y[row, target[row]]/∂rows[row] for every row, ``batch_size`` rows per pass.

    Returns ``(gradients, values)``: the gradients shaped as ``rows`` and the target outputs (n,).
    A model whose output does not depend on its input gets zero gradients.
    """
    gradients = xp.zeros_like(rows)
    values = xp.empty(len(rows), dtype=rows.dtype)
    for part in chunks(len(rows), batch_size):
        inputs, output = _forward(owner, model, rows[part], True)
        picked = xp.arange(part.stop - part.start)
        seed = xp.zeros(output.shape, dtype=output.dtype)
        seed[picked, targets[part]] = 1  # one-hot: backward gives each row's ∂y_target/∂x
        values[part] = output.data[picked, targets[part]]
        if output.requires_grad:
            output.backward(seed)
        if inputs.grad is not None:
            gradients[part] = inputs.grad
    return gradients, values
