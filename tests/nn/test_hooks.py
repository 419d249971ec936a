"""Module hooks: order, once per call, replacing inputs, outputs and gradients, removal;
PyTorch (optional)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _model():
    return nn.Sequential(
        nn.Linear(3, 4, generator=np.random.default_rng(0)),
        nn.Tanh(),
        nn.Linear(4, 2, generator=np.random.default_rng(1)),
    ).double()


def _log_all(model, log):
    handles = []
    for name, module in model.named_modules():
        name = name or "model"
        handles.append(
            module.register_forward_pre_hook(lambda m, a, n=name: log.append(("pre", n)))
        )
        handles.append(module.register_forward_hook(lambda m, a, o, n=name: log.append(("fwd", n))))
        handles.append(
            module.register_full_backward_hook(lambda m, gi, go, n=name: log.append(("bwd", n)))
        )
    return handles


def test_hooks_fire_in_order_once_per_forward_and_backward():
    model, log = _model(), []
    _log_all(model, log)
    x = cr.tensor(np.ones((2, 3)), dtype=np.float64, requires_grad=True)
    out = model(x)
    assert log == [
        ("pre", "model"),
        ("pre", "0"),
        ("fwd", "0"),
        ("pre", "1"),
        ("fwd", "1"),
        ("pre", "2"),
        ("fwd", "2"),
        ("fwd", "model"),
    ]
    log.clear()
    out.sum().backward()
    assert log == [("bwd", "2"), ("bwd", "1"), ("bwd", "0"), ("bwd", "model")]


def test_backward_hook_sees_the_gradients_of_inputs_and_outputs():
    layer, seen = _model()[0], {}
    layer.register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi, go=go))
    x = cr.tensor(
        np.random.default_rng(2).normal(size=(2, 3)), dtype=np.float64, requires_grad=True
    )
    g = np.random.default_rng(3).normal(size=(2, 4))
    layer(x).backward(g)
    np.testing.assert_allclose(seen["go"][0], g)
    np.testing.assert_allclose(seen["gi"][0], g @ layer.weight.data)
    np.testing.assert_allclose(x.grad, g @ layer.weight.data)
    np.testing.assert_allclose(layer.weight.grad, g.T @ x.data)  # parameters unchanged by the packs


def test_first_layer_hook_fires_with_none_for_an_input_without_grad():
    layer, seen = _model()[0], []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    layer(np.ones((2, 3))).sum().backward()
    assert seen == [((None,), (2, 4))]


def test_hook_returning_zeros_zeroes_the_gradient_upstream():
    model = _model()
    model[2].register_full_backward_hook(lambda m, gi, go: tuple(np.zeros_like(g) for g in gi))
    x = cr.tensor(np.ones((2, 3)), dtype=np.float64, requires_grad=True)
    model(x).sum().backward()
    assert (x.grad == 0).all() and (model[0].weight.grad == 0).all()
    assert (model[2].weight.grad != 0).any()  # the hooked layer's own parameters still learn


def test_forward_hooks_replace_inputs_and_outputs():
    layer = nn.Linear(2, 2).double()
    layer.register_forward_pre_hook(lambda m, args: args[0] * 2)
    handle = layer.register_forward_hook(lambda m, args, out: out * 0 + 7)
    x = np.ones((1, 2))
    assert (layer(x).data == 7).all()
    handle.remove()
    expected = 2 * x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected)


def test_removed_handles_never_fire_again():
    model, log = _model(), []
    handles = _log_all(model, log)
    for handle in handles:
        handle.remove()
    handles[0].remove()  # idempotent
    model(cr.tensor(np.ones((1, 3)), dtype=np.float64, requires_grad=True)).sum().backward()
    assert log == []
    with pytest.raises(TypeError, match="callable"):
        model.register_forward_hook("not a function")


def test_hooks_on_a_module_with_two_inputs_and_a_tuple_output():
    attn, seen = nn.MultiheadAttention(4, 2, batch_first=True).double(), {}
    attn.register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi, go=go))
    q, kv = (
        cr.tensor(
            np.random.default_rng(i).normal(size=(2, 3, 4)), dtype=np.float64, requires_grad=True
        )
        for i in range(2)
    )
    out, weights = attn(q, kv, kv)
    out.sum().backward()
    assert len(seen["gi"]) == 3 and len(seen["go"]) == 2
    np.testing.assert_allclose(seen["gi"][0], q.grad)
    np.testing.assert_allclose(seen["go"][0], np.ones((2, 3, 4)))


# ------------------------------------------------------------------- against PyTorch (optional)
def test_hook_order_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    ours = _model()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    log_ours, log_theirs = [], []
    _log_all(ours, log_ours)
    _log_all(theirs, log_theirs)
    grads_ours, grads_theirs = [], []
    ours[0].register_full_backward_hook(lambda m, gi, go: grads_ours.append(go[0]))
    theirs[0].register_full_backward_hook(lambda m, gi, go: grads_theirs.append(go[0].numpy()))
    x = np.random.default_rng(0).normal(size=(2, 3))
    ours(cr.tensor(x, dtype=np.float64, requires_grad=True)).sum().backward()
    theirs(torch.tensor(x, requires_grad=True)).sum().backward()
    assert log_ours == log_theirs
    np.testing.assert_allclose(grads_ours[0], grads_theirs[0], rtol=1e-12)
