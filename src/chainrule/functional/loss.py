"""Loss functions J(prediction, target).

``cross_entropy`` and ``binary_cross_entropy_with_logits`` are fused
primitives: they take logits, never form probabilities that could round to 0
or 1, and their backward is the short closed form (softmax − target, or
σ(x) − y). ``mse_loss`` and ``l1_loss`` are composed from elementwise
primitives; ``huber_loss`` / ``smooth_l1_loss`` and ``binary_cross_entropy``
(from probabilities) are small primitives of their own.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import errstate, is_float_dtype, xp
from ..tensor import Tensor
from ._util import as_tensor, check_reduction
from .elementwise import sub
from .reduce import mean as _mean
from .reduce import sum as _sum

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


def _reduce(loss, reduction):
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """J = mean((input − target)²) (or sum, or per element with ``reduction='none'``).

    The tutorial's J = 1/(2m) Σ‖y − a‖² is ``0.5 * mse_loss(a, y, reduction='sum') / m``.
    """
    check_reduction("mse_loss", reduction)
    input, target = _same_shape("mse_loss", input, target)
    diff = sub(input, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """J = mean(|input − target|)."""
    check_reduction("l1_loss", reduction)
    input, target = _same_shape("l1_loss", input, target)
    return _reduce(sub(input, target).abs(), reduction)


def _class_axis_last(x):
    """(N, C, d1, ...) → (N·d1·…, C), the class axis last; (N, C) unchanged."""
    if x.ndim == 2:
        return x
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _restore_class_axis(g, shape):
    if len(shape) == 2:
        return g
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(g.reshape(moved), -1, 1)


def _check_targets(name, logits, target, weight, ignore_index):
    """Validate logits, labels and class weights.

    Return (flat labels, weights, whether any label is ignored).
    """
    if not isinstance(logits, Tensor) or not is_float_dtype(logits.dtype):
        raise TypeError(
            f"{name}: expected floating input (logits), received "
            f"{getattr(logits, 'dtype', type(logits))}"
        )
    if logits.ndim < 2:
        raise ValueError(
            f"{name}: expected input of shape (N, C) or (N, C, d1, ...), received {logits.shape}"
        )
    target = target.data if isinstance(target, Tensor) else xp.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected integer class labels as target, received dtype {target.dtype}"
        )
    expected = (logits.shape[0],) + tuple(logits.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{name}: expected target of shape {expected} for input {logits.shape}, received "
            f"{target.shape}"
        )
    classes = logits.shape[1]
    any_ignored = False
    if target.size and (target.min() < 0 or target.max() >= classes):  # then look past ignore_index
        labels = target[target != ignore_index]
        any_ignored = labels.size < target.size
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"{name}: target labels must be in [0, {classes - 1}] for {classes} classes, "
                f"received values in [{int(labels.min())}, {int(labels.max())}]"
            )
    elif 0 <= ignore_index < classes:  # a class index chosen as ignore_index
        any_ignored = bool((target == ignore_index).any())
    if weight is not None:
        weight = weight.data if isinstance(weight, Tensor) else xp.asarray(weight)
        if weight.shape != (classes,):
            raise ValueError(
                f"{name}: expected weight of shape ({classes},), received {weight.shape}"
            )
        weight = weight.astype(logits.dtype)
    return target.reshape(-1), weight, any_ignored


class CrossEntropy(Function):
    """Softmax cross-entropy from logits, fused.

    Per sample i with log-probabilities ℓ = log_softmax(zᵢ) = zᵢ − m − log Σ_c e^(z_c − m)
    (m = max_c z_c, for stability), label yᵢ, class weights w (default 1) and
    smoothing ε over C classes, the loss is Jᵢ = −Σ_c a_c ℓ_c with
    a_c = (1 − ε) w_{yᵢ} [c = yᵢ] + (ε/C) w_c (a = 0 for an ignored sample).
    'mean' divides Σ Jᵢ by Σ w_{yᵢ} over samples not ignored (PyTorch's rule).

    Backward (the output layer's error term δ⁽ᴸ⁾): ∂Jᵢ/∂zᵢ = (Σ_c a_c) softmax(zᵢ) − a,
    which for ε = 0 and w = 1 is softmax(zᵢ) − onehot(yᵢ).

    ``any_ignored`` (from the label check) says whether some yᵢ = ignore_index. In the common
    case, no weights, no smoothing and nothing ignored, every coefficient is 1 and is left out.
    """

    fresh_grads = True  # δ is a new array

    def forward(self, logits, target=None, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean", any_ignored=True):
        z = _class_axis_last(logits)
        n, classes = z.shape
        shifted = z - z.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        sum_exp = exp.sum(axis=1)
        valid = target != ignore_index if any_ignored else None
        if any_ignored:
            target = xp.where(valid, target, 0)
        rows = xp.arange(n)
        log_sum_exp = xp.log(sum_exp)
        nll = log_sum_exp - shifted[rows, target]  # −ℓ_{yᵢ}
        # w_{yᵢ} per sample (0 if ignored); None when it is 1 for every sample
        if weight is None:
            w_y = None if valid is None else valid.astype(z.dtype)
        else:
            w_y = weight[target] if valid is None else weight[target] * valid
        label_coef = (
            w_y if not label_smoothing else (1 - label_smoothing) * (1.0 if w_y is None else w_y)
        )
        per_sample = nll if label_coef is None else label_coef * nll  # −a_{yᵢ} ℓ_{yᵢ}
        total_coef = label_coef  # Σ_c a_c (None: 1)
        if label_smoothing:
            counted = 1.0 if valid is None else valid.astype(z.dtype)
            w_sum = classes if weight is None else weight.sum()
            # −Σ_c w_c ℓ_c = Σ_c w_c log Σ e^(z − m) − Σ_c w_c (z_c − m)
            w_nll = w_sum * log_sum_exp - (
                shifted.sum(axis=1) if weight is None else shifted @ weight
            )
            per_sample = per_sample + label_smoothing / classes * counted * w_nll
            total_coef = label_coef + label_smoothing / classes * w_sum * counted
        self.shape, self.reduction, self.smoothing = logits.shape, reduction, label_smoothing
        self.exp, self.sum_exp, self.rows, self.target = exp, sum_exp, rows, target
        self.label_coef, self.total_coef, self.weight, self.valid = (
            label_coef,
            total_coef,
            weight,
            valid,
        )
        if reduction == "mean":
            self.denominator = n if w_y is None else w_y.sum()
            # a zero denominator: NaN or ±inf, as PyTorch
            with errstate(invalid="ignore", divide="ignore"):
                return xp.asarray(per_sample.sum() / self.denominator, dtype=z.dtype)
        if reduction == "sum":
            return xp.asarray(per_sample.sum(), dtype=z.dtype)
        return per_sample.reshape((self.shape[0],) + tuple(self.shape[2:]))

    def backward(self, g):
        # δ = (Σ_c a_c) softmax(z) − a, scaled by the reduction's g (a scalar, or one per sample)
        if self.reduction == "mean":
            scale = g / self.denominator  # the engine lets a zero denominator give ±inf or NaN
        elif self.reduction == "sum":
            scale = g
        else:
            scale = g.reshape(-1)
        row_scale = (
            scale / self.sum_exp
            if self.total_coef is None
            else self.total_coef * scale / self.sum_exp
        )
        delta = self.exp * row_scale[:, None]  # softmax = e^(z − m) / Σ e^(z − m)
        delta[self.rows, self.target] -= (
            scale if self.label_coef is None else self.label_coef * scale
        )
        if self.smoothing:
            w = 1 if self.weight is None else self.weight
            counted = scale if self.valid is None else self.valid * scale
            delta -= (self.smoothing / self.shape[1]) * w * xp.reshape(counted, (-1, 1))
        if self.valid is not None:
            # an ignored sample gets no gradient, even from a zero denominator (PyTorch)
            delta[~self.valid] = 0
        return (_restore_class_axis(delta, self.shape),)


class NLLLoss(Function):
    """J = −Σᵢ w_{yᵢ} ℓ_{i,yᵢ} (/ Σ w_{yᵢ} for 'mean') from log-probabilities ℓ;
    ∂J/∂ℓ_{i,c} = −w_{yᵢ} [c = yᵢ] (scaled by the reduction)."""

    def forward(self, logp, target=None, weight=None, ignore_index=-100, reduction="mean"):
        self.shape, self.reduction = logp.shape, reduction
        lp = _class_axis_last(logp)
        n, classes = lp.shape
        valid = target != ignore_index
        safe_target = xp.where(valid, target, 0)
        w = weight if weight is not None else xp.ones(classes, dtype=lp.dtype)
        self.coef = w[safe_target] * valid
        self.target = safe_target
        picked = lp[xp.arange(n), safe_target]
        per_sample = -self.coef * picked
        if reduction == "mean":
            self.denominator = self.coef.sum()
            # every target ignored: NaN, as PyTorch
            with errstate(invalid="ignore", divide="ignore"):
                return xp.asarray(per_sample.sum() / self.denominator, dtype=lp.dtype)
        if reduction == "sum":
            return xp.asarray(per_sample.sum(), dtype=lp.dtype)
        return per_sample.reshape((self.shape[0],) + tuple(self.shape[2:]))

    def backward(self, g):
        n = self.target.shape[0]
        classes = self.shape[1]
        if self.reduction == "mean":
            scale = self.coef * (g / self.denominator)
        elif self.reduction == "sum":
            scale = self.coef * g
        else:
            scale = self.coef * g.reshape(-1)
        grad = xp.zeros((n, classes), dtype=scale.dtype)
        grad[xp.arange(n), self.target] = -scale
        return (_restore_class_axis(grad, self.shape),)


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits (N, C) or (N, C, d1, ...) and integer labels (N,) or
    (N, d1, ...), or class probabilities shaped like the input (soft labels, PyTorch ≥ 1.10).

    With labels it is the same as ``nll_loss(log_softmax(input, 1), target)`` but fused: stable
    for any
    logits, and one backward, softmax − onehot. Options as PyTorch's: class
    ``weight`` (C,), ``ignore_index``, ``reduction`` and ``label_smoothing`` ∈ [0, 1].
    With probabilities q (a floating target), Jᵢ = −Σ_c w_c q̃_c ℓ_c with
    q̃ = (1 − ε) q + ε/C, and 'mean' divides by the number of samples (not by
    the weights), as PyTorch; ``ignore_index`` does not apply.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> logits = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    >>> round(F.cross_entropy(logits, np.array([0, 2])).item(), 4)  # ln 3
    1.0986
    """
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], received {label_smoothing}"
        )
    target_dtype = getattr(target, "dtype", None)
    if target_dtype is None:
        target_dtype = xp.asarray(target).dtype
    if is_float_dtype(target_dtype):  # class probabilities, shaped like the input
        return _soft_cross_entropy(input, target, weight, reduction, float(label_smoothing))
    target, weight, any_ignored = _check_targets(
        "cross_entropy", input, target, weight, ignore_index
    )
    return CrossEntropy.apply(
        input,
        target=target,
        weight=weight,
        ignore_index=ignore_index,
        label_smoothing=float(label_smoothing),
        reduction=reduction,
        any_ignored=any_ignored,
    )


