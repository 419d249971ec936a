"""The model-randomisation sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

An explanation that is about the model must change when the model's weights are destroyed.
:func:`randomization_test` re-initialises the layers from the output down (cascading: each
step keeps the layers above it randomised too; independent: one layer at a time), recomputes
the attributions, and measures how much of the original ranking survives with Spearman's rank
correlation per sample. A method passes when the maps of the fully randomised model correlate
less than ``threshold`` with the original ones; an edge detector, or the input itself,
fails. The model's weights are put back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import draw, host, xp
from ..rng import get_generator
from ._model import attribution_mode, check_input, predict_targets, resolve_targets
from .methods import resolve_method

__all__ = ["RandomizationResult", "randomization_test", "rank_data", "spearman"]


def rank_data(values):
    """Ranks 1..n of ``values`` (1-D), ties given their average rank (as ``scipy.stats.rankdata``).

    Examples
    --------
    >>> rank_data([10.0, 30.0, 20.0, 20.0]).tolist()
    [1.0, 4.0, 2.5, 2.5]
    """
    values = host.asarray(values).ravel()
    order = host.argsort(values, kind="mergesort")
    inverse = host.empty_like(order)
    inverse[order] = host.arange(len(values))
    ordered = values[order]
    starts = host.concatenate(([True], ordered[1:] != ordered[:-1]))
    group = host.cumsum(starts)[inverse]  # the tie group of each value, 1-based
    bounds = host.concatenate((host.flatnonzero(starts), [len(values)]))
    return 0.5 * (bounds[group] + bounds[group - 1] + 1)  # mean of ranks bounds[g-1]+1 .. bounds[g]


def spearman(a, b) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks (ties averaged).

    A constant map has no ranking to share: its correlation is reported as 0.

    Examples
    --------
    >>> spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 45.0])
    1.0
    """
    ranks_a, ranks_b = rank_data(a), rank_data(b)
    ranks_a, ranks_b = ranks_a - ranks_a.mean(), ranks_b - ranks_b.mean()
    scale = float(host.sqrt((ranks_a ** 2).sum() * (ranks_b ** 2).sum()))
    return float((ranks_a * ranks_b).sum() / scale) if scale > 0 else 0.0


@dataclass
class RandomizationResult:
    """What :func:`randomization_test` found.

    Attributes
    ----------
    layers : list of str
        The layers re-initialised at each step, top (output) first. Cascading: step i has
        layers[0..i] randomised; independent: layers[i] alone.
    correlations : ndarray, shape (len(layers), N)
        Spearman rank correlation between each sample's original and randomised maps.
    threshold : float
        A method passes when the mean correlation is below it: at the last step (cascading),
        or averaged over the layers (independent).
    cascading : bool
    """

    layers: list[str]
    correlations: object
    threshold: float
    cascading: bool
    mean_correlations: object = field(init=False)
    passed: bool = field(init=False)
    verdict: str = field(init=False)

    def __post_init__(self):
        self.mean_correlations = self.correlations.mean(axis=1)
        means = self.mean_correlations
        final = float(means[-1] if self.cascading else means.mean())
        self.passed = final < self.threshold
        what = "with every layer randomised" if self.cascading else "averaged over the layers"
        if self.passed:
            self.verdict = (f"PASS: the maps {what} keep a rank correlation of {final:.2f} "
                            f"(< {self.threshold}) with the trained model's; they depend on the "
                            "weights")
        else:
            self.verdict = (f"FAIL: the maps {what} keep a rank correlation of {final:.2f} "
                            f"(>= {self.threshold}) with the trained model's; the method explains "
                            "the input more than the model")

    def __str__(self) -> str:
        mode = "cascading" if self.cascading else "independent"
        lines = [f"model randomisation test ({mode}; Spearman rank correlation with the "
                 "trained model's maps)"]
        width = max(len(name) for name in self.layers)
        for name, value in zip(self.layers, self.mean_correlations, strict=True):
            lines.append(f"  {name.ljust(width)}  {value:+.3f}")
        lines.append(self.verdict)
        return "\n".join(lines)


def _parametrised_layers(model) -> list[tuple[str, object]]:
    """(name, module) of every module with parameters of its own, in registration order."""
    return [(name or type(module).__name__, module) for name, module in model.named_modules()
            if any(p is not None for p in module._parameters.values())]


def _reinitialise(module, generator) -> None:
    """The layer's own initialisation scheme (``reset_parameters``), or, for a layer without
    one, normal values with each parameter's current standard deviation."""
    reset = getattr(module, "reset_parameters", None)
    if callable(reset):
        try:
            reset(generator=generator)
            return
        except TypeError:
            pass
    for param in module._parameters.values():
        if param is not None:
            scale = float(param.data.std()) or 1.0
            values = draw(generator, "normal", 0.0, scale, size=param.shape)
            param.data = xp.asarray(values, dtype=param.dtype)


def randomization_test(model, x, method="saliency", target=None, cascading: bool = True,
                       threshold: float = 0.5, absolute: bool = True, generator=None,
                       **method_options) -> RandomizationResult:
    """Re-initialise the model's layers from the top down and compare the attribution maps.

    Parameters
    ----------
    model, x
        As :func:`~chainrule.explain.saliency`.
    method : str or callable
        One of ``'saliency'``, ``'input_x_gradient'``, ``'integrated_gradients'``,
        ``'smoothgrad'``, ``'grad_cam'``, ``'occlusion'``, or a callable
        ``method(model, x, target=targets, **method_options)`` returning one map per sample.
    target : None, int or sequence of int
        Resolved once on the trained model (None: its predicted classes) and kept for the
        randomised ones, so the same output is explained throughout.
    cascading : bool
        True: randomise layer after layer from the output down, keeping the earlier ones
        randomised; False: randomise each layer alone.
    threshold : float
        The pass mark on the mean rank correlation (Adebayo et al. read correlations near 0
        as passing, near 1 as failing).
    absolute : bool
        Compare |map| (the sign of a gradient flips freely under random weights; absolute
        values make the test harder to pass).
    generator : numpy.random.Generator, int or None
        Randomness for the re-initialisation.
    **method_options
        Passed to the method.

    Returns
    -------
    RandomizationResult
        ``passed``, ``verdict`` and the correlations per layer and sample; ``print`` it for a table.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import randomization_test
    >>> model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    >>> x = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
    >>> result = randomization_test(model, x, lambda model, x, target: x, generator=0)
    >>> result.passed
    False
    """
    owner = "randomization_test"
    explain = resolve_method(owner, method)
    x = check_input(owner, x, model)
    layers = _parametrised_layers(model)
    if not layers:
        raise ValueError(f"{owner}: the model has no parameters to randomise")
    generator = get_generator(generator)
    with attribution_mode(model):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, len(x)))

    def maps():
        result = xp.asarray(explain(model, x, target=targets, **method_options)).reshape(len(x), -1)
        return xp.abs(result) if absolute else result

    saved = {key: xp.array(value, copy=True) for key, value in model.state_dict().items()}

    def restore():
        model.load_state_dict(saved)

    try:
        original = maps()
        rows = []
        for _name, module in reversed(layers):
            if not cascading:
                restore()
            _reinitialise(module, generator)
            randomised = maps()
            rows.append([spearman(a, b) for a, b in zip(original, randomised, strict=True)])
    finally:
        restore()
    names = [name for name, _ in reversed(layers)]
    return RandomizationResult(names, host.asarray(rows), float(threshold), bool(cascading))
