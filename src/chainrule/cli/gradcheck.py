"""``chainrule gradcheck``: analytic against finite-difference gradients in float64, for a
built-in suite of primitives and layers or for a saved model on a tiny batch."""

from __future__ import annotations

import time

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    CLIError,
    add_command,
    guess_input_shape,
    load_model,
    positive_int,
    table,
    xp,
)


def add_parser(subparsers):
    p = add_command(subparsers, "gradcheck",
                    "check gradients of the primitives and layers (or a model) in float64",
                    "Compare analytic gradients with central finite differences in float64 for a "
                    "built-in suite of primitives and layers, or for a saved model on a tiny "
                    "batch.", run)
    p.add_argument("--model", metavar="MODEL",
                   help="check this saved model instead of the built-in suite")
    p.add_argument("--max-params", type=positive_int, default=200,
                   help="with --model: check parameter tensors of up to N elements in full, and "
                        "N randomly chosen elements of larger ones (default: 200)")
    return p


def suite():
    """(name, fn, inputs) cases in float64: primitives and small layers."""
    from .. import functional as F
    from .. import nn
    from ..tensor import Tensor

    np_ = xp()
    rng = np_.random.default_rng(0)

    def t(*shape, positive=False):
        data = rng.uniform(0.5, 2.0, shape) if positive else rng.normal(size=shape)
        return Tensor(data, requires_grad=True, dtype=np_.float64)

    labels = Tensor(np_.array([0, 2, 1]))
    cases = [
        ("add/mul broadcast", lambda a, b: a * b + b, [t(3, 4), t(4)]),
        ("div, log, sqrt", lambda a, b: (a / b).log() + b.sqrt(),
         [t(2, 3, positive=True), t(2, 3, positive=True)]),
        ("matmul", lambda a, b: a @ b, [t(3, 4), t(4, 2)]),
        ("sum/mean/max", lambda a: a.sum(axis=0) + a.mean(axis=0) + a.max(axis=0), [t(4, 3)]),
        ("relu, sigmoid, tanh", lambda a: F.relu(a) + F.sigmoid(a) + F.tanh(a), [t(3, 4)]),
        ("gelu, leaky_relu", lambda a: F.gelu(a) + F.leaky_relu(a), [t(3, 4)]),
        ("softmax, log_softmax", lambda a: F.softmax(a) * F.log_softmax(a), [t(3, 4)]),
        ("linear", lambda x, w, b: F.linear(x, w, b), [t(3, 4), t(2, 4), t(2)]),
        ("cross_entropy", lambda a: F.cross_entropy(a, labels), [t(3, 4)]),
        ("mse_loss", lambda a, b: F.mse_loss(a, b), [t(3, 2), t(3, 2)]),
        ("bce_with_logits", lambda a: F.binary_cross_entropy_with_logits(
            a, Tensor(np_.array([[0.0], [1.0], [1.0]]))), [t(3, 1)]),
        ("reshape, transpose, getitem", lambda a: a.reshape(4, 3).T[1:, ::2], [t(3, 4)]),
    ]
    layers = [
        ("nn.Linear", lambda: nn.Linear(4, 3), (2, 4)),
        ("nn.Conv1d", lambda: nn.Conv1d(2, 3, 3, padding=1), (2, 2, 5)),
        ("nn.Conv2d", lambda: nn.Conv2d(1, 2, 3, padding=1), (2, 1, 4, 4)),
        ("nn.MaxPool2d", lambda: nn.MaxPool2d(2), (2, 1, 4, 4)),
        ("nn.BatchNorm1d", lambda: nn.BatchNorm1d(3), (4, 3)),
        ("nn.LayerNorm", lambda: nn.LayerNorm(4), (2, 4)),
        ("nn.GRU", lambda: nn.GRU(2, 3, batch_first=True), (2, 3, 2)),
        ("nn.LSTM", lambda: nn.LSTM(2, 3, batch_first=True), (2, 3, 2)),
    ]
    for name, make, shape in layers:
        cases.append((name, _layer_case(make), [t(*shape)]))
    return cases