def nll_loss(
    input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood from log-probabilities (N, C) and integer labels (N,)."""
    check_reduction("nll_loss", reduction)
    target, weight, _ = _check_targets("nll_loss", input, target, weight, ignore_index)
    return NLLLoss.apply(
        input, target=target, weight=weight, ignore_index=ignore_index, reduction=reduction
    )


class BCEWithLogits(Function):
    """Binary cross-entropy from logits x and targets y ∈ [0, 1], stable.

    With p = pos_weight (default 1) and softplus(t) = log(1 + eᵗ):
    J = (1 − y) x + (1 + (p − 1) y) softplus(−x),  softplus(−x) = log(1 + e^(−|x|)) + max(−x, 0).

    ∂J/∂x = (1 − y) − (1 + (p − 1) y) σ(−x)   (= σ(x) − y when p = 1);
    ∂J/∂y = −x + (p − 1) softplus(−x).
    """

    def forward(self, x, y, weight=None, pos_weight=None, reduction="mean"):
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        coef = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
        loss = (1 - y) * x + coef * softplus_neg
        if weight is not None:
            loss = loss * weight
        self.x, self.y, self.coef, self.weight = x, y, coef, weight
        self.pos_weight, self.softplus_neg, self.reduction, self.size = (
            pos_weight,
            softplus_neg,
            reduction,
            loss.size,
        )
        if reduction == "mean":
            return xp.asarray(loss.mean(), dtype=x.dtype)
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=x.dtype)
        return loss

    def backward(self, g):
        if self.reduction == "mean":
            g = g / self.size
        scale = g if self.weight is None else g * self.weight
        x = self.x
        gx = gy = None
        if self.needs_input_grad[0]:
            e = xp.exp(-xp.abs(x))
            sigma_neg = xp.where(x >= 0, e, 1) / (1 + e)  # σ(−x), overflow-free
            gx = scale * ((1 - self.y) - self.coef * sigma_neg)
        if self.needs_input_grad[1]:
            extra = (self.pos_weight - 1) * self.softplus_neg if self.pos_weight is not None else 0
            gy = scale * (-x + extra)
        return gx, gy


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable primitive (PyTorch's semantics).

    ``weight`` broadcasts against the loss; ``pos_weight`` weights the positive term per class.
    """
    check_reduction("binary_cross_entropy_with_logits", reduction)
    input = as_tensor(input)
    target = target if isinstance(target, Tensor) else Tensor(xp.asarray(target), dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(
            "binary_cross_entropy_with_logits: input and target must have the same shape, "
            f"received {input.shape} and {target.shape}"
        )
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)

    def array(v):
        if v is None:
            return None
        return (v.data if isinstance(v, Tensor) else xp.asarray(v)).astype(input.dtype)

    return BCEWithLogits.apply(input, target, weight=array(weight), pos_weight=array(pos_weight),
                               reduction=reduction)


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities q (soft labels), fused with log-softmax.

    Per sample, ℓ = log_softmax(z), Jᵢ = −Σ_c w_c q_c ℓ_c (w = 1 without class weights).

    Backward: ∂Jᵢ/∂z = (Σ_c w_c q_c) softmax(z) − w ⊙ q,  ∂Jᵢ/∂q = −w ⊙ ℓ
    (both times the reduction's scale: 1/n for 'mean' over n samples, 1 for 'sum').
    Label smoothing is applied to q before this primitive, so its gradient flows through it.
    """

    fresh_grads = True

    def forward(self, logits, target, weight=None, reduction="mean"):
        z, q = _class_axis_last(logits), _class_axis_last(target)
        shifted = z - z.max(axis=1, keepdims=True)
        self.log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        self.wq = q if weight is None else q * weight
        self.weight, self.shape, self.reduction = weight, logits.shape, reduction
        per_sample = -(self.wq * self.log_p).sum(axis=1)
        if reduction == "mean":
            return xp.asarray(per_sample.mean(), dtype=z.dtype)
        if reduction == "sum":
            return xp.asarray(per_sample.sum(), dtype=z.dtype)
        return per_sample.reshape((self.shape[0],) + tuple(self.shape[2:]))

    def backward(self, g):
        n = self.log_p.shape[0]
        if self.reduction == "mean":
            scale = g / n
        elif self.reduction == "sum":
            scale = g
        else:
            scale = g.reshape(-1, 1)
        gz = gq = None
        if self.needs_input_grad[0]:
            gz = (self.wq.sum(axis=1, keepdims=True) * xp.exp(self.log_p) - self.wq) * scale
            gz = _restore_class_axis(gz, self.shape)
        if self.needs_input_grad[1]:
            gq = -self.log_p * scale if self.weight is None else -self.log_p * self.weight * scale
            gq = _restore_class_axis(gq, self.shape)
        return gz, gq


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    name = "cross_entropy"
    if not isinstance(input, Tensor) or not is_float_dtype(input.dtype):
        received = getattr(input, "dtype", type(input))
        raise TypeError(f"{name}: expected floating input (logits), received {received}")
    target = target if isinstance(target, Tensor) else Tensor(xp.asarray(target), dtype=input.dtype)
    if input.ndim < 2 or target.shape != input.shape:
        raise ValueError(
            f"{name}: class-probability targets must have the input's shape (N, C, ...), "
            f"received input {input.shape} and target {target.shape}; give integer labels otherwise"
        )
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    classes = input.shape[1]
    if weight is not None:
        weight = weight.data if isinstance(weight, Tensor) else xp.asarray(weight)
        if weight.shape != (classes,):
            raise ValueError(
                f"{name}: expected weight of shape ({classes},), received {weight.shape}"
            )
        weight = weight.astype(input.dtype)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    return SoftCrossEntropy.apply(input, target, weight=weight, reduction=reduction)


def _same_shape(name, input, target):
    """Both operands as Tensors of one shape, a plain target in the input's floating dtype."""
    input = as_tensor(input)
    if not isinstance(target, Tensor):
        array = xp.asarray(target)
        target = Tensor(array, dtype=input.dtype if is_float_dtype(input.dtype) else None)
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input and target must have the same shape, "
            f"received {input.shape} and {target.shape}"
        )
    if target.dtype != input.dtype and is_float_dtype(input.dtype):
        target = target.astype(input.dtype)
    return input, target


class Huber(Function):
    """Huber loss per element, d = x − y:  h(d) = ½ d² if |d| < δ, else δ (|d| − ½ δ).

    Backward: ∂h/∂x = clip(d, −δ, δ),  ∂h/∂y = −clip(d, −δ, δ) (times the reduction's scale).
    """

    def forward(self, x, y, delta=1.0, reduction="mean"):
        d = x - y
        absolute = xp.abs(d)
        loss = xp.where(absolute < delta, 0.5 * d * d, delta * (absolute - 0.5 * delta))
        self.clipped, self.reduction, self.size = xp.clip(d, -delta, delta), reduction, d.size
        if reduction == "mean":
            return xp.asarray(loss.mean(), dtype=x.dtype)
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=x.dtype)
        return loss

    def backward(self, g):
        scale = g / self.size if self.reduction == "mean" else g
        grad = self.clipped * scale
        return grad, -grad


