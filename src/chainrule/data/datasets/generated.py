"""Datasets generated from a seed: mnist1d, xor, spirals, sine.

Everything here is deterministic given the seed and needs only NumPy.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ...backend import xp
from ._bundle import finalize, train_test_indices

__all__ = ["load_mnist1d", "load_sine", "load_spirals", "load_xor", "make_mnist1d"]

# ----------------------------------------------------------------- MNIST-1D
# The ten 1-D digit templates of MNIST-1D (Greydanus, "Scaling down deep
# learning", 2020): 12 points each, loosely tracing the strokes of a digit.
_MNIST1D_TEMPLATES = (
    (5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5),
    (5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5),
    (5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5),
    (5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5),
    (5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5),
    (5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5),
    (5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5),
    (5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5),
    (5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5),
    (5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5),
)


def mnist1d_templates():
    """The ten templates, each whitened, shifted to start (and end) at 0, and divided by 6.

    Returns
    -------
    ndarray, shape (10, 12), float64
    """
    t = xp.asarray(_MNIST1D_TEMPLATES, dtype=xp.float64)
    t = (t - t.mean(axis=1, keepdims=True)) / t.std(axis=1, keepdims=True)
    t = t - t[:, :1]
    return t / 6.0


def _gaussian_smooth(x, sigma: float):
    """Gaussian filter along the last axis (half-sample symmetric borders, kernel radius 4σ)."""
    radius = int(4.0 * sigma + 0.5)
    offsets = xp.arange(-radius, radius + 1)
    kernel = xp.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = xp.pad(x, [(0, 0)] * (x.ndim - 1) + [(radius, radius)], mode="symmetric")
    length = x.shape[-1]
    out = xp.zeros_like(x)
    for k, weight in enumerate(kernel):
        out += weight * padded[..., k : k + length]
    return out


def _resample_linear(x, lengths, new_length: int):
    """Stretch each row's first ``lengths[i]`` values onto ``new_length`` evenly spaced points."""
    rows = xp.arange(len(x))[:, None]
    positions = xp.linspace(0.0, 1.0, new_length)[None, :] * (lengths[:, None] - 1)
    left = xp.floor(positions).astype(xp.int64)
    right = xp.minimum(left + 1, lengths[:, None] - 1)
    frac = positions - left
    return (1.0 - frac) * x[rows, left] + frac * x[rows, right]