def _layer_case(make):
    built = {}

    def fn(x):
        if "layer" not in built:
            built["layer"] = make().double()
        out = built["layer"](x)
        return out[0] if isinstance(out, tuple) else out

    return fn


def _run_case(name, fn, inputs):
    """One row of the table; ``inputs`` None means ``fn()`` runs its own check."""
    from ..autograd import gradcheck

    started = time.perf_counter()
    try:
        fn() if inputs is None else gradcheck(fn, inputs)
        status, detail = "pass", ""
    except AttributeError as error:
        status, detail = "skip", f"not available: {error}"
    except Exception as error:  # noqa: BLE001 - each case reports its own failure
        status, detail = "FAIL", str(error).splitlines()[0][:100]
    return [name, status, f"{(time.perf_counter() - started) * 1000:.0f} ms", detail]


def _sampled_case(forward, x, param, count, seed):
    """A check of ``count`` randomly chosen elements of a large parameter: the analytic
    gradient of L = Σ v ⊙ forward(x) (one backward) against central differences of L."""
    from ..autograd import no_grad

    np_ = xp()

    def check():
        rng = np_.random.default_rng(seed)
        param.grad = None
        out = forward(x)
        v = rng.normal(size=out.shape)
        (out * v).sum().backward()
        analytic = np_.array(param.grad, dtype=np_.float64).reshape(-1)
        picks = rng.choice(param.data.size, size=count, replace=False)
        flat = param.data.reshape(-1)
        eps = 1e-6
        for k in picks:
            saved = flat[k]
            with no_grad():
                flat[k] = saved + eps
                up = float((forward(x).data * v).sum())
                flat[k] = saved - eps
                down = float((forward(x).data * v).sum())
            flat[k] = saved
            numeric = (up - down) / (2 * eps)
            if abs(analytic[k] - numeric) > 1e-5 + 1e-3 * abs(numeric):
                raise ValueError(f"element {np_.unravel_index(k, param.shape)}: analytic "
                                 f"{analytic[k]:.6g}, numeric {numeric:.6g}")
        return True

    return check


def _model_cases(args):
    """The model's input, then each parameter: in full up to --max-params elements, else
    --max-params randomly chosen elements of it."""
    from ..tensor import Tensor

    np_ = xp()
    model, info = load_model(args.model)
    input_shape = guess_input_shape(model, info)
    if input_shape is None:
        raise CLIError("gradcheck: cannot tell the model's input shape; it records none")
    model.double().train()
    rng = np_.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, *input_shape)), requires_grad=True, dtype=np_.float64)
    for m in model.modules():  # a random mask would change between the perturbed evaluations
        if type(m).__name__ == "Dropout":
            m.eval()

    def forward(x_, *params):
        out = model(x_)
        return out[0] if isinstance(out, tuple) else out

    cases = [("model input", forward, [x])]
    sampled = []
    x_fixed = Tensor(x.data, dtype=np_.float64)
    for index, (name, param) in enumerate(model.named_parameters()):
        label = f"param {name} {tuple(param.shape)}"
        if param.data.size <= args.max_params:
            cases.append((label, lambda p, _x=x_fixed: forward(_x), [param]))
        else:
            sampled.append(name)
            cases.append((f"{label}, {args.max_params} sampled",
                          _sampled_case(forward, x_fixed, param, args.max_params, index),
                          None))
    return cases, sampled


def run(args) -> int:
    sampled = []
    if args.model:
        cases, sampled = _model_cases(args)
    else:
        cases = suite()
    rows = [_run_case(name, fn, inputs) for name, fn, inputs in cases]
    print(table(["check", "result", "time", "detail"], rows))
    failed = sum(r[1] == "FAIL" for r in rows)
    passed = sum(r[1] == "pass" for r in rows)
    if sampled:
        print(f"{len(sampled)} parameter tensors have more than --max-params {args.max_params} "
              f"elements; {args.max_params} randomly chosen elements of each were checked: "
              + ", ".join(sampled))
    print(f"{passed} passed, {failed} failed, {len(rows) - passed - failed} skipped")
    return EXIT_FAILED if failed else EXIT_OK
