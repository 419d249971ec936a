"""Optional cross-checks of the layers against PyTorch (skipped without torch)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


def copy_params(ours, theirs):
    state = {k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


@pytest.mark.parametrize(
    "make_ours,make_theirs,shape",
    [
        (
            lambda: nn.BatchNorm1d(3, momentum=0.2),
            lambda: torch.nn.BatchNorm1d(3, momentum=0.2),
            (4, 3, 5),
        ),
        (
            lambda: nn.BatchNorm1d(3, momentum=None),
            lambda: torch.nn.BatchNorm1d(3, momentum=None),
            (6, 3),
        ),
        (lambda: nn.BatchNorm2d(2), lambda: torch.nn.BatchNorm2d(2), (3, 2, 4, 4)),
        (lambda: nn.LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)), (2, 3, 4)),
        (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (3, 4)),
        (lambda: nn.Linear(4, 2), lambda: torch.nn.Linear(4, 2), (3, 4)),
    ],
)
def test_forward_backward_and_buffers_match_torch(make_ours, make_theirs, shape):
    ours, theirs = make_ours().double(), make_theirs().double()
    rng = np.random.default_rng(0)
    for k, v in ours.state_dict().items():
        if v.dtype.kind == "f":
            v[...] = (
                rng.normal(size=v.shape) if "var" not in k else rng.uniform(0.5, 2, size=v.shape)
            )
    copy_params(ours, theirs)
    for _ in range(3):  # several training batches, then evaluation
        x = rng.normal(size=shape)
        xt = torch.tensor(x, requires_grad=True)
        xo = cr.tensor(x, dtype=np.float64, requires_grad=True)
        yt = theirs(xt)
        g = rng.normal(size=tuple(yt.shape))
        yo = ours(xo)
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-9, atol=1e-12)
        yt.backward(torch.tensor(g))
        yo.backward(g)
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(
                dict(ours.named_parameters())[name].grad, p.grad.numpy(), rtol=1e-8, atol=1e-10
            )
        ours.zero_grad()
        theirs.zero_grad()
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-10, err_msg=k)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=shape)
    with torch.no_grad():
        got = ours(cr.tensor(x, dtype=np.float64)).data
        np.testing.assert_allclose(got, theirs(torch.tensor(x)).numpy(), rtol=1e-9, atol=1e-12)


def test_embedding_padding_matches_torch():
    ours = nn.Embedding(6, 3, padding_idx=2).double()
    theirs = torch.nn.Embedding(6, 3, padding_idx=2).double()
    copy_params(ours, theirs)
    idx = np.array([[2, 1, 1], [5, 2, 0]])
    g = np.random.default_rng(0).normal(size=(2, 3, 3))
    ours(idx).backward(g)
    theirs(torch.tensor(idx)).backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy())
