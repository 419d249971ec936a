"""Each method against a computation done another way: central differences, a plain NumPy
reference, or the definition written out; on MLPs, 1-D and 2-D CNNs and recurrent networks."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import explain, nn, presets
from chainrule.explain.cam import resize


def central_differences(model, x, targets, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape[1:]):
        step = np.zeros_like(x)
        step[(slice(None),) + index] = eps
        with cr.no_grad():
            up = model(cr.tensor(x + step, dtype=np.float64)).data
            down = model(cr.tensor(x - step, dtype=np.float64)).data
        rows = np.arange(len(x))
        grad[(slice(None),) + index] = (up[rows, targets] - down[rows, targets]) / (2 * eps)
    return grad


class Sequence(nn.Module):
    """A recurrent classifier over (N, T, F) sequences: the last hidden state → Linear."""

    def __init__(self, cell, generator):
        super().__init__()
        self.rnn = cell(3, 5, batch_first=True)
        self.head = nn.Linear(5, 4, generator=generator)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1, :])


def _models():
    g = np.random.default_rng(0)
    return {
        "mlp": (
            nn.Sequential(nn.Linear(6, 8, generator=g), nn.Tanh(), nn.Linear(8, 3, generator=g)),
            (6,),
        ),
        "cnn1d": (
            nn.Sequential(
                nn.Conv1d(2, 4, 3, padding=1, generator=g),
                nn.Tanh(),
                nn.Flatten(),
                nn.Linear(4 * 7, 3, generator=g),
            ),
            (2, 7),
        ),
        "cnn2d": (
            nn.Sequential(
                nn.Conv2d(1, 3, 3, generator=g),
                nn.Tanh(),
                nn.Flatten(),
                nn.Linear(3 * 3 * 3, 3, generator=g),
            ),
            (1, 5, 5),
        ),
        "lstm": (Sequence(nn.LSTM, g), (4, 3)),
        "gru": (Sequence(nn.GRU, g), (4, 3)),
    }


@pytest.mark.parametrize("name", ["mlp", "cnn1d", "cnn2d", "lstm", "gru"])
def test_gradient_methods_match_central_differences(name):
    model, shape = _models()[name]
    model = model.double()
    x = np.random.default_rng(5).normal(size=(3,) + shape)
    targets = np.array([0, 2, 1])
    numeric = central_differences(model, x, targets)
    np.testing.assert_allclose(
        explain.saliency(model, x, target=targets, abs=False), numeric, rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        explain.saliency(model, x, target=targets), np.abs(numeric), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        explain.input_x_gradient(model, x, target=targets), x * numeric, rtol=1e-6, atol=1e-8
    )
    attributions, delta = explain.integrated_gradients(
        model, x, target=targets, steps=64, return_delta=True
    )
    assert attributions.shape == x.shape and np.abs(delta).max() < 1e-6


def test_integrated_gradients_against_a_numpy_reference():
    """IG written out for a one-hidden-layer tanh network with NumPy: the gradient is
    W₂[c] · (1 − tanh²(W₁x + b₁)) · W₁, averaged with Gauss–Legendre weights along the path."""
    g = np.random.default_rng(7)
    model = nn.Sequential(
        nn.Linear(4, 6, generator=g), nn.Tanh(), nn.Linear(6, 2, generator=g)
    ).double()
    W1, b1, W2 = model[0].weight.data, model[0].bias.data, model[2].weight.data
    x, baseline = g.normal(size=(3, 4)), g.normal(size=(3, 4))
    nodes, weights = np.polynomial.legendre.leggauss(20)
    expected = np.zeros_like(x)
    for alpha, weight in zip((nodes + 1) / 2, weights / 2, strict=True):
        point = baseline + alpha * (x - baseline)
        expected += weight * ((1 - np.tanh(point @ W1.T + b1) ** 2) * W2[1]) @ W1
    expected *= x - baseline
    got = explain.integrated_gradients(model, x, target=1, baseline=baseline, steps=20)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_float32_models_give_float32_attributions_for_float64_data():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = np.random.default_rng(0).normal(size=(2, 3))  # float64, as NumPy makes it
    for method in (
        "saliency",
        "input_x_gradient",
        "integrated_gradients",
        "smoothgrad",
        "occlusion",
    ):
        assert explain.METHODS[method](model, x, target=0).dtype == np.float32, method


def test_the_model_is_left_as_it_was():
    """Attribution runs in eval mode without weight gradients, then restores both."""
    g = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Linear(4, 8, generator=g),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(8, 3, generator=g),
    )
    model[1].weight.requires_grad = False  # a frozen parameter stays frozen
    x = g.normal(size=(6, 4)).astype(np.float32)
    state = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    first = explain.saliency(model, x)
    np.testing.assert_array_equal(explain.saliency(model, x), first)  # dropout is off
    assert all(m.training for m in model.modules())
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, True, True, True]
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():  # running statistics untouched
        np.testing.assert_array_equal(v, state[k], err_msg=k)
    # and each sample's map depends on that sample alone (BatchNorm uses its running statistics)
    np.testing.assert_allclose(explain.saliency(model, x[:1]), first[:1], rtol=1e-6)


def test_target_none_is_the_predicted_class():
    model, _ = _models()["mlp"]
    x = np.random.default_rng(1).normal(size=(20, 6)).astype(np.float32)
    predicted = model(cr.tensor(x)).data.argmax(axis=1)
    np.testing.assert_array_equal(
        explain.saliency(model, x), explain.saliency(model, x, target=predicted)
    )
    assert len(set(predicted.tolist())) > 1


def test_single_output_model_needs_no_target():
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(explain.saliency(model, x), explain.saliency(model, x, target=0))


def test_smoothgrad_is_the_mean_over_the_same_noise():
    model, _ = _models()["mlp"]
    model = model.double()
    x = np.random.default_rng(2).normal(size=(3, 6))
    noise = np.random.default_rng(11).standard_normal((5,) + x.shape) * 0.2
    targets = explain.saliency(model, x, abs=False).argmax(axis=1) * 0 + 1
    draws = np.stack([explain.saliency(model, x + n, target=targets, abs=False) for n in noise])
    for variant, expected in [
        ("smoothgrad", draws.mean(0)),
        ("smoothgrad_sq", (draws**2).mean(0)),
        ("vargrad", draws.var(0)),
    ]:
        got = explain.smoothgrad(
            model,
            x,
            target=1,
            samples=5,
            stdev=0.2,
            generator=np.random.default_rng(11),
            variant=variant,
            abs=False,
        )
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    # several noisy copies per pass (batch_size) give the same numbers
    together = explain.smoothgrad(
        model, x, target=1, samples=5, stdev=0.2, generator=11, abs=False, batch_size=9
    )
    np.testing.assert_allclose(together, draws.mean(0), rtol=1e-10, atol=1e-12)


def test_smoothgrad_accepts_a_callable_method():
    model, _ = _models()["mlp"]
    x = np.random.default_rng(2).normal(size=(3, 6)).astype(np.float32)
    calls = []

    def method(model, x, target, batch_size):
        calls.append(len(x))
        return np.ones_like(x)

    np.testing.assert_array_equal(
        explain.smoothgrad(model, x, method=method, samples=4, generator=0), np.ones_like(x)
    )
    assert calls == [3, 3, 3, 3]


def test_occlusion_by_hand():
    """A linear model's occlusion with window 1 is w ⊙ (x − baseline); with window 2 and
    stride 1 over 4 values, the middle values are covered twice and get the mean drop."""
    model = nn.Linear(4, 1, bias=True).double()
    model.weight.data[:] = [[1.0, -2.0, 3.0, 0.5]]
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_allclose(
        explain.occlusion(model, x, window=1, baseline=0.5), model.weight.data * (x - 0.5)
    )
    drops = [1 * 1 - 2 * 2, -2 * 2 + 3 * 3, 3 * 3 + 0.5 * 4]  # windows [0,1], [1,2], [2,3]
    expected = [drops[0], (drops[0] + drops[1]) / 2, (drops[1] + drops[2]) / 2, drops[2]]
    np.testing.assert_allclose(explain.occlusion(model, x, window=2, stride=1), [expected])
    # stride 2 with a window of 3 over 4 values: windows [0, 3) and [2, 4) (clipped at the edge)
    drop_a, drop_b = 1 - 4 + 9, 9 + 2
    np.testing.assert_allclose(
        explain.occlusion(model, x, window=3, stride=2),
        [[drop_a, drop_a, (drop_a + drop_b) / 2, drop_b]],
    )


def test_occlusion_of_images_covers_all_channels():
    g = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, generator=g),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 2, generator=g),
    ).double()
    x = g.normal(size=(2, 2, 4, 4))
    got = explain.occlusion(model, x, target=1, window=2, stride=2)
    with cr.no_grad():
        reference = model(cr.tensor(x, dtype=np.float64)).data[:, 1]
        hidden = x.copy()
        hidden[:, :, 2:4, 0:2] = 0
        drop = reference - model(cr.tensor(hidden, dtype=np.float64)).data[:, 1]
    np.testing.assert_allclose(
        got[:, :, 2:4, 0:2], np.broadcast_to(drop[:, None, None, None], (2, 2, 2, 2))
    )
    # one window position per pass or all of them together: the same
    np.testing.assert_allclose(
        explain.occlusion(model, x, target=1, window=2, stride=2, batch_size=100), got
    )


def test_grad_cam_of_a_1d_cnn_and_its_default_layer():
    g = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv1d(1, 4, 3, padding=1, generator=g),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(4, 4, 3, padding=1, generator=g),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 10, 3, generator=g),
    ).double()
    x = g.normal(size=(2, 1, 20))
    cam = explain.grad_cam(model, x, target=2)
    assert cam.shape == (2, 20) and (cam >= 0).all()
    assert explain.conv_layers(model) == ["0", "3"]
    np.testing.assert_array_equal(cam, explain.grad_cam(model, x, target=2, layer="3"))
    at_layer = explain.grad_cam(model, x, target=2, layer="3", interpolation=None)
    np.testing.assert_allclose(cam, resize(at_layer, (20,)))
    assert at_layer.shape == (2, 10)


def test_grad_cam_on_the_cnn_preset_with_flat_rows():
    model = presets.build_preset("cnn", [64], 10, image_shape=(1, 8, 8))
    x = np.random.default_rng(0).random((3, 64)).astype(np.float32)
    assert explain.grad_cam(model, x).shape == (3, 8, 8)  # resized to the preset's image shape
    # its block is conv → BatchNorm → ReLU: the feature maps are the ReLU's output
    name, conv = explain.cam.find_conv_layer(model)
    assert name == "net.0" and explain.cam.feature_maps_module(model, name, conv) is model.net[2]
    assert not np.allclose(explain.grad_cam(model, x, rectified=False), explain.grad_cam(model, x))


def test_a_shared_activation_is_not_taken_for_the_feature_maps():
    relu = nn.ReLU()
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3), relu, nn.Conv2d(2, 2, 3), relu, nn.Flatten(), nn.Linear(2, 2)
    )
    assert explain.cam.feature_maps_module(model, "0", model[0]) is model[0]
    assert explain.grad_cam(model, np.ones((1, 1, 5, 5), dtype=np.float32), layer="2").shape == (
        1,
        5,
        5,
    )


def test_resize_matches_linear_interpolation():
    maps = np.random.default_rng(0).normal(size=(2, 3, 5))
    out = resize(maps, (7, 9))
    assert out.shape == (2, 7, 9)
    np.testing.assert_allclose(resize(maps, (3, 5)), maps, atol=1e-12)  # same size: unchanged
    # along one axis, align_corners=False sampling is np.interp at (i + 0.5)·in/out − 0.5
    positions = np.clip((np.arange(9) + 0.5) * 5 / 9 - 0.5, 0, 4)
    np.testing.assert_allclose(
        resize(maps, (3, 9))[1, 2], np.interp(positions, np.arange(5), maps[1, 2])
    )


def test_standardized_input_takes_gradients_in_raw_units():
    """d f((x − m)/s)/dx = f'((x − m)/s) / s, and IG from the raw baseline m is the inner
    model's IG from 0 (the straight path maps onto the straight path)."""
    model, _ = _models()["mlp"]
    model = model.double()
    g = np.random.default_rng(3)
    mean, scale = g.normal(size=6), g.uniform(0.5, 3, size=6)
    wrapped = explain.StandardizedInput(model, mean, scale)
    raw = g.normal(size=(4, 6))
    inner = (raw - mean) / scale
    np.testing.assert_allclose(
        explain.saliency(wrapped, raw, target=1, abs=False),
        explain.saliency(model, inner, target=1, abs=False) / scale,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        explain.integrated_gradients(wrapped, raw, target=2, baseline=mean),
        explain.integrated_gradients(model, inner, target=2),
        rtol=1e-10,
        atol=1e-12,
    )


def test_attribute_calls_methods_by_name_and_alias():
    model, _ = _models()["mlp"]
    x = np.random.default_rng(4).normal(size=(3, 6)).astype(np.float32)
    np.testing.assert_array_equal(
        explain.attribute(model, x, "ig", target=1, steps=8),
        explain.integrated_gradients(model, x, target=1, steps=8),
    )
    np.testing.assert_array_equal(
        explain.attribute(model, x, "saliency"), explain.saliency(model, x)
    )
    with pytest.raises(ValueError, match="expected method to be one of"):
        explain.attribute(model, x, "lime")


def test_two_class_logits_explain_class_zero_by_its_log_odds():
    g = np.random.default_rng(5)
    inner = nn.Sequential(nn.Linear(3, 4, generator=g), nn.Tanh(), nn.Linear(4, 1, generator=g))
    inner = inner.double()
    model = explain.TwoClassLogits(inner)
    x = g.normal(size=(4, 3))
    ig_one = explain.integrated_gradients(model, x, target=1)
    np.testing.assert_allclose(ig_one, explain.integrated_gradients(inner, x, target=0), rtol=1e-12)
    np.testing.assert_allclose(
        explain.integrated_gradients(model, x, target=0), -ig_one, rtol=1e-12
    )
