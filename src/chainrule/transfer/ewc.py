"""Elastic weight consolidation (EWC): continual learning that forgets less.

After training on task A, EWC (Kirkpatrick et al., "Overcoming catastrophic forgetting in
neural networks", PNAS 2017) keeps the weights θ*_A and the diagonal of the Fisher information
of task A,

    F_i = (1/N) Σ_n (∂ log p(y_n | x_n; θ) / ∂θ_i)²    at θ = θ*_A,

and trains task B on  J_B(θ) + (λ/2) Σ_i F_i (θ_i − θ*_A,i)²:  weights that mattered for A
(large F_i) are held near their old values, the others are free to move.

The Fisher is an average of squared *per-sample* gradients. The square of the batch gradient,
(1/N Σ_n g_n)², is a different and much smaller number (the per-sample gradients of a trained
network nearly cancel), which is the mistake of many implementations; :func:`fisher_information`
loops over the samples one by one, in evaluation mode, so BatchNorm statistics and Dropout
do not enter and are not changed.

The penalty's gradient is λ F ⊙ (θ − θ*), added by :class:`EWC` to each parameter's gradient
in the ``on_after_backward`` hook of :func:`chainrule.train.fit`, which is the same as adding
the penalty to the loss.

Examples
--------
>>> import numpy as np
>>> import chainrule as cr
>>> from chainrule import nn, optim
>>> from chainrule.train import fit
>>> from chainrule.transfer import EWC
>>> rng = np.random.default_rng(0)
>>> Xa, ya = rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 2, 64)
>>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
>>> _ = fit(model, (Xa, ya), loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
...         epochs=2, progress=False, verbose=0)
>>> ewc = EWC(model, (Xa, ya), strength=100.0)
>>> Xb, yb = rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 2, 64)
>>> _ = fit(model, (Xb, yb), loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
...         epochs=2, progress=False, verbose=0, callbacks=[ewc])
>>> bool(ewc.penalty_value() >= 0)
True
"""

from __future__ import annotations

from .._validation import check_int, check_real
from ..autograd import enable_grad
from ..backend import xp
from ..tensor import Tensor
from ..train.callbacks import Callback

__all__ = ["EWC", "fisher_information"]