def _check_nonnegative(name, option, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: {option} must be a number, received {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"{name}: {option} must be ≥ 0, received {value}")
    return float(value)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: ½ d² for |d| < delta, delta·(|d| − ½ delta) beyond (d = input − target).

    Quadratic near zero, linear for outliers; ``delta`` > 0 sets the switch point.

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> F.huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    check_reduction("huber_loss", reduction)
    delta = _check_nonnegative("huber_loss", "delta", delta)
    if delta == 0:
        raise ValueError("huber_loss: delta must be > 0, received 0.0; use l1_loss for delta → 0")
    input, target = _same_shape("huber_loss", input, target)
    return Huber.apply(input, target, delta=delta, reduction=reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: ½ d²/beta for |d| < beta, |d| − ½ beta beyond; equals huber_loss(δ=beta)/beta.

    ``beta = 0`` is the L1 loss, as in PyTorch.

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> F.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    check_reduction("smooth_l1_loss", reduction)
    beta = _check_nonnegative("smooth_l1_loss", "beta", beta)
    if beta == 0:
        return l1_loss(input, target, reduction)
    input, target = _same_shape("smooth_l1_loss", input, target)
    return Huber.apply(input, target, delta=beta, reduction=reduction) * (1.0 / beta)


class BinaryCrossEntropy(Function):
    """Binary cross-entropy from probabilities p and targets y ∈ [0, 1], as PyTorch's.

    J = −w (y log p + (1 − y) log(1 − p)), each log clamped at −100 so p = 0 or 1 stays finite.

    Backward: ∂J/∂p = w (p − y) / max(p (1 − p), 1e-12)  (PyTorch's guard),
    ∂J/∂y = −w (log p − log(1 − p)) with the same clamped logs.
    """

    def forward(self, p, y, weight=None, reduction="mean"):
        with errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100.0)
            log_q = xp.maximum(xp.log1p(-p), -100.0)
        loss = -(y * log_p + (1 - y) * log_q)
        if weight is not None:
            loss = loss * weight
        self.p, self.y, self.weight, self.log_p, self.log_q = p, y, weight, log_p, log_q
        self.reduction, self.size = reduction, loss.size
        if reduction == "mean":
            return xp.asarray(loss.mean(), dtype=p.dtype)
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=p.dtype)
        return loss

    def backward(self, g):
        scale = g / self.size if self.reduction == "mean" else g
        if self.weight is not None:
            scale = scale * self.weight
        gp = gy = None
        if self.needs_input_grad[0]:
            p = self.p
            gp = scale * (p - self.y) / xp.maximum(p * (1 - p), 1e-12)
        if self.needs_input_grad[1]:
            gy = -scale * (self.log_p - self.log_q)
        return gp, gy


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy between probabilities ``input`` ∈ [0, 1] and targets of the same shape.

    Prefer :func:`binary_cross_entropy_with_logits` on logits: it is stable where
    sigmoid saturates. ``weight`` broadcasts against the per-element loss.

    Examples
    --------
    >>> import chainrule as cr, chainrule.functional as F
    >>> round(F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0])).item(), 4)  # ln 2
    0.6931
    """
    check_reduction("binary_cross_entropy", reduction)
    input, target = _same_shape("binary_cross_entropy", input, target)
    data = input.data
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError(
            "binary_cross_entropy: input must hold probabilities in [0, 1], received values in "
            f"[{float(data.min()):.4g}, {float(data.max()):.4g}]; apply sigmoid first or use "
            "binary_cross_entropy_with_logits"
        )
    if weight is not None:
        weight = weight.data if isinstance(weight, Tensor) else xp.asarray(weight)
        weight = weight.astype(input.dtype)
    return BinaryCrossEntropy.apply(input, target, weight=weight, reduction=reduction)
