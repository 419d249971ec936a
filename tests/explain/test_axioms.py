"""The axioms of attribution, checked on worked examples with known numbers.

Integrated gradients (Sundararajan et al. 2017): completeness, sensitivity, implementation
invariance, linearity; batching changes nothing; SmoothGrad with no noise is its base method;
Grad-CAM on an example worked out by hand.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import explain, nn
from chainrule.explain.gradients import path_rule


class PaperExample(nn.Module):
    """f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂)), the IG paper's example (section 2)."""

    def forward(self, x):
        return (x[:, 0:1].relu() - 1 - x[:, 1:2].relu()).relu()


class Sensitivity(nn.Module):
    """f(x) = 1 − ReLU(1 − x): flat (gradient 0) at x = 2, yet f(2) − f(0) = 1."""

    def forward(self, x):
        return 1 - (1 - x).relu()


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_middle"])
def test_paper_example_attributions(method):
    x = np.array([[3.0, 1.0]])
    attributions, delta = explain.integrated_gradients(
        PaperExample(), x, steps=50, method=method, return_delta=True
    )
    np.testing.assert_allclose(attributions, [[1.5, -0.5]], atol=1e-3)
    np.testing.assert_allclose(delta, [0.0], atol=1e-3)  # f(3, 1) − f(0, 0) = 1 = 1.5 − 0.5


def test_sensitivity_example_gets_credit_where_the_gradient_is_zero():
    x = np.array([[2.0]])
    np.testing.assert_array_equal(explain.saliency(Sensitivity(), x), [[0.0]])
    np.testing.assert_allclose(explain.integrated_gradients(Sensitivity(), x), [[1.0]], atol=1e-3)


def test_completeness_on_a_trained_tanh_mlp(trained_tanh_mlp):
    model, X, _ = trained_tanh_mlp
    for target in (None, 0, 2):
        attributions, delta = explain.integrated_gradients(
            model, X[:40], target=target, steps=300, return_delta=True
        )
        assert np.abs(delta).max() < 1e-3
        np.testing.assert_allclose(
            explain.completeness_delta(model, X[:40], attributions, target=target),
            delta,
            atol=1e-12,
        )
    # and the gain is not trivial: attributions add up to f(x) − f(0), which varies
    outputs = model(cr.tensor(X[:40], dtype=np.float64)).data
    gains = (
        outputs.max(axis=1)
        - model(cr.tensor(np.zeros((1, 8)), dtype=np.float64)).data[0, outputs.argmax(axis=1)]
    )
    assert gains.std() > 0.5


def test_completeness_delta_shrinks_with_steps(trained_tanh_mlp):
    model, X, _ = trained_tanh_mlp
    deltas = [
        np.abs(
            explain.integrated_gradients(
                model, X[:20], steps=s, method="riemann_left", return_delta=True
            )[1]
        ).max()
        for s in (5, 50, 500)
    ]
    assert deltas[0] > deltas[1] > deltas[2]
    assert deltas[2] < 0.05 * deltas[0]


def test_implementation_invariance():
    """Two networks computing the same function (hidden units permuted and rescaled, which a
    ReLU's positive homogeneity absorbs) get the same attributions."""
    g = np.random.default_rng(0)
    first = nn.Sequential(
        nn.Linear(4, 6, generator=g), nn.ReLU(), nn.Linear(6, 3, generator=g)
    ).double()
    second = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).double()
    order, scale = g.permutation(6), g.uniform(0.5, 3.0, size=6)
    second[0].weight.data[:] = first[0].weight.data[order] * scale[:, None]
    second[0].bias.data[:] = first[0].bias.data[order] * scale
    second[2].weight.data[:] = first[2].weight.data[:, order] / scale
    second[2].bias.data[:] = first[2].bias.data
    x = g.normal(size=(10, 4))
    np.testing.assert_allclose(
        second(cr.tensor(x, dtype=np.float64)).data,
        first(cr.tensor(x, dtype=np.float64)).data,
        atol=1e-12,
    )
    for target in (0, 1, 2):
        np.testing.assert_allclose(
            explain.integrated_gradients(second, x, target=target),
            explain.integrated_gradients(first, x, target=target),
            atol=1e-10,
        )


@pytest.mark.parametrize("method", explain.PATH_METHODS)
def test_linear_model_gets_weight_times_difference(method):
    g = np.random.default_rng(3)
    model = nn.Linear(5, 3, generator=g).double()
    x, baseline = g.normal(size=(4, 5)), g.normal(size=(5,))
    for target in range(3):
        expected = model.weight.data[target] * (x - baseline)
        attributions = explain.integrated_gradients(
            model, x, target=target, baseline=baseline, steps=7, method=method
        )
        np.testing.assert_allclose(attributions, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method,steps", [(m, s) for m in explain.PATH_METHODS for s in (2, 3, 8)])
def test_path_rules_integrate_what_they_should(method, steps):
    alphas, weights = path_rule(method, steps)
    assert alphas.shape == weights.shape == (steps,)
    assert np.all((alphas >= 0) & (alphas <= 1))
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-14)
    if method == "gausslegendre":  # exact up to degree 2·steps − 1
        degree = 2 * steps - 1
        np.testing.assert_allclose((weights * alphas**degree).sum(), 1 / (degree + 1), rtol=1e-12)
    elif method in ("riemann_middle", "riemann_trapezoid"):  # exact for linear functions
        np.testing.assert_allclose((weights * alphas).sum(), 0.5, rtol=1e-12)
    elif method == "riemann_left":  # ∫α = 1/2 minus half a cell
        np.testing.assert_allclose((weights * alphas).sum(), 0.5 - 0.5 / steps, rtol=1e-12)
    else:
        np.testing.assert_allclose((weights * alphas).sum(), 0.5 + 0.5 / steps, rtol=1e-12)


