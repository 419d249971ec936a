"""``TrainingHealth``: what happens inside each layer during training, and plain warnings.

Every ``every`` steps the callback records, per layer:

- the gradient norm ‖∂J/∂W‖ of each parameter (as computed, before clipping), and the norm
  of the gradient at each layer's output, ‖δ‖ = ‖∂J/∂z‖ (the tutorial's error term);
- the update-to-weight ratio ‖ΔW‖/‖W‖ from the update the optimizer actually made (so it is
  right for Adam, momentum and weight decay too: W is copied before the step and compared after);
- the mean and standard deviation of each layer's output and of each activation;
- the fraction of saturated sigmoid/tanh units (|tanh| > 0.99, sigmoid < 0.01 or > 0.99);
- counts of non-finite values in gradients, weights and activations (counted, never dropped).

On every step it marks which ReLU units were positive for some sample, so at the end of each
epoch it knows the dead units: those that were zero for every sample of the epoch.

:meth:`TrainingHealth.warnings` turns the records into sentences, each with the threshold
that triggered it and a remedy. The thresholds (:data:`THRESHOLDS`) and where they come from:

=====================  =========================  ==============================================
warning                triggers when              source
=====================  =========================  ==============================================
vanishing gradients    first/last layer gradient  Glorot and Bengio (2010) show the ratio
                       norm ratio < 1e-2          collapsing by orders of magnitude in deep
                                                  sigmoid nets; 1e-2 is two orders
exploding gradients    first/last ratio > 1e2,    Pascanu, Mikolov and Bengio (2013); the same
                       or a norm growing 1e3×     two orders the other way
dead ReLU units        > 40% of a layer dead for  Lu et al. (2019), "Dying ReLU"; a few dead
                       a whole epoch              units are normal, most of a layer is not
saturated units        > 30% of sigmoid/tanh      Glorot and Bengio (2010): saturated units
                       outputs saturated          pass almost no gradient
update ratio           median ‖ΔW‖/‖W‖ < 1e-5     Karpathy, CS231n notes: about 1e-3 is
                       or > 1e-1                  healthy; two orders off either way is not
initial loss           |ℓ₀ − ln K| > 25% of ln K  Karpathy (2019), "A recipe for training
                                                  neural networks": expect −ln(1/K) at init
non-finite values      any NaN or inf             (always a problem)
=====================  =========================  ==============================================

Examples
--------
>>> import numpy as np
>>> from chainrule import nn, optim
>>> from chainrule.train import fit
>>> from chainrule.diagnostics import TrainingHealth
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(256, 8)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> model = nn.Sequential(nn.Linear(8, 16, generator=0), nn.ReLU(), nn.Linear(16, 2, generator=1))
>>> health = TrainingHealth(every=5)
>>> _ = fit(model, (X, y), loss="cross_entropy", optimizer=optim.Adam(model.parameters(), lr=1e-3),
...         epochs=2, callbacks=[health], progress=False, verbose=0)
>>> sorted(health.report()["layers"])
['0', '1', '2']
"""

from __future__ import annotations

import json
import math

from .._validation import check_int
from ..backend import xp
from ..train.callbacks import Callback

__all__ = ["THRESHOLDS", "TrainingHealth"]

THRESHOLDS = {
    "vanishing_ratio": 1e-2,
    "exploding_ratio": 1e2,
    "exploding_growth": 1e3,
    "dead_fraction": 0.4,
    "saturated_fraction": 0.3,
    "update_ratio_low": 1e-5,
    "update_ratio_high": 1e-1,
    "initial_loss_tolerance": 0.25,
}
"""The warning thresholds; see the module docstring for their sources."""

_RELU = ("ReLU",)
_SATURATING = {"Sigmoid": "sigmoid", "Tanh": "tanh"}


def _norm(array) -> float:
    return float(xp.sqrt(xp.sum(xp.square(array.astype(xp.float64)))))


def _nonfinite(array) -> int:
    return int(array.size - xp.count_nonzero(xp.isfinite(array)))


