"""Optional cross-checks against Captum on a PyTorch model holding the same weights
(skipped where torch or captum is missing)."""

import numpy as np
import pytest

from chainrule import explain, nn

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")
pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")


def twins(kind):
    """The same network in chainrule and in PyTorch (float64, PyTorch's parameter names)."""
    g = np.random.default_rng(0)
    if kind == "mlp":
        ours = nn.Sequential(nn.Linear(5, 7, generator=g), nn.Tanh(), nn.Linear(7, 3, generator=g))
        theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
        shape = (5,)
    else:
        ours = nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1, generator=g),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(3, 4, 3, padding=1, generator=g),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 3 * 3, 3, generator=g),
        )
        theirs = torch.nn.Sequential(
            torch.nn.Conv2d(1, 3, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(3, 4, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(4 * 3 * 3, 3),
        )
        shape = (1, 6, 6)
    ours = ours.double().eval()
    theirs = theirs.double().eval()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(4,) + shape)
    return ours, theirs, x


TARGETS = [2, 0, 1, 1]


def close(ours, theirs, **tolerance):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, **({"rtol": 1e-10, "atol": 1e-12} | tolerance))


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_gradient_methods_match_captum(kind):
    ours, theirs, x = twins(kind)
    inputs = torch.tensor(x)
    for absolute in (True, False):
        close(
            explain.saliency(ours, x, target=TARGETS, abs=absolute),
            captum_attr.Saliency(theirs).attribute(inputs, target=TARGETS, abs=absolute),
        )
    close(
        explain.input_x_gradient(ours, x, target=TARGETS),
        captum_attr.InputXGradient(theirs).attribute(inputs, target=TARGETS),
    )


@pytest.mark.parametrize("method", explain.PATH_METHODS)
def test_integrated_gradients_match_captum(method):
    ours, theirs, x = twins("cnn")
    baseline = np.random.default_rng(2).normal(size=x.shape[1:])
    attributions, delta = explain.integrated_gradients(
        ours,
        x,
        target=TARGETS,
        baseline=baseline,
        steps=16,
        method=method,
        return_delta=True,
        batch_size=10,
    )
    expected, expected_delta = captum_attr.IntegratedGradients(theirs).attribute(
        torch.tensor(x),
        baselines=torch.tensor(baseline[None]),
        target=TARGETS,
        n_steps=16,
        method=method,
        return_convergence_delta=True,
        internal_batch_size=10,
    )
    if method == "riemann_trapezoid":
        # Captum's trapezoid weights are 1/n with halves at the ends: they sum to (n − 1)/n, so
        # its attributions are (n − 1)/n of the trapezoid rule's and miss completeness by that
        # much; ours use 1/(n − 1), the trapezoid rule on n points from 0 to 1
        expected = expected * 16 / 15
        assert np.abs(delta).max() < np.abs(expected_delta.numpy()).max()
    else:
        close(delta, expected_delta, rtol=1e-6, atol=1e-9)
    # Captum casts the quadrature weights (and its linspace alphas) to float32, so agreement is
    # to float32's precision where the rule's numbers are not exact binary fractions
    close(attributions, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layer", [0, 3])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("rectified", [True, False])
def test_grad_cam_matches_captum(layer, relu, rectified):
    """rectified=False is Captum's LayerGradCam on the conv layer; rectified=True on the ReLU
    that follows it (the feature maps the rest of the network sees)."""
    ours, theirs, x = twins("cnn")
    inputs = torch.tensor(x)
    captured = theirs[layer + 1] if rectified else theirs[layer]
    cam = captum_attr.LayerGradCam(theirs, captured).attribute(
        inputs, target=TARGETS, relu_attributions=relu
    )
    options = {"target": TARGETS, "layer": str(layer), "relu": relu, "rectified": rectified}
    close(explain.grad_cam(ours, x, interpolation=None, **options), cam[:, 0])
    for mode in ("bilinear", "nearest"):
        resized = captum_attr.LayerAttribution.interpolate(cam, (6, 6), mode)
        close(explain.grad_cam(ours, x, interpolation=mode, **options), resized[:, 0])


@pytest.mark.parametrize(
    "window,stride", [((1, 2, 2), (1, 2, 2)), ((1, 3, 3), (1, 2, 2)), ((1, 3, 2), (1, 1, 2))]
)
def test_occlusion_matches_captum(window, stride):
    ours, theirs, x = twins("cnn")
    got = explain.occlusion(ours, x, target=TARGETS, window=window, stride=stride, baseline=0.25)
    expected = captum_attr.Occlusion(theirs).attribute(
        torch.tensor(x),
        sliding_window_shapes=window,
        strides=stride,
        baselines=0.25,
        target=TARGETS,
    )
    close(got, expected, rtol=1e-6, atol=1e-9)  # Captum divides by the counts in float32