def make_mnist1d(
    num_samples: int = 5000,
    seed: int = 0,
    template_len: int = 12,
    padding: tuple = (36, 60),
    scale_coeff: float = 0.4,
    max_translation: int = 48,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 2e-2,
    shear_scale: float = 0.75,
    final_seq_length: int = 40,
):
    """Generate MNIST-1D signals and labels (the recipe of Greydanus 2020, re-implemented).

    Each sample starts from its class template (12 points) and goes through:

    1. padding with ``p ~ U{36..60}`` zeros on the right, then linear
       resampling of the ``12 + p`` points onto 72 points (so the digit is
       stretched by ``72 / (12 + p)``);
    2. scaling of the amplitude by ``1 + scale_coeff * (u - 1/2)``, ``u ~ U(0, 1)``;
    3. a circular translation by ``k ~ U{0..47}``;
    4. correlated noise (white noise of std ``corr_noise_scale`` smoothed by a
       Gaussian filter of σ = 2) written into the background (the zero padding);
    5. white noise of std ``iid_noise_scale`` everywhere;
    6. a shear: subtracting ``c * linspace(-1/2, 1/2, 72)``, ``c = shear_scale * (u - 1/2)``;
    7. linear resampling to ``final_seq_length`` (40) points.

    Classes are balanced (``num_samples // 10`` each); the samples are shuffled
    and the whole set is standardised to mean 0 and standard deviation 1.

    Returns
    -------
    X : ndarray, float32, shape (num_samples, final_seq_length)
    y : ndarray, int64, shape (num_samples,)
    """
    rng = xp.random.default_rng(seed)
    templates = mnist1d_templates()
    low, high = padding
    labels = xp.repeat(xp.arange(len(templates)), num_samples // len(templates))
    n = len(labels)
    width = template_len + high  # every padded signal is resampled to this length

    # 1. pad with a random number of zeros, then dilate to `width` points.
    signals = xp.zeros((n, width))
    signals[:, :template_len] = templates[labels] + 1e-8  # +eps: the digit is never exactly 0
    lengths = template_len + rng.integers(low, high + 1, size=n)
    x = _resample_linear(signals, lengths, width)
    # 2. random amplitude.
    x *= 1.0 + scale_coeff * (rng.random((n, 1)) - 0.5)
    # 3. circular translation.
    shift = rng.integers(0, max_translation, size=n)
    x = x[xp.arange(n)[:, None], (xp.arange(width)[None, :] - shift[:, None]) % width]
    # 4. correlated noise in the background, 5. white noise everywhere.
    background = _gaussian_smooth(corr_noise_scale * rng.standard_normal((n, width)), sigma=2.0)
    x = xp.where(x != 0, x, background)
    x += iid_noise_scale * rng.standard_normal((n, width))
    # 6. shear (a random linear slope).
    x -= shear_scale * (rng.random((n, 1)) - 0.5) * xp.linspace(-0.5, 0.5, width)
    # 7. subsample to the final length.
    x = _resample_linear(x, xp.full(n, width), final_seq_length)

    order = rng.permutation(n)
    x, labels = x[order], labels[order]
    x = (x - x.mean()) / x.std()
    return x.astype(xp.float32), labels.astype(xp.int64)


@lru_cache(maxsize=8)
def _cached_mnist1d(num_samples: int, seed: int):
    X, y = make_mnist1d(num_samples=num_samples, seed=seed)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_mnist1d(*, seed=0, test_size=0.2, standardize=False, num_samples: int = 5000):
    """MNIST-1D: 10 classes of 40-point signals; 4000 train / 1000 test by default.

    The split follows the original: the first ``1 - test_size`` of the shuffled
    samples train, the rest test. Generated arrays are cached in memory.
    """
    if not isinstance(num_samples, int) or num_samples < 20:
        raise ValueError(f"mnist1d: num_samples must be an int >= 20, received {num_samples!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), received {test_size!r}")
    if isinstance(seed, int):
        X, y = _cached_mnist1d(num_samples, seed)
    else:
        X, y = make_mnist1d(num_samples=num_samples, seed=seed)
    split = int(len(y) * (1 - test_size))
    return finalize(
        "mnist1d",
        X[:split].copy(),
        y[:split].copy(),
        X[split:].copy(),
        y[split:].copy(),
        task="classification",
        num_classes=10,
        image_shape=(1, X.shape[1]),
        class_names=[str(d) for d in range(10)],
        feature_names=[f"t{i}" for i in range(X.shape[1])],
        description="MNIST-1D: 10 digit templates as 1-D signals of length 40, randomly padded, "
        "scaled, translated, sheared and noised (generated from the seed)",
        source="Greydanus (2020), 'Scaling down deep learning', arXiv:2011.14439; "
        "re-implemented recipe, generated offline",
        standardize=standardize,
    )


# ----------------------------------------------------------- small 2-D toys
def _split_and_finalize(name, X, y, *, seed, test_size, task, standardize, **meta):
    train, test = train_test_indices(
        len(X), test_size, seed, labels=y if task == "classification" else None
    )
    return finalize(
        name,
        X[train],
        y[train],
        X[test],
        y[test],
        task=task,
        standardize=standardize,
        source="generated from the seed by chainrule",
        **meta,
    )


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, received {value!r}")
    return value


def load_xor(
    *, seed=0, test_size=0.2, standardize=False, n_samples: int = 400, noise: float = 0.25
):
    """XOR: Gaussian blobs (std ``noise``) around the four corners (±1, ±1); label 1 when the
    two signs differ. Not linearly separable: a network needs a hidden layer."""
    _check_positive_int(n_samples, "xor: n_samples", 8)
    rng = xp.random.default_rng(seed)
    corners = rng.integers(0, 4, size=n_samples)
    signs = xp.stack([corners // 2, corners % 2], axis=1) * 2.0 - 1.0
    X = signs + noise * rng.standard_normal((n_samples, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(xp.int64)
    return _split_and_finalize(
        "xor",
        X,
        y,
        seed=seed,
        test_size=test_size,
        task="classification",
        standardize=standardize,
        num_classes=2,
        feature_names=["x1", "x2"],
        class_names=["same sign", "different sign"],
        description="XOR: 2-D points around (±1, ±1), class = whether the signs differ",
    )


def load_spirals(
    *,
    seed=0,
    test_size=0.2,
    standardize=False,
    n_samples: int = 600,
    num_classes: int = 3,
    noise: float = 0.2,
):
    """Interleaved spirals: ``num_classes`` arms (2 for the classic two-spiral problem, 3 by
    default), ``n_samples`` points in total, angular noise of std ``noise`` radians."""
    _check_positive_int(n_samples, "spirals: n_samples", 8)
    _check_positive_int(num_classes, "spirals: num_classes", 2)
    rng = xp.random.default_rng(seed)
    y = xp.arange(n_samples) % num_classes
    radius = rng.uniform(0.05, 1.0, size=n_samples)
    angle = 2 * math.pi * y / num_classes + 4.0 * radius + noise * rng.standard_normal(n_samples)
    X = radius[:, None] * xp.stack([xp.cos(angle), xp.sin(angle)], axis=1)
    return _split_and_finalize(
        "spirals",
        X,
        y.astype(xp.int64),
        seed=seed,
        test_size=test_size,
        task="classification",
        standardize=standardize,
        num_classes=num_classes,
        feature_names=["x1", "x2"],
        class_names=[f"arm {k}" for k in range(num_classes)],
        description=f"Spirals: {num_classes} interleaved 2-D spiral arms",
    )


def load_sine(
    *, seed=0, test_size=0.2, standardize=False, n_samples: int = 500, noise: float = 0.1
):
    """Sine regression: ``x ~ U(-π, π)``, ``y = sin(x) + noise · ε``; X (N, 1), y (N, 1)."""
    _check_positive_int(n_samples, "sine: n_samples", 4)
    rng = xp.random.default_rng(seed)
    X = rng.uniform(-math.pi, math.pi, size=(n_samples, 1))
    y = xp.sin(X) + noise * rng.standard_normal((n_samples, 1))
    return _split_and_finalize(
        "sine",
        X,
        y,
        seed=seed,
        test_size=test_size,
        task="regression",
        standardize=standardize,
        feature_names=["x"],
        description="Sine: y = sin(x) + Gaussian noise for x in [-π, π] (1-D regression)",
    )