def _median(values):
    values = sorted(v for v in values if math.isfinite(v))
    if not values:
        return math.nan
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


class TrainingHealth(Callback):
    """Record per-layer training statistics every ``every`` steps and warn about problems.

    Parameters
    ----------
    every : int
        Sampling interval in steps (dead-unit masks are updated on every step).
    thresholds : dict, optional
        Overrides for :data:`THRESHOLDS`.
    verbose : bool
        Print the warnings at the end of training.

    Attributes
    ----------
    steps : list of int
        The global step numbers that were sampled.
    grad_norms, update_ratios : dict[str, list[float]]
        Per parameter name, one value per sampled step.
    output_grad_norms, activation_mean, activation_std, saturated : dict[str, list[float]]
        Per layer (module name), one value per sampled step.
    dead_fraction, dead_units : dict[str, list]
        Per ReLU layer, one value per epoch (fraction, and the count of dead units).
    nonfinite : dict[str, int]
        Counts of non-finite values seen in gradients, weights, activations and the loss.
    initial_loss : float
    """

    def __init__(self, every: int = 10, *, thresholds: dict | None = None, verbose: bool = True):
        check_int("TrainingHealth", "every", every, low=1)
        unknown = sorted(set(thresholds or {}) - set(THRESHOLDS))
        if unknown:
            raise ValueError(
                f"TrainingHealth: unknown thresholds {unknown}; known: {sorted(THRESHOLDS)}"
            )
        self.every = every
        self.thresholds = {**THRESHOLDS, **(thresholds or {})}
        self.verbose = bool(verbose)
        self._handles: list = []
        self._reset()

    def _reset(self):
        self.steps: list[int] = []
        self.grad_norms: dict[str, list] = {}
        self.update_ratios: dict[str, list] = {}
        self.output_grad_norms: dict[str, list] = {}
        self.activation_mean: dict[str, list] = {}
        self.activation_std: dict[str, list] = {}
        self.saturated: dict[str, list] = {}
        self.dead_fraction: dict[str, list] = {}
        self.dead_units: dict[str, list] = {}
        self.nonfinite = {"gradients": 0, "weights": 0, "activations": 0, "loss": 0}
        self.initial_loss = math.nan
        self.num_outputs = None
        self._step = 0
        self._sampling = False
        self._alive: dict[str, object] = {}
        self._before: dict[str, object] = {}
        self._pending_grads: dict[str, float] = {}

    # ------------------------------------------------------------ the hooks
    def on_train_begin(self, logs=None):
        self._reset()
        self._remove_hooks()
        model = self.model
        self._params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self._layers = []
        for name, module in model.named_modules():
            if not name or any(True for _ in module.children()):
                continue  # leaves only: the layers and activations
            kind = type(module).__name__
            has_params = any(True for _ in module.parameters())
            if not (has_params or kind in _RELU or kind in _SATURATING):
                continue
            self._layers.append(name)
            self._handles.append(module.register_forward_hook(self._forward_hook(name, kind)))

    def _forward_hook(self, name, kind):
        def hook(module, inputs, output):
            data = output.data
            if kind in _RELU:
                positive = data > 0
                axes = tuple(i for i in range(data.ndim) if i != 1) if data.ndim > 1 else (0,)
                alive = positive.any(axis=axes) if data.ndim > 1 else positive.reshape(1, -1).any(0)
                previous = self._alive.get(name)
                self._alive[name] = alive if previous is None else (previous | alive)
            if not self._sampling:
                return None
            self.nonfinite["activations"] += _nonfinite(data)
            finite = data[xp.isfinite(data)] if self.nonfinite["activations"] else data
            self.activation_mean.setdefault(name, []).append(
                float(finite.mean()) if finite.size else math.nan
            )
            self.activation_std.setdefault(name, []).append(
                float(finite.std()) if finite.size else math.nan
            )
            if kind in _SATURATING:
                if _SATURATING[kind] == "tanh":
                    saturated = xp.abs(data) > 0.99
                else:
                    saturated = (data < 0.01) | (data > 0.99)
                self.saturated.setdefault(name, []).append(float(saturated.mean()))
            if output.requires_grad:

                def grad_hook(grad, name=name):
                    self._pending_grads[name] = _norm(grad.data)

                output.register_hook(grad_hook)
            return None

        return hook

    def on_batch_begin(self, batch, logs=None):
        self._sampling = self._step % self.every == 0
        self._pending_grads = {}

    def on_after_backward(self, batch, logs=None):
        if self._step == 0 and logs is not None and "loss" in logs:
            self.initial_loss = float(logs["loss"])
        if not self._sampling:
            return
        for name, p in self._params:
            if p.grad is None:
                continue
            self.nonfinite["gradients"] += _nonfinite(p.grad)
            self.grad_norms.setdefault(name, []).append(_norm(p.grad))
        for name in self._layers:
            if name in self._pending_grads:
                self.output_grad_norms.setdefault(name, []).append(self._pending_grads[name])

    def on_before_optimizer_step(self, batch, logs=None):
        if self._sampling:
            self._before = {name: p.data.copy() for name, p in self._params if p.grad is not None}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        if "loss" in logs and not math.isfinite(float(logs["loss"])):
            self.nonfinite["loss"] += 1
        if self._sampling:
            self.steps.append(self._step)
            for name, p in self._params:
                before = self._before.get(name)
                if before is None:
                    continue
                self.nonfinite["weights"] += _nonfinite(p.data)
                weight_norm = _norm(before)
                ratio = _norm(p.data - before) / weight_norm if weight_norm > 0 else math.nan
                self.update_ratios.setdefault(name, []).append(ratio)
            self._before = {}
        self._sampling = False
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        for name, alive in self._alive.items():
            dead = int(alive.size - xp.count_nonzero(alive))
            self.dead_units.setdefault(name, []).append(dead)
            self.dead_fraction.setdefault(name, []).append(dead / alive.size)
        self._alive = {}
        if logs is not None:
            logs["health_warnings"] = float(len(self.warnings()))

    def on_train_end(self, logs=None):
        self._remove_hooks()
        if self.verbose:
            for line in self.warnings():
                print(f"warning: {line}")

    def _remove_hooks(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # -------------------------------------------------------------- reports
    def _weights(self):
        """The names of weight matrices/kernels (ndim >= 2), in forward order."""
        return [name for name, p in self._params if len(p.shape) >= 2 and name in self.grad_norms]

    def warnings(self) -> list[str]:
        """The problems found so far, each as a sentence with its threshold and a remedy."""
        t = self.thresholds
        found = []
        weights = self._weights()
        if len(weights) >= 2:
            first, last = weights[0], weights[-1]
            pairs = zip(self.grad_norms[first], self.grad_norms[last], strict=True)
            ratio = _median([a / b for a, b in pairs if b > 0])
            head = (
                f"the first layer's gradient norm ({first}) is {ratio:.2g}× the last "
                f"layer's ({last})"
            )
            if ratio < t["vanishing_ratio"]:
                found.append(
                    f"vanishing gradients: {head}, below the threshold "
                    f"{t['vanishing_ratio']:g}; the early layers barely learn. Use ReLU-family "
                    "activations instead of sigmoid/tanh, He/Xavier initialisation, "
                    "normalisation layers or a shallower net"
                )
            elif ratio > t["exploding_ratio"]:
                found.append(
                    f"exploding gradients: {head}, above {t['exploding_ratio']:g}. Lower the "
                    "learning rate, clip the gradient norm (clip_grad_norm) or add "
                    "normalisation layers"
                )
        for name, norms in self.grad_norms.items():
            finite = [v for v in norms if math.isfinite(v) and v > 0]
            if len(finite) >= 2 and finite[-1] / finite[0] > t["exploding_growth"]:
                found.append(
                    f"exploding gradients: the gradient norm of {name} grew "
                    f"{finite[-1] / finite[0]:.2g}× during training (threshold "
                    f"{t['exploding_growth']:g}×). Lower the learning rate or clip the "
                    "gradient norm"
                )
                break
        for name, fractions in self.dead_fraction.items():
            if fractions and fractions[-1] > t["dead_fraction"]:
                dead = self.dead_units[name][-1]
                found.append(
                    f"dead units: {dead} of {round(dead / fractions[-1])} ReLU units of layer "
                    f"{name} ({fractions[-1]:.0%}) were zero for every sample of the last epoch "
                    f"(threshold {t['dead_fraction']:.0%}). Lower the learning rate, use He "
                    "initialisation, or LeakyReLU/GELU"
                )
        for name, fractions in self.saturated.items():
            value = _median(fractions)
            if value > t["saturated_fraction"]:
                found.append(
                    f"saturation: {value:.0%} of the outputs of {name} are saturated "
                    f"(threshold {t['saturated_fraction']:.0%}), where the derivative is nearly "
                    "0. Standardise the inputs, use a smaller initialisation, or ReLU"
                )
        for name in weights:
            value = _median(self.update_ratios.get(name, []))
            low, high = t["update_ratio_low"], t["update_ratio_high"]
            if value < low or value > high:
                found.append(
                    f"update ratio: the updates of {name} are {value:.2g} of its weights "
                    f"(‖ΔW‖/‖W‖, healthy near 1e-3; threshold {low if value < low else high:g}):"
                    f" the learning rate is probably too {'low' if value < low else 'high'}"
                )
        k = self._num_classes()
        if k and math.isfinite(self.initial_loss):
            expected = math.log(k)
            if abs(self.initial_loss - expected) > t["initial_loss_tolerance"] * expected:
                found.append(
                    f"initial loss: the first batch's loss was {self.initial_loss:.3f}, far from "
                    f"ln {k} = {expected:.3f} expected for an untrained {k}-class classifier "
                    f"(tolerance {t['initial_loss_tolerance']:.0%}). Check the initialisation, "
                    "the input scale and the last layer's bias"
                )
        counts = {kind: n for kind, n in self.nonfinite.items() if n}
        if counts:
            found.append(
                "non-finite values: "
                + ", ".join(f"{n} in {kind}" for kind, n in counts.items())
                + ". Run with detect_anomaly=True to find the op and layer that produced the "
                "first one"
            )
        return found

    def _num_classes(self):
        if not self._layers or not self._params:
            return None
        loss_name = getattr(getattr(self.trainer, "loss", None), "__name__", "")
        if "cross_entropy" not in loss_name and loss_name not in ("nll",):
            return None
        last = self._params[-1][1]
        return int(last.shape[0]) if len(last.shape) >= 1 and last.shape[0] > 1 else None

    def report(self) -> dict:
        """Everything recorded, as a JSON-able dict (``layers``, ``parameters``, ``warnings``)."""
        layers = {}
        for name in self._layers:
            entry = {}
            for key, store in (
                ("output_grad_norm", self.output_grad_norms),
                ("activation_mean", self.activation_mean),
                ("activation_std", self.activation_std),
                ("saturated_fraction", self.saturated),
                ("dead_fraction", self.dead_fraction),
                ("dead_units", self.dead_units),
            ):
                if name in store:
                    entry[key] = list(store[name])
            layers[name] = entry
        parameters = {
            name: {
                "grad_norm": list(self.grad_norms.get(name, [])),
                "update_ratio": list(self.update_ratios.get(name, [])),
            }
            for name, _ in self._params
        }
        return {
            "every": self.every,
            "steps": list(self.steps),
            "initial_loss": self.initial_loss,
            "nonfinite": dict(self.nonfinite),
            "thresholds": dict(self.thresholds),
            "layers": layers,
            "parameters": parameters,
            "warnings": self.warnings(),
        }

    def save(self, path) -> None:
        """Write :meth:`report` as JSON (NaN written as null), atomically."""
        from ..io import atomic_write_bytes

        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            return value

        atomic_write_bytes(path, (json.dumps(clean(self.report()), indent=1) + "\n").encode())

    def plot(self, folder) -> list:
        """Save the three pictures of training health in ``folder``; return their paths."""
        from .plots import plot_health

        return plot_health(self, folder)
