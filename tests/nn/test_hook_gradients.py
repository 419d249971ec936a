"""Module hooks see the gradients backpropagation computes (closed forms), and replace them."""

import numpy as np

import chainrule.functional as F
from chainrule import Tensor, nn


def mlp():
    g = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(3, 4, generator=g), nn.ReLU(), nn.Linear(4, 2, generator=g))


X = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
Y = np.array([0, 1, 0, 1, 1])


def test_backward_hook_sees_the_gradients_of_input_and_output():
    model = mlp()
    seen = {}
    model[2].register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi, go=go))
    hidden = {}
    model[1].register_forward_hook(lambda m, a, out: hidden.update(out=out))
    hidden_grad = {}

    def watch_input(module, args):
        args[0].register_hook(lambda g: hidden_grad.update(g=g.data.copy()))

    model[2].register_forward_pre_hook(watch_input)
    F.cross_entropy(model(X), Y).backward()
    logits = model(X).data.astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(2)[Y]) / len(X)  # ∂J/∂z of the last layer
    np.testing.assert_allclose(seen["go"][0].data, delta, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        seen["gi"][0].data, delta @ model[2].weight.data, rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(hidden_grad["g"], seen["gi"][0].data, rtol=1e-6)


def test_forward_hooks_can_replace_arguments_and_output():
    layer = nn.Linear(3, 2)
    layer.register_forward_pre_hook(lambda m, a: (a[0] * 0,))
    out = layer(Tensor(X))
    np.testing.assert_allclose(out.data, np.broadcast_to(layer.bias.data, (5, 2)))
    layer.register_forward_hook(lambda m, a, o: o * 2)
    np.testing.assert_allclose(layer(Tensor(X)).data, 2 * np.broadcast_to(layer.bias.data, (5, 2)))


def test_hook_on_the_first_layer_fires_with_no_input_gradient():
    model = mlp()
    seen = []
    model[0].register_full_backward_hook(lambda m, gi, go: seen.append((gi[0], go[0].shape)))
    F.cross_entropy(model(X), Y).backward()
    assert seen == [(None, (5, 4))]
