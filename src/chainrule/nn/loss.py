"""Loss functions as modules (PyTorch's ``nn.MSELoss``, ``nn.CrossEntropyLoss``, ...).

Each stores its options and calls the functional loss of :mod:`chainrule.functional.loss`
as ``loss(input, target)``. Class weights (``weight``, ``pos_weight``) are buffers, so
they appear in ``state_dict()`` under the same keys as in PyTorch.

Examples
--------
>>> import numpy as np, chainrule as cr, chainrule.nn as nn
>>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
>>> logits = cr.tensor(np.zeros((2, 3)), requires_grad=True)
>>> round(criterion(logits, np.array([0, 2])).item(), 4)  # ln 3 whatever the smoothing
1.0986
"""

from __future__ import annotations

from .. import functional as F
from ..backend import xp
from ..functional._util import check_reduction
from ..tensor import Tensor
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


def _number(owner: str, name: str, value, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, received {type(value).__name__}")
    if not value >= low:
        raise ValueError(f"{owner}: {name} must be ≥ {low}, received {value}")
    return float(value)


class _Loss(Module):
    """Stores ``reduction`` ('mean', 'sum' or 'none') and any weight buffers."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def _weight_buffer(self, name: str, value) -> None:
        if value is not None:
            value = value.data if isinstance(value, Tensor) else xp.asarray(value)
            if value.dtype.kind != "f":
                value = value.astype(xp.float32)
        self.register_buffer(name, value)

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def get_config(self) -> dict:
        return {"reduction": self.reduction}

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: ℓᵢ = (xᵢ − yᵢ)², averaged ('mean'), summed ('sum') or kept ('none').

    Shapes: input and target of the same shape; output a scalar (or the input's shape for 'none').

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> nn.MSELoss()(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
    5.0
    """

    def forward(self, input, target) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ℓᵢ = |xᵢ − yᵢ|, reduced as ``reduction`` says.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> nn.L1Loss()(cr.tensor([1.0, -3.0]), cr.tensor([0.0, 0.0])).item()
    2.0
    """

    def forward(self, input, target) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: ℓ = ½ d² if |d| < delta, else delta (|d| − ½ delta), with d = x − y.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> huber = nn.HuberLoss(delta=2.0, reduction="sum")
    >>> huber(cr.tensor([1.0, 4.0]), cr.tensor([0.0, 0.0])).item()
    6.5
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = _number("HuberLoss", "delta", delta)
        if self.delta == 0:
            raise ValueError("HuberLoss: delta must be > 0, received 0.0")

    def forward(self, input, target) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "delta": self.delta}


class SmoothL1Loss(_Loss):
    """Smooth L1: ℓ = ½ d²/beta if |d| < beta, else |d| − ½ beta (beta = 0: the L1 loss).

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> smooth = nn.SmoothL1Loss(beta=2.0, reduction="sum")
    >>> smooth(cr.tensor([1.0, 4.0]), cr.tensor([0.0, 0.0])).item()
    3.25
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = _number("SmoothL1Loss", "beta", beta)

    def forward(self, input, target) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "beta": self.beta}


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits, fused and stable (PyTorch's ``nn.CrossEntropyLoss``).

    For integer labels y: ℓᵢ = −w_{yᵢ} log softmax(xᵢ)_{yᵢ}, 'mean' divides by Σ w_{yᵢ}
    over the samples whose label is not ``ignore_index``. For class probabilities q
    (a floating target shaped like the input): ℓᵢ = −Σ_c w_c qᵢ_c log softmax(xᵢ)_c,
    'mean' divides by the number of samples. ``label_smoothing`` ε mixes the target
    with the uniform distribution: (1 − ε) target + ε/C.

    Parameters
    ----------
    weight : array (C,), optional
        Class weights (a buffer named ``weight``, as PyTorch).
    ignore_index : int, default −100
    reduction : 'mean', 'sum' or 'none'
    label_smoothing : float in [0, 1]

    Notes
    -----
    Shapes: input (N, C) or (N, C, d1, ...); target (N,) / (N, d1, ...) integer labels, or the
    input's shape for probabilities.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.nn as nn
    >>> soft = np.array([[0.5, 0.5, 0.0]])
    >>> round(nn.CrossEntropyLoss()(cr.tensor(np.zeros((1, 3))), soft).item(), 4)
    1.0986
    """

    def __init__(
        self,
        weight=None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            received = type(ignore_index).__name__
            raise TypeError(f"CrossEntropyLoss: ignore_index must be an int, received {received}")
        smoothing = _number("CrossEntropyLoss", "label_smoothing", label_smoothing)
        if smoothing > 1:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], received {label_smoothing}"
            )
        self.ignore_index, self.label_smoothing = ignore_index, smoothing
        self._weight_buffer("weight", weight)

    def forward(self, input, target) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def get_config(self) -> dict:
        return {
            "weight": None if self.weight is None else self.weight.tolist(),
            "ignore_index": self.ignore_index,
            "reduction": self.reduction,
            "label_smoothing": self.label_smoothing,
        }


class NLLLoss(_Loss):
    """Negative log-likelihood from log-probabilities: ℓᵢ = −w_{yᵢ} xᵢ_{yᵢ}.

    'mean' divides by Σ w_{yᵢ} over samples not ignored. Use after ``LogSoftmax(dim=1)``.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.nn as nn
    >>> logp = cr.tensor(np.log([[0.25, 0.75]]))
    >>> round(nn.NLLLoss()(logp, np.array([1])).item(), 4)
    0.2877
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise TypeError(
                f"NLLLoss: ignore_index must be an int, received {type(ignore_index).__name__}"
            )
        self.ignore_index = ignore_index
        self._weight_buffer("weight", weight)

    def forward(self, input, target) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )

    def get_config(self) -> dict:
        return {
            "weight": None if self.weight is None else self.weight.tolist(),
            "ignore_index": self.ignore_index,
            "reduction": self.reduction,
        }


class BCELoss(_Loss):
    """Binary cross-entropy from probabilities: ℓ = −w (y log p + (1 − y) log(1 − p)).

    Logs are clamped at −100 as in PyTorch. Prefer :class:`BCEWithLogitsLoss` on logits.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.BCELoss()(cr.tensor([0.8, 0.4]), cr.tensor([1.0, 0.0])).item(), 4)
    0.367
    """

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self._weight_buffer("weight", weight)

    def forward(self, input, target) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)

    def get_config(self) -> dict:
        return {
            "weight": None if self.weight is None else self.weight.tolist(),
            "reduction": self.reduction,
        }


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable step, from logits x:

    ℓ = −w (p y log σ(x) + (1 − y) log(1 − σ(x))), p = ``pos_weight`` (per class, broadcast
    over the last dimension). Buffers ``weight`` and ``pos_weight`` as PyTorch.

    Examples
    --------
    >>> import chainrule as cr, chainrule.nn as nn
    >>> round(nn.BCEWithLogitsLoss()(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)  # ln 2
    0.6931
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self._weight_buffer("weight", weight)
        self._weight_buffer("pos_weight", pos_weight)

    def forward(self, input, target) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )

    def get_config(self) -> dict:
        def listed(v):
            return None if v is None else v.tolist()

        return {
            "weight": listed(self.weight),
            "reduction": self.reduction,
            "pos_weight": listed(self.pos_weight),
        }
