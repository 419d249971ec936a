"""Transposed convolutions, resampling, adaptive pools, GroupNorm, channel dropout, containers,
Module.apply / Module.to and one_hot: NumPy references and gradchecks; PyTorch (optional)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import check_op, make_inputs


# ------------------------------------------------------------------ transposed convolution
def _conv_transpose2d_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """Each input pixel scattered through the kernel, written as plain loops."""
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    Hf, Wf = (H - 1) * sh + dh * (kh - 1) + 1 + oph, (W - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((N, Og * groups, Hf, Wf))
    Cg = C // groups
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for i in range(H):
                for j in range(W):
                    for p in range(kh):
                        for q in range(kw):
                            full[n, g * Og : (g + 1) * Og, i * sh + p * dh, j * sw + q * dw] += (
                                x[n, c, i, j] * w[c, :, p, q]
                            )
    out = full[:, :, ph : Hf - ph, pw : Wf - pw]
    return out if b is None else out + b.reshape(1, -1, 1, 1)


CONV_T_CASES = [  # x shape, weight shape, stride, padding, output_padding, groups, dilation, bias
    ((2, 3, 4, 5), (3, 2, 3, 3), (1, 1), (0, 0), (0, 0), 1, (1, 1), True),
    ((1, 2, 3, 3), (2, 3, 2, 2), (2, 2), (0, 0), (0, 0), 1, (1, 1), False),
    ((2, 4, 3, 4), (4, 1, 3, 2), (2, 1), (1, 0), (1, 0), 2, (1, 1), True),
    ((1, 2, 3, 3), (2, 2, 2, 3), (1, 2), (1, 1), (0, 1), 1, (2, 1), True),
]


@pytest.mark.parametrize("xs,ws,stride,padding,output_padding,groups,dilation,bias", CONV_T_CASES)
def test_conv_transpose2d(xs, ws, stride, padding, output_padding, groups, dilation, bias):
    shapes = [xs, ws] + ([(ws[1] * groups,)] if bias else [])

    def fn(*t):
        return F.conv_transpose2d(
            t[0], t[1], t[2] if bias else None, stride, padding, output_padding, groups, dilation
        )

    def ref(*a):
        return _conv_transpose2d_reference(
            a[0], a[1], a[2] if bias else None, stride, padding, output_padding, groups, dilation
        )

    check_op(fn, ref, *shapes)


@pytest.mark.parametrize("stride,padding,output_padding", [(1, 0, 0), (2, 1, 1), (3, 0, 2)])
def test_conv_transpose1d(stride, padding, output_padding):
    def ref(x, w, b):
        return _conv_transpose2d_reference(
            x[:, :, None],
            w[:, :, None],
            b,
            (1, stride),
            (0, padding),
            (0, output_padding),
            1,
            (1, 1),
        )[:, :, 0]

    check_op(
        lambda x, w, b: F.conv_transpose1d(x, w, b, stride, padding, output_padding),
        ref,
        (2, 3, 5),
        (3, 2, 3),
        (2,),
    )


def test_conv_transpose_undoes_the_shape_of_a_strided_conv():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)
    assert up(conv(np.zeros((1, 3, 16, 16)))).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        nn.ConvTranspose2d(4, 2, 3)(np.zeros((1, 3, 5, 5)))


# ---------------------------------------------------------------------------- resampling
@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((2, 3, 4), {"scale_factor": 2}),
        ((2, 3, 4), {"size": 7}),
        ((1, 2, 3, 4), {"scale_factor": (2, 3)}),
        ((1, 2, 5, 4), {"size": (3, 6)}),
        ((1, 2, 4, 4), {"scale_factor": 1.5}),
    ],
)
def test_interpolate_nearest(shape, kwargs):
    def ref(x):
        out = x
        sizes = kwargs.get("size")
        for k, axis in enumerate(range(2, x.ndim)):
            n_in = x.shape[axis]
            if sizes is not None:
                n_out = sizes if isinstance(sizes, int) else sizes[k]
                scale = n_in / n_out
            else:
                f = kwargs["scale_factor"]
                f = f if isinstance(f, (int, float)) else f[k]
                n_out, scale = int(np.floor(n_in * f)), 1 / f
            index = np.minimum(np.floor(np.arange(n_out) * scale).astype(int), n_in - 1)
            out = np.take(out, index, axis=axis)
        return out

    check_op(lambda x: F.interpolate(x, **kwargs), ref, shape)


@pytest.mark.parametrize("mode,shape", [("linear", (2, 3, 5)), ("bilinear", (1, 2, 4, 5))])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("resize", [{"scale_factor": 2}, {"scale_factor": 0.5}, {"size": 3}])
def test_interpolate_linear_gradcheck(mode, shape, align_corners, resize):
    check_op(
        lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **resize), None, shape
    )


def test_linear_interpolation_worked_example():
    # align_corners=False, 2 → 4: sources −0.25 (clamped to 0), 0.25, 0.75, 1.25 (index clamped)
    y = F.interpolate(cr.tensor([[[0.0, 4.0]]]), size=4, mode="linear")
    np.testing.assert_allclose(y.data[0, 0], [0.0, 1.0, 3.0, 4.0])
    y = F.interpolate(cr.tensor([[[0.0, 4.0]]]), size=5, mode="linear", align_corners=True)
    np.testing.assert_allclose(y.data[0, 0], [0.0, 1.0, 2.0, 3.0, 4.0])


def test_interpolate_validates():
    x = cr.tensor(np.zeros((1, 1, 4)))
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="bilinear"):
        F.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="bicubic")


# -------------------------------------------------------------------------- adaptive pools
@pytest.mark.parametrize("length,out", [(7, 3), (6, 6), (5, 1), (4, 5)])
def test_adaptive_avg_pool1d(length, out):
    def ref(x):
        cols = [
            x[..., (i * length) // out : -((-(i + 1) * length) // out)].mean(-1) for i in range(out)
        ]
        return np.stack(cols, axis=-1)

    check_op(lambda x: F.adaptive_avg_pool1d(x, out), ref, (2, 3, length))


@pytest.mark.parametrize(
    "hw,out", [((5, 7), (2, 3)), ((4, 4), (4, 4)), ((3, 5), (1, 1)), ((3, 3), (4, 2))]
)
def test_adaptive_max_pool2d(hw, out):
    H, W = hw

    def ref(x):
        y = np.empty(x.shape[:2] + out)
        for i in range(out[0]):
            for j in range(out[1]):
                rows = slice((i * H) // out[0], -((-(i + 1) * H) // out[0]))
                cols = slice((j * W) // out[1], -((-(j + 1) * W) // out[1]))
                y[:, :, i, j] = x[:, :, rows, cols].max(axis=(2, 3))
        return y

    check_op(lambda x: F.adaptive_max_pool2d(x, out), ref, (2, 3, H, W))


def test_adaptive_max_pool1d():
    check_op(lambda x: F.adaptive_max_pool1d(x, 3), None, (2, 2, 7))


# ------------------------------------------------------------------------------ GroupNorm
@pytest.mark.parametrize(
    "shape,groups", [((3, 4, 5), 2), ((2, 6, 2, 3), 3), ((4, 4), 4), ((2, 4, 3), 1)]
)
def test_group_norm(shape, groups):
    def ref(x, w, b):
        g = x.reshape(x.shape[0], groups, -1)
        y = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(
            x.shape
        )
        affine = (1, -1) + (1,) * (x.ndim - 2)
        return y * w.reshape(affine) + b.reshape(affine)

    check_op(lambda x, w, b: F.group_norm(x, groups, w, b), ref, shape, (shape[1],), (shape[1],))


def test_group_norm_validates():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"\(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(np.zeros((2, 3)))


# --------------------------------------------------------------------------- channel dropout
@pytest.mark.parametrize("layer,shape", [(nn.Dropout1d, (8, 16, 5)), (nn.Dropout2d, (8, 16, 3, 3))])
def test_channel_dropout_drops_whole_channels(layer, shape):
    drop = layer(0.25, generator=np.random.default_rng(0))
    y = drop(np.ones(shape)).numpy()
    per_channel = y.reshape(shape[0], shape[1], -1)
    assert set(np.unique(per_channel).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert (per_channel.std(axis=2) == 0).all()  # a channel is kept or dropped as a whole
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert 0.15 < dropped < 0.35
    x = make_inputs(shape)[0]
    assert gradcheck(lambda t: layer(0.25, generator=np.random.default_rng(1))(t), [x])
    np.testing.assert_array_equal(drop.eval()(x).data, x.data)
    assert (layer(1.0)(np.ones(shape)).numpy() == 0).all()


# ------------------------------------------------------------------------------ containers
def test_unflatten_inverts_flatten():
    x = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, -1))(x).numpy(), x.reshape(2, 3, 4))
    with pytest.raises(ValueError, match="cannot be split"):
        nn.Unflatten(1, (5, 2))(x)
    t = make_inputs((2, 6))[0]
    assert gradcheck(lambda a: nn.Unflatten(-1, (2, 3))(a), [t])


def test_module_dict_parameter_list_and_dict_register_their_items():
    model = nn.Module()
    model.heads = nn.ModuleDict({"a": nn.Linear(2, 3)})
    model.heads["b"] = nn.Linear(3, 1, bias=False)
    model.scales = nn.ParameterList([nn.Parameter(np.ones(2))])
    model.scales.append(nn.Parameter(np.ones(4)))
    model.table = nn.ParameterDict({"shift": nn.Parameter(np.zeros(3))})
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        "heads.a.weight": (3, 2),
        "heads.a.bias": (3,),
        "heads.b.weight": (1, 3),
        "scales.0": (2,),
        "scales.1": (4,),
        "table.shift": (3,),
    }
    assert len(list(model.parameters())) == 6
    assert model.heads.keys() == ["a", "b"] and "a" in model.heads and len(model.scales) == 2
    del model.heads["a"]
    assert model.heads.keys() == ["b"]
    with pytest.raises(TypeError, match="Parameter"):
        model.scales.append(cr.tensor([1.0]))
    with pytest.raises(KeyError, match="keys are"):
        model.table["nope"]
    with pytest.raises(ValueError, match="'.'"):
        model.table["a.b"] = nn.Parameter(np.ones(1))


def test_apply_visits_children_first_then_the_module():
    inner = nn.Sequential(nn.Linear(1, 1))
    model = nn.Sequential(inner, nn.ReLU())
    seen = []
    assert model.apply(lambda m: seen.append(m)) is model
    assert seen == [inner[0], inner, model[1], model]


def test_to_accepts_pytorch_call_forms():
    layer = nn.Linear(2, 2)
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    layer.to("cpu", np.float64)
    assert layer.weight.dtype == np.float64
    layer.to(dtype=np.float32)
    assert layer.bias.dtype == np.float32
    layer.to(cr.tensor(np.zeros(1), dtype=np.float64))
    assert layer.weight.dtype == np.float64
    with pytest.raises(ValueError, match="cpu"):
        layer.to("cuda")


def test_one_hot():
    labels = np.array([[0, 2], [1, 1]])
    out = F.one_hot(labels, 3)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, np.eye(3, dtype=np.int64)[labels])
    assert F.one_hot(np.array([0, 4])).shape == (2, 5)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        F.one_hot(np.array([2]), 2)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(np.array([0.5]), 2)


def test_clip_grad_norm_alias():
    from chainrule.optim import clip_grad_norm_

    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


# ------------------------------------------------------------------- against PyTorch (optional)
def _pairs(torch):
    return [
        (
            nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
            torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
            (2, 4, 5, 4),
        ),
        (
            nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 2), dilation=(2, 1), bias=False),
            torch.nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 2), dilation=(2, 1), bias=False),
            (1, 3, 4, 4),
        ),
        (
            nn.ConvTranspose1d(3, 4, 5, stride=3, padding=2, output_padding=1),
            torch.nn.ConvTranspose1d(3, 4, 5, stride=3, padding=2, output_padding=1),
            (2, 3, 6),
        ),
        (nn.GroupNorm(2, 6), torch.nn.GroupNorm(2, 6), (3, 6, 4, 2)),
        (nn.GroupNorm(3, 3, affine=False), torch.nn.GroupNorm(3, 3, affine=False), (2, 3, 5)),
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2), (1, 2, 3, 4)),
        (nn.Upsample(scale_factor=1.7), torch.nn.Upsample(scale_factor=1.7), (1, 2, 3, 4)),
        (
            nn.Upsample(size=(5, 3), mode="bilinear"),
            torch.nn.Upsample(size=(5, 3), mode="bilinear"),
            (1, 2, 3, 4),
        ),
        (
            nn.Upsample(scale_factor=2.5, mode="bilinear", align_corners=True),
            torch.nn.Upsample(scale_factor=2.5, mode="bilinear", align_corners=True),
            (2, 1, 3, 4),
        ),
        (
            nn.Upsample(scale_factor=0.6, mode="linear"),
            torch.nn.Upsample(scale_factor=0.6, mode="linear"),
            (2, 3, 7),
        ),
        (nn.Upsample(size=9, mode="nearest"), torch.nn.Upsample(size=9, mode="nearest"), (2, 3, 4)),
        (nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3), (2, 3, 8)),
        (nn.AdaptiveMaxPool2d((2, 3)), torch.nn.AdaptiveMaxPool2d((2, 3)), (2, 3, 5, 7)),
        (nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4), (2, 3, 9)),
        (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), (4, 6)),
    ]


def test_layers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for ours, theirs, shape in _pairs(torch):
        ours.double()
        theirs.double()
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()
        }, ours
        theirs.load_state_dict(
            {k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()}
        )
        x = rng.normal(size=shape)
        xo, xt = (
            cr.tensor(x, dtype=np.float64, requires_grad=True),
            torch.tensor(x, requires_grad=True),
        )
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(
            yo.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=repr(ours)
        )
        g = rng.normal(size=yo.shape)
        yo.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(
            xo.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=repr(ours)
        )
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(
                dict(ours.named_parameters())[name].grad,
                p.grad.numpy(),
                rtol=1e-10,
                atol=1e-12,
                err_msg=f"{ours!r} {name}",
            )


def test_containers_and_apply_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        m = lib.nn.Module()
        m.heads = lib.nn.ModuleDict(
            {"a": lib.nn.Linear(2, 3), "b": lib.nn.Sequential(lib.nn.Linear(3, 1))}
        )
        m.scales = lib.nn.ParameterList(
            [lib.nn.Parameter(lib_ones(lib, 2)), lib.nn.Parameter(lib_ones(lib, 4))]
        )
        m.table = lib.nn.ParameterDict({"shift": lib.nn.Parameter(lib_ones(lib, 3))})
        return m

    def lib_ones(lib, n):
        return torch.ones(n) if lib is torch else np.ones(n)

    ours, theirs = build(cr), build(torch)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    order_ours, order_theirs = [], []
    ours.apply(lambda m: order_ours.append(type(m).__name__))
    theirs.apply(lambda m: order_theirs.append(type(m).__name__))
    assert order_ours == order_theirs


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([[3, 0], [1, 2]])
    np.testing.assert_array_equal(
        F.one_hot(labels).data, torch.nn.functional.one_hot(torch.tensor(labels)).numpy()
    )


def test_new_layers_reload_from_chainrule_save(tmp_path):
    """get_config gives each new layer's constructor arguments, so a saved model rebuilds."""
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=1),
        nn.GroupNorm(2, 2),
        nn.PReLU(2),
        nn.Dropout2d(0.1),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.AdaptiveMaxPool2d(3),
        nn.Flatten(),
        nn.Unflatten(1, (6, 3)),
        nn.AdaptiveAvgPool1d(2),
        nn.Flatten(),
        nn.Mish(),
        nn.Linear(12, 8),
        nn.Unflatten(1, (2, 4)),
        nn.TransformerEncoder(
            nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, batch_first=True),
            2,
            norm=nn.LayerNorm(4),
        ),
        nn.Flatten(),
        nn.ELU(0.5),
        nn.Softplus(2.0),
        nn.Hardtanh(-2, 2),
        nn.SiLU(),
        nn.Linear(8, 1),
    ).eval()
    cr.save(model, tmp_path / "model.safetensors")
    loaded = cr.load(tmp_path / "model.safetensors").eval()
    x = np.random.default_rng(0).normal(size=(2, 1, 8, 8))
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    assert repr(loaded) == repr(model)
