import numpy as np
import pytest

import chainrule.functional as F
from chainrule import Tensor, nn


def mlp():
    g = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(3, 4, generator=g), nn.ReLU(), nn.Linear(4, 2, generator=g))


X = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
Y = np.array([0, 1, 0, 1, 1])


def register_all(model, log):
    handles = []
    for i, module in enumerate(model):
        handles.append(module.register_forward_pre_hook(lambda m, a, i=i: log.append(("pre", i))))
        handles.append(module.register_forward_hook(lambda m, a, o, i=i: log.append(("fwd", i))))
        handles.append(
            module.register_full_backward_hook(lambda m, gi, go, i=i: log.append(("bwd", i)))
        )
    return handles


def test_firing_order_and_once_per_pass():
    model, log = mlp(), []
    register_all(model, log)
    F.cross_entropy(model(X), Y).backward()
    assert log == [
        ("pre", 0),
        ("fwd", 0),
        ("pre", 1),
        ("fwd", 1),
        ("pre", 2),
        ("fwd", 2),
        ("bwd", 2),
        ("bwd", 1),
        ("bwd", 0),
    ]
    log.clear()
    F.cross_entropy(model(X), Y).backward()
    assert len(log) == 9


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


def test_a_backward_hook_returning_zeros_zeroes_the_earlier_gradients():
    model = mlp()
    model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    F.cross_entropy(model(X), Y).backward()
    assert np.all(model[0].weight.grad == 0) and np.all(model[0].bias.grad == 0)
    assert np.any(model[2].weight.grad != 0)


def test_removed_handles_never_fire_again():
    model, log = mlp(), []
    handles = register_all(model, log)
    for handle in handles:
        handle.remove()
    F.cross_entropy(model(X), Y).backward()
    assert log == []
    handles[0].remove()  # idempotent


def test_hook_on_the_first_layer_fires_with_no_input_gradient():
    model = mlp()
    seen = []
    model[0].register_full_backward_hook(lambda m, gi, go: seen.append((gi[0], go[0].shape)))
    F.cross_entropy(model(X), Y).backward()
    assert seen == [(None, (5, 4))]


def test_non_callable_hooks_are_refused():
    with pytest.raises(TypeError, match="callable"):
        nn.Linear(2, 2).register_forward_hook(3)


def test_firing_order_matches_pytorch():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    log = []
    for i, module in enumerate(net):
        module.register_forward_pre_hook(lambda m, a, i=i: log.append(("pre", i)))
        module.register_forward_hook(lambda m, a, o, i=i: log.append(("fwd", i)))
        module.register_full_backward_hook(lambda m, gi, go, i=i: log.append(("bwd", i)))
    torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(Y)).backward()
    model, ours = mlp(), []
    register_all(model, ours)
    F.cross_entropy(model(X), Y).backward()
    assert ours == log