def _as_arrays(data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(
            "fisher_information: data must be an (X, y) pair of arrays, received "
            f"{type(data).__name__}"
        )
    X, y = (d.data if isinstance(d, Tensor) else xp.asarray(d) for d in data)
    if len(X) != len(y):
        raise ValueError(f"fisher_information: X has {len(X)} samples but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("fisher_information: data holds no samples")
    return X, y


def _loss_function(loss):
    from ..train import get_loss

    return get_loss(loss)


def fisher_information(
    model,
    data,
    *,
    loss="cross_entropy",
    max_samples: int | None = None,
    labels: str = "true",
    generator=None,
) -> dict:
    """Diagonal Fisher information of ``model`` on ``data``, from per-sample gradients.

    Parameters
    ----------
    model : chainrule.nn.Module
    data : (X, y) pair
        Samples of the task whose knowledge is to be kept.
    loss : str or callable
        The negative log-likelihood per sample: ``'cross_entropy'`` for classifiers (so the
        gradient is that of −log p(y | x)), ``'mse'`` for a Gaussian regression.
    max_samples : int, optional
        Use only the first ``max_samples`` samples.
    labels : {'true', 'sampled'}
        ``'true'``: the empirical Fisher, with the given labels. ``'sampled'``: labels drawn
        from the model's own softmax (the Fisher of the model's distribution), which needs
        ``generator``.
    generator : numpy.random.Generator or int, optional

    Returns
    -------
    dict
        ``{parameter name: ndarray}``, the same shapes as the parameters, in float64. Frozen
        parameters (``requires_grad=False``) are left out.

    The model is evaluated in evaluation mode and put back in the mode it was in; its
    parameters' ``.grad`` are restored as they were.
    """
    if labels not in ("true", "sampled"):
        raise ValueError(
            f"fisher_information: labels must be 'true' or 'sampled', received {labels!r}"
        )
    X, y = _as_arrays(data)
    if max_samples is not None:
        check_int("fisher_information", "max_samples", max_samples, low=1)
        X, y = X[:max_samples], y[:max_samples]
    rng = None
    if labels == "sampled":
        if generator is None:
            raise ValueError(
                "fisher_information: labels='sampled' needs a generator (an int seed "
                "or a numpy.random.Generator)"
            )
        rng = (
            generator
            if isinstance(generator, xp.random.Generator)
            else xp.random.default_rng(generator)
        )
    loss_fn = _loss_function(loss)
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise ValueError("fisher_information: the model has no trainable parameters (all frozen?)")
    saved_grads = [p.grad for _, p in params]
    fisher = {name: xp.zeros(p.shape, dtype=xp.float64) for name, p in params}
    was_training = model.training
    model.eval()
    try:
        with enable_grad():
            for n in range(len(X)):
                x_n = Tensor(X[n : n + 1], dtype=params[0][1].dtype)
                output = model(x_n)
                target = y[n : n + 1]
                if rng is not None:
                    logits = output.data.astype(xp.float64)
                    probs = xp.exp(logits - logits.max(axis=1, keepdims=True))
                    probs /= probs.sum(axis=1, keepdims=True)
                    target = xp.array([rng.choice(probs.shape[1], p=probs[0])])
                for _, p in params:
                    p.grad = None
                loss_fn(output, target).backward()
                for name, p in params:
                    if p.grad is not None:
                        fisher[name] += xp.square(p.grad.astype(xp.float64))
    finally:
        model.train(was_training)
        for (_, p), grad in zip(params, saved_grads, strict=False):
            p.grad = grad
    for name in fisher:
        fisher[name] /= len(X)
    return fisher


class EWC(Callback):
    """The EWC penalty (λ/2) Σ F_i (θ_i − θ*_i)², as a callback for :func:`chainrule.train.fit`.

    Parameters
    ----------
    model : chainrule.nn.Module
        The network trained on the previous task; its current weights become θ*.
    data : (X, y) pair, optional
        Samples of the previous task, used to compute the Fisher information with
        :func:`fisher_information` (``loss`` and ``max_samples`` are passed on).
    strength : float
        λ. Typical values are 10–10⁴ (larger keeps the old task better and learns the new
        one worse).
    fisher : dict, optional
        A precomputed Fisher (``{name: array}``) instead of ``data``.

    Notes
    -----
    In ``on_after_backward`` each parameter's gradient gets λ F ⊙ (θ − θ*) added, the gradient
    of the penalty, so every optimizer and clipping sees the regularised gradient. The penalty
    is logged per batch as ``logs['ewc_penalty']``. Several tasks: give one EWC callback per
    earlier task, or sum their Fishers.
    """

    def __init__(
        self,
        model,
        data=None,
        *,
        strength: float = 1000.0,
        fisher: dict | None = None,
        loss="cross_entropy",
        max_samples: int | None = None,
    ):
        check_real("EWC", "strength", strength, low=0.0)
        if (data is None) == (fisher is None):
            raise ValueError("EWC: give exactly one of data= (to compute the Fisher) or fisher=")
        self.strength = float(strength)
        named = dict(model.named_parameters())
        if fisher is None:
            fisher = fisher_information(model, data, loss=loss, max_samples=max_samples)
        unknown = sorted(set(fisher) - set(named))
        if unknown:
            raise ValueError(f"EWC: fisher names parameters the model does not have: {unknown}")
        for name, value in fisher.items():
            if tuple(xp.shape(value)) != tuple(named[name].shape):
                raise ValueError(
                    f"EWC: fisher[{name!r}] has shape {xp.shape(value)}, the "
                    f"parameter has {named[name].shape}"
                )
        self._tracked = [
            (named[name], xp.asarray(value, dtype=named[name].dtype), named[name].data.copy())
            for name, value in fisher.items()
        ]
        self.fisher = {name: xp.asarray(value) for name, value in fisher.items()}
        self.anchor = {name: named[name].data.copy() for name in fisher}

    def penalty_value(self) -> float:
        """(λ/2) Σ F (θ − θ*)² at the current weights."""
        total = 0.0
        for param, fisher, anchor in self._tracked:
            total += float((fisher * xp.square(param.data - anchor)).sum())
        return 0.5 * self.strength * total

    def penalty(self) -> Tensor:
        """The penalty as a differentiable scalar, to add to a loss in a hand-written loop."""
        total = None
        for param, fisher, anchor in self._tracked:
            term = (
                Tensor(fisher, dtype=param.dtype) * (param - Tensor(anchor, dtype=param.dtype)) ** 2
            ).sum()
            total = term if total is None else total + term
        return total * (0.5 * self.strength)

    def on_after_backward(self, batch, logs=None):
        for param, fisher, anchor in self._tracked:
            if not param.requires_grad:
                continue
            extra = self.strength * fisher * (param.data - anchor)
            param.grad = extra if param.grad is None else param.grad + extra
        if logs is not None:
            logs["ewc_penalty"] = self.penalty_value()