def _cnn(seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, generator=g),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 3 * 3, 4, generator=g),
    ).double()


@pytest.mark.parametrize(
    "name,call",
    [
        ("saliency", lambda m, x, **k: explain.saliency(m, x, target=1, **k)),
        ("input_x_gradient", lambda m, x, **k: explain.input_x_gradient(m, x, target=2, **k)),
        (
            "integrated_gradients",
            lambda m, x, **k: explain.integrated_gradients(m, x, target=0, steps=9, **k),
        ),
        (
            "integrated_gradients_baseline",
            lambda m, x, **k: explain.integrated_gradients(
                m,
                x,
                target=3,
                baseline=np.full((1, 6, 6), 0.3),
                steps=4,
                method="riemann_trapezoid",
                **k,
            ),
        ),
        ("grad_cam", lambda m, x, **k: explain.grad_cam(m, x, target=1, **k)),
        ("occlusion", lambda m, x, **k: explain.occlusion(m, x, target=2, window=2, stride=2, **k)),
    ],
)
def test_batched_equals_one_by_one(name, call):
    model = _cnn()
    x = np.random.default_rng(1).normal(size=(5, 1, 6, 6))
    batched = call(model, x)
    for chunk in (2, 3, 64):
        np.testing.assert_allclose(
            call(model, x, batch_size=chunk), batched, rtol=1e-12, atol=1e-12
        )
    one_by_one = np.concatenate([call(model, x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12, atol=1e-12)
    assert np.abs(batched).max() > 0


def test_per_sample_targets_equal_separate_calls():
    model = _cnn()
    x = np.random.default_rng(2).normal(size=(4, 1, 6, 6))
    targets = [3, 0, 1, 1]
    together = explain.integrated_gradients(model, x, target=targets, steps=5)
    for i, t in enumerate(targets):
        np.testing.assert_allclose(
            together[i],
            explain.integrated_gradients(model, x[i : i + 1], target=t, steps=5)[0],
            rtol=1e-12,
            atol=1e-12,
        )


@pytest.mark.parametrize(
    "method,options",
    [
        ("saliency", {}),
        ("saliency", {"abs": False}),
        ("input_x_gradient", {}),
        ("integrated_gradients", {"steps": 6}),
    ],
)
@pytest.mark.parametrize("variant", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_smoothgrad_without_noise_is_the_base_method_exactly(
    trained_tanh_mlp, method, options, variant
):
    model, X, _ = trained_tanh_mlp
    base = explain.METHODS[method](model, X[:6], target=None, **options)
    smooth = explain.smoothgrad(
        model, X[:6], method=method, samples=7, stdev=0.0, variant=variant, **options
    )
    expected = {"smoothgrad": base, "smoothgrad_sq": base * base, "vargrad": np.zeros_like(base)}[
        variant
    ]
    np.testing.assert_array_equal(smooth, expected)


def test_grad_cam_by_hand():
    """x = arange(16) as a 4×4 image through Conv2d(1, 2, 2) with the kernels
    [[1, 1], [1, 1]] and [[1, 0], [0, −1]]: A₀[i, j] = 16i + 4j + 10 and A₁ = −5 everywhere.
    The linear head gives class 0 the weights arange(9)/4 on A₀ (mean α₀ = 1) and 2 on A₁
    (α₁ = 2), so the map is ReLU(A₀ − 10) = 16i + 4j; class 1 weighs A₀ by −1 and A₁ by 0,
    so its map −A₀ is negative everywhere and ReLU leaves 0."""
    conv = nn.Conv2d(1, 2, 2, bias=False).double()
    conv.weight.data[:] = [[[[1, 1], [1, 1]]], [[[1, 0], [0, -1]]]]
    head = nn.Linear(18, 2, bias=False).double()
    head.weight.data[0] = np.concatenate([np.arange(9) / 4, np.full(9, 2.0)])
    head.weight.data[1] = np.concatenate([np.full(9, -1.0), np.zeros(9)])
    model = nn.Sequential(conv, nn.Flatten(), head)
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)

    at_layer = explain.grad_cam(model, x, target=0, layer="0", interpolation=None)
    np.testing.assert_allclose(at_layer, [[[0, 4, 8], [16, 20, 24], [32, 36, 40]]], atol=1e-12)
    # bilinear to 4×4 (align_corners=False) samples rows and columns at 0, 0.625, 1.375 and 2
    # (the last clamped); the map is affine, so the samples are 16·r + 4·c exactly
    upsampled = explain.grad_cam(model, x, target=0, layer="0")
    np.testing.assert_allclose(
        upsampled,
        [[[0, 2.5, 5.5, 8], [10, 12.5, 15.5, 18], [22, 24.5, 27.5, 30], [32, 34.5, 37.5, 40]]],
        atol=1e-12,
    )
    np.testing.assert_array_equal(
        explain.grad_cam(model, x, target=1, layer=conv), np.zeros((1, 4, 4))
    )
    signed = explain.grad_cam(model, x, target=1, layer=conv, relu=False, interpolation=None)
    np.testing.assert_allclose(
        signed, -(16 * np.arange(3)[:, None] + 4 * np.arange(3) + 10)[None], atol=1e-12
    )
    nearest = explain.grad_cam(model, x, target=0, interpolation="nearest")  # rows/cols 0, 0, 1, 2
    np.testing.assert_allclose(
        nearest[0], at_layer[0][np.ix_([0, 0, 1, 2], [0, 0, 1, 2])], atol=1e-12
    )
