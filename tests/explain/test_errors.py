"""Bad input gets a clear error naming the argument, what was expected and what was received."""

import numpy as np
import pytest

from chainrule import explain, nn


def _mlp():
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 2 * 2, 3))


X = np.zeros((2, 4), dtype=np.float32)


@pytest.mark.parametrize("method", sorted(set(explain.METHODS) - {"grad_cam"}))
@pytest.mark.parametrize(
    "target,match",
    [
        (3, r"target 3 is outside .* 0\.\.2 \(3 outputs\)"),
        (-1, "target -1 is outside"),
        ([0, 5], "target 5 is outside"),
        ([0, 1, 2], r"one target per sample \(2\), received 3"),
        (1.5, "expected target to be None, an int"),
    ],
)
def test_target_outside_the_classes(method, target, match):
    error = TypeError if isinstance(target, float) else ValueError
    with pytest.raises(error, match=match):
        explain.METHODS[method](_mlp(), X, target=target)


def test_grad_cam_target_outside_the_classes():
    with pytest.raises(ValueError, match="target 7 is outside"):
        explain.grad_cam(_cnn(), np.zeros((1, 1, 4, 4), dtype=np.float32), target=7)


@pytest.mark.parametrize("baseline", [np.zeros(3), np.zeros((3, 4)), np.zeros((2, 4, 1))])
def test_baseline_of_the_wrong_shape(baseline):
    with pytest.raises(
        ValueError,
        match=r"expected baseline to be a number, one sample's shape \(4,\) "
        r"or the input's shape \(2, 4\), received shape",
    ):
        explain.integrated_gradients(_mlp(), X, baseline=baseline)
    with pytest.raises(ValueError, match="expected baseline"):
        explain.occlusion(_mlp(), X, baseline=baseline)


@pytest.mark.parametrize("method", sorted(explain.METHODS))
def test_integer_input(method):
    model = _cnn() if method == "grad_cam" else _mlp()
    x = np.zeros((1, 1, 4, 4) if method == "grad_cam" else (2, 4), dtype=np.int64)
    with pytest.raises(
        TypeError, match=r"expected a floating input .* received dtype int64; convert"
    ):
        explain.METHODS[method](model, x)


def test_missing_batch_axis():
    with pytest.raises(ValueError, match=r"batch of inputs shaped \(N, \.\.\.\)"):
        explain.saliency(_mlp(), np.float32(1.0))


def test_grad_cam_layer_that_does_not_exist_or_is_not_conv():
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    with pytest.raises(
        ValueError, match=r"no layer named 'conv9' in the model; its conv layers are \['0'\]"
    ):
        explain.grad_cam(_cnn(), x, layer="conv9")
    with pytest.raises(TypeError, match="layer '1' is a ReLU, expected a Conv1d or Conv2d layer"):
        explain.grad_cam(_cnn(), x, layer="1")
    with pytest.raises(ValueError, match="is not part of the model"):
        explain.grad_cam(_cnn(), x, layer=nn.Conv2d(1, 2, 3))
    with pytest.raises(ValueError, match="has no Conv1d or Conv2d layer"):
        explain.grad_cam(_mlp(), X)
    with pytest.raises(ValueError, match="expected interpolation"):
        explain.grad_cam(_cnn(), x, interpolation="cubic")


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: explain.integrated_gradients(_mlp(), X, method="simpson"),
            "expected method to be one of",
        ),
        (
            lambda: explain.integrated_gradients(_mlp(), X, steps=0),
            "expected steps to be an int >= 1",
        ),
        (
            lambda: explain.integrated_gradients(_mlp(), X, steps=1, method="riemann_trapezoid"),
            ">= 2",
        ),
        (
            lambda: explain.saliency(_mlp(), X, batch_size=0),
            "expected batch_size to be a positive int",
        ),
        (lambda: explain.smoothgrad(_mlp(), X, stdev=-1.0), "expected stdev >= 0"),
        (lambda: explain.smoothgrad(_mlp(), X, samples=0), "expected samples to be a positive int"),
        (lambda: explain.smoothgrad(_mlp(), X, variant="mean"), "expected variant to be one of"),
        (lambda: explain.smoothgrad(_mlp(), X, method="lime"), "expected method to be one of"),
        (lambda: explain.occlusion(_mlp(), X, window=5), r"window \(5,\) is larger than a sample"),
        (
            lambda: explain.occlusion(_mlp(), X, window=2, stride=3),
            "stride .* is larger than window",
        ),
        (
            lambda: explain.occlusion(_mlp(), X, window=(1, 1, 1)),
            "expected window to be a positive int",
        ),
        (
            lambda: explain.completeness_delta(_mlp(), X, np.zeros((2, 5))),
            "expected attributions shaped",
        ),
        (lambda: explain.randomization_test(_mlp(), X, "lime"), "expected method to be one of"),
        (lambda: explain.randomization_test(nn.ReLU(), X), "no parameters to randomise"),
    ],
)
def test_bad_options(call, match):
    with pytest.raises(ValueError, match=match):
        call()
