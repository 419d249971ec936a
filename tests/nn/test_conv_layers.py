"""Conv1d, Conv2d and the pooling layers.

Shapes, init, config, gradchecks, errors, optional torch.
"""

import json
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import make_inputs


def test_conv2d_parameters_layout_and_default_init():
    conv = nn.Conv2d(4, 6, (3, 2), groups=2, generator=np.random.default_rng(0))
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert conv.weight.dtype == np.float32
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3 * 2)  # fan_in = in/groups · kh · kw
    for p in (conv.weight.data, conv.bias.data):
        assert np.abs(p).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.5 * bound  # really spread over the interval


def test_conv_init_is_reproducible_with_a_generator():
    a = nn.Conv1d(3, 5, 4, generator=np.random.default_rng(7))
    b = nn.Conv1d(3, 5, 4, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    a.reset_parameters(generator=np.random.default_rng(8))
    assert not np.array_equal(a.weight.data, b.weight.data)


@pytest.mark.parametrize("layer, shape", [
    (nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False), (2, 2, 5, 5)),
    (nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=4), (2, 4, 5, 5)),
    (nn.Conv1d(2, 4, 3, padding=1, groups=2), (2, 2, 6)),
])
def test_conv_layer_gradcheck(layer, shape):
    layer.double()
    (x,) = make_inputs(shape)
    params = list(layer.parameters())
    assert gradcheck(lambda x_, *ps: layer(x_), [x, *params])


def test_conv2d_layer_matches_functional():
    conv = nn.Conv2d(3, 2, 3, padding=1, generator=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        conv(x).data, F.conv2d(cr.tensor(x), conv.weight, conv.bias, padding=1).data
    )


def test_conv2d_layer_error_messages():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError) as info:
        conv(np.zeros((2, 4, 8, 8)))
    assert str(info.value) == (
        "Conv2d(3, 8, kernel_size=(3, 3)): expected input of shape (N, 3, H, W), "
        "received (2, 4, 8, 8)"
    )
    with pytest.raises(
        ValueError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\)\).*received \(2, 3, 2, 2\)"
    ):
        conv(np.zeros((2, 3, 2, 2)))
    with pytest.raises(
        ValueError, match=r"Conv1d\(2, 4, kernel_size=\(5,\)\): expected input of shape \(N, 2, L\)"
    ):
        nn.Conv1d(2, 4, 5)(np.zeros((1, 2, 3, 3)))


def test_conv_constructor_validation():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(TypeError, match="in_channels"):
        nn.Conv2d(3.0, 6, 3)
    with pytest.raises(ValueError, match="kernel_size ≥ 1"):
        nn.Conv2d(3, 6, 0)
    with pytest.raises(ValueError, match="padding='same' requires stride 1"):
        nn.Conv1d(3, 6, 3, stride=2, padding="same")


@pytest.mark.parametrize("layer", [
    nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=1, groups=1, bias=False),
    nn.Conv1d(4, 8, 3, padding="same", dilation=2, groups=4),
    nn.MaxPool2d(3, stride=2, padding=1),
    nn.MaxPool1d(2),
    nn.AvgPool2d((2, 3)),
    nn.AvgPool1d(3, stride=1, padding=1),
    nn.AdaptiveAvgPool2d((2, None)),
])
def test_get_config_is_json_and_rebuilds_the_layer(layer):
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = type(layer)(**config)
    assert rebuilt.get_config() == layer.get_config()
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [
        (n, p.shape) for n, p in layer.named_parameters()
    ]
    assert repr(rebuilt) == repr(layer)


@pytest.mark.parametrize("layer, fn, shape", [
    (nn.MaxPool2d(2), lambda x: F.max_pool2d(x, 2), (2, 3, 6, 6)),
    (nn.MaxPool1d(3, stride=2, padding=1), lambda x: F.max_pool1d(x, 3, 2, 1), (2, 3, 7)),
    (nn.AvgPool2d(3, stride=1, padding=1), lambda x: F.avg_pool2d(x, 3, 1, 1), (2, 3, 5, 5)),
    (nn.AvgPool1d(2), lambda x: F.avg_pool1d(x, 2), (2, 3, 6)),
    (nn.AdaptiveAvgPool2d(1), lambda x: F.adaptive_avg_pool2d(x, 1), (2, 3, 5, 4)),
])
def test_pool_layers_forward_and_gradcheck(layer, fn, shape):
    (x,) = make_inputs(shape)
    np.testing.assert_array_equal(layer(x).data, fn(x).data)
    assert gradcheck(layer, [x])
    assert list(layer.parameters()) == []


def test_pool_layer_errors_name_the_layer():
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d\(kernel_size=\(3, 3\), stride=\(3, 3\)\): expected input of "
        r"shape \(N, C, H, W\).*received \(1, 2, 2, 2\)",
    ):
        nn.MaxPool2d(3)(np.zeros((1, 2, 2, 2)))
    with pytest.raises(
        ValueError, match=r"AvgPool1d.*expected input of shape \(N, C, L\), received \(4, 5\)"
    ):
        nn.AvgPool1d(2)(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d.*received \(4, 5\)"):
        nn.AdaptiveAvgPool2d(1)(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="at most half"):
        nn.MaxPool2d(2, padding=2)


def test_small_cnn_trains_end_to_end():
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(1, 4, 3, padding=1, generator=rng)
    x = rng.normal(size=(8, 1, 6, 6)).astype(np.float32)
    target = (x[:, 0, :3].mean(axis=(1, 2)) > 0).astype(np.int64)
    head = cr.tensor(rng.normal(size=(4 * 3 * 3, 2)).astype(np.float32) * 0.1, requires_grad=True)
    losses = []
    for _ in range(30):
        h = F.max_pool2d(F.relu(conv(x)), 2)
        loss = F.cross_entropy(F.reshape(h, (8, -1)) @ head, target)
        losses.append(loss.item())
        conv.zero_grad()
        head.grad = None
        loss.backward()
        for p in (conv.weight, conv.bias, head):
            p.data -= 0.5 * p.grad
    assert losses[-1] < 0.5 * losses[0]


def test_against_torch_conv_and_pools():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 9, 8))
    conv = nn.Conv2d(
        4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2
    ).double()
    ref = torch.nn.Conv2d(
        4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2
    ).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in conv.state_dict().items()})
    xt = torch.tensor(x, requires_grad=True)
    xc = cr.tensor(x, dtype=np.float64, requires_grad=True)
    y, yt = conv(xc), ref(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    tf = torch.nn.functional
    xt = torch.tensor(x)
    np.testing.assert_array_equal(F.max_pool2d(cr.tensor(x, dtype=np.float64), 3, 2, 1).data,
                                  tf.max_pool2d(xt, 3, 2, 1).numpy())
    np.testing.assert_allclose(F.avg_pool2d(cr.tensor(x, dtype=np.float64), 3, 2, 1).data,
                               tf.avg_pool2d(xt, 3, 2, 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(cr.tensor(x, dtype=np.float64), (4, 3)).data,
                               tf.adaptive_avg_pool2d(xt, (4, 3)).numpy(), rtol=1e-12)
