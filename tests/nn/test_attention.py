"""Scaled dot-product attention, MultiheadAttention and the Transformer encoder: NumPy
reference, gradchecks, a toy task learned, and PyTorch (optional)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import check_op, make_inputs


def _sdpa_reference(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (5, 4), (5, 2)),
        ((2, 3, 4), (2, 5, 4), (2, 5, 3)),
        ((2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)),
    ],
)
def test_sdpa_against_numpy(shapes):
    check_op(F.scaled_dot_product_attention, _sdpa_reference, *shapes)


def test_sdpa_masks():
    rng = np.random.default_rng(0)
    allowed = rng.random((3, 5)) < 0.6
    allowed[:, 0] = True  # every query keeps one key
    additive = np.where(allowed, 0.0, -np.inf)
    check_op(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=allowed),
        lambda q, k, v: _sdpa_reference(q, k, v, additive),
        (2, 3, 4),
        (2, 5, 4),
        (2, 5, 2),
    )
    bias = rng.normal(size=(3, 5))
    check_op(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=bias),
        lambda q, k, v: _sdpa_reference(q, k, v, bias),
        (2, 3, 4),
        (2, 5, 4),
        (2, 5, 2),
    )
    causal = np.where(np.tril(np.ones((4, 4), bool)), 0.0, -np.inf)
    check_op(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: _sdpa_reference(q, k, v, causal),
        (2, 4, 3),
        (2, 4, 3),
        (2, 4, 3),
    )


def test_sdpa_validates():
    q = cr.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="same E"):
        F.scaled_dot_product_attention(q, cr.tensor(np.zeros((2, 3, 5))), q)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)


def test_multihead_attention_gradcheck():
    attn = nn.MultiheadAttention(
        4, 2, batch_first=True, generator=np.random.default_rng(0)
    ).double()
    q, kv = make_inputs((2, 3, 4), (2, 5, 4))
    padding = np.array([[False] * 4 + [True], [False] * 5])
    assert gradcheck(lambda a, b: attn(a, b, b, key_padding_mask=padding)[0], [q, kv])
    params = list(attn.parameters())
    for p in params:
        p.data = p.data.astype(np.float64)
    assert gradcheck(lambda *ps: attn(q.detach(), q.detach(), q.detach())[0], params)


def test_multihead_attention_shapes_and_errors():
    attn = nn.MultiheadAttention(6, 3)
    out, weights = attn(
        np.zeros((5, 2, 6)), np.zeros((4, 2, 6)), np.zeros((4, 2, 6)), average_attn_weights=False
    )
    assert out.shape == (5, 2, 6) and weights.shape == (2, 3, 5, 4)
    out, weights = attn(np.zeros((5, 6)), np.zeros((5, 6)), np.zeros((5, 6)))
    assert out.shape == (5, 6) and weights.shape == (5, 5)
    assert (
        attn(np.zeros((5, 2, 6)), np.zeros((5, 2, 6)), np.zeros((5, 2, 6)), need_weights=False)[1]
        is None
    )
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="last dimension 6"):
        attn(np.zeros((5, 2, 4)), np.zeros((5, 2, 4)), np.zeros((5, 2, 4)))


def test_transformer_encoder_learns_a_task_that_needs_attention():
    """Does the first token occur again later in the sequence? Answering means comparing
    positions, which a per-position network with mean pooling cannot do: attention must."""
    rng = np.random.default_rng(0)
    vocab, length, n = 6, 6, 768

    def sample(count):
        x = np.empty((count, length), dtype=np.int64)
        y = rng.integers(0, 2, count)
        for i in range(count):
            first = rng.integers(vocab)
            rest = rng.choice([t for t in range(vocab) if t != first], length - 1)
            if y[i]:
                rest[rng.integers(length - 1)] = first
            x[i] = np.concatenate([[first], rest])
        return x, y

    class Classifier(nn.Module):
        def __init__(self, generator):
            super().__init__()
            self.embed = nn.Embedding(vocab, 16, generator=generator)
            self.position = nn.Parameter(generator.normal(0, 0.5, (length, 16)))
            self.encoder = nn.TransformerEncoderLayer(
                16, 2, dim_feedforward=32, dropout=0.0, batch_first=True, generator=generator
            )
            self.head = nn.Linear(16, 2, generator=generator)

        def forward(self, tokens):
            h = self.encoder(self.embed(tokens) + self.position)
            return self.head(h[:, 0])  # the first position's summary

    x_train, y_train = sample(n)
    x_test, y_test = sample(256)
    model = Classifier(np.random.default_rng(1))
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    for _epoch in range(25):
        order = rng.permutation(n)
        for start in range(0, n, 64):
            batch = order[start : start + 64]
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with cr.no_grad():
        accuracy = (model(x_test).data.argmax(1) == y_test).mean()
    assert accuracy > 0.9, accuracy  # chance is 0.5


# ------------------------------------------------------------------- against PyTorch (optional)
def _copy_to_torch(ours, theirs, torch):
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("self_attention", [False, True])
def test_multihead_attention_matches_torch(batch_first, self_attention):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    _copy_to_torch(ours, theirs, torch)
    N, L, S = 3, 4, 4 if self_attention else 5
    shape_q, shape_k = ((N, L, 8), (N, S, 8)) if batch_first else ((L, N, 8), (S, N, 8))
    q = rng.normal(size=shape_q)
    k = q if self_attention else rng.normal(size=shape_k)
    v = q if self_attention else rng.normal(size=shape_k)
    padding = rng.random((N, S)) < 0.3
    padding[:, 0] = False
    attn_mask = rng.random((L, S)) < 0.2
    attn_mask[:, 1] = False
    for kwargs in (
        {},
        {"key_padding_mask": padding},
        {"attn_mask": attn_mask, "average_attn_weights": False},
        {"attn_mask": rng.normal(size=(N * 2, L, S)), "key_padding_mask": padding},
    ):
        qo = cr.tensor(q, dtype=np.float64, requires_grad=True)
        qt = torch.tensor(q, requires_grad=True)
        ko, kt = (qo, qt) if self_attention else (cr.tensor(k, dtype=np.float64), torch.tensor(k))
        vo, vt = (qo, qt) if self_attention else (cr.tensor(v, dtype=np.float64), torch.tensor(v))
        theirs_kwargs = {
            key: torch.tensor(val) for key, val in kwargs.items() if key != "average_attn_weights"
        }
        if "average_attn_weights" in kwargs:
            theirs_kwargs["average_attn_weights"] = kwargs["average_attn_weights"]
        out_o, w_o = ours(qo, ko, vo, **kwargs)
        out_t, w_t = theirs(qt, kt, vt, **theirs_kwargs)
        np.testing.assert_allclose(out_o.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w_o.data, w_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.normal(size=out_o.shape)
        ours.zero_grad()
        theirs.zero_grad()
        out_o.backward(g)
        out_t.backward(torch.tensor(g))
        np.testing.assert_allclose(qo.grad, qt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(
                dict(ours.named_parameters())[name].grad,
                p.grad.numpy(),
                rtol=1e-9,
                atol=1e-12,
                err_msg=name,
            )


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_matches_torch(norm_first, activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    kwargs = dict(
        dim_feedforward=12,
        dropout=0.0,
        activation=activation,
        batch_first=True,
        norm_first=norm_first,
    )
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, **kwargs), 2, norm=nn.LayerNorm(8)
    ).double()
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kwargs),
        2,
        norm=torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    ).double()
    for v in ours.state_dict().values():
        v[...] = rng.normal(size=v.shape) * 0.5
    _copy_to_torch(ours, theirs, torch)
    x = rng.normal(size=(3, 5, 8))
    padding = np.zeros((3, 5), bool)
    padding[0, 3:] = True
    xo, xt = cr.tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo = ours(xo, src_key_padding_mask=padding)
    yt = theirs(xt, src_key_padding_mask=torch.tensor(padding))
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-9, atol=1e-11)
    g = rng.normal(size=yo.shape)
    yo.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-8, atol=1e-11)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(
            dict(ours.named_parameters())[name].grad,
            p.grad.numpy(),
            rtol=1e-8,
            atol=1e-11,
            err_msg=name,
        )


def test_sdpa_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = (
        rng.normal(size=(2, 3, 4, 5)),
        rng.normal(size=(2, 3, 6, 5)),
        rng.normal(size=(2, 3, 6, 2)),
    )
    mask = rng.random((4, 6)) < 0.7
    mask[:, 0] = True
    for kwargs in ({}, {"attn_mask": mask}, {"scale": 0.3}):
        ours = F.scaled_dot_product_attention(
            cr.tensor(q, dtype=np.float64),
            cr.tensor(k, dtype=np.float64),
            cr.tensor(v, dtype=np.float64),
            **kwargs,
        )
        tk = {
            key: (torch.tensor(val) if isinstance(val, np.ndarray) else val)
            for key, val in kwargs.items()
        }
        theirs = torch.nn.functional.scaled_dot_product_attention(
            torch.tensor(q), torch.tensor(k), torch.tensor(v), **tk
        )
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10)
