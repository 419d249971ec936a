"""The ``chainrule`` command (also ``python -m chainrule``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``inspect``, ``datasets``,
``gradcheck``; each has ``--help``. ``chainrule train`` with no arguments trains
an MLP on the bundled digits set and prints its test accuracy.

An error (unknown dataset, missing file, bad model file, bad option) prints
one line, ``chainrule: error: ...``, on stderr and exits with status 2; add
``--debug`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

__all__ = ["CLIError", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``chainrule: error: ...``) and exit status 2."""

    def error(self, message):
        sub = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        print(f"chainrule: error: {sub}{message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


# ------------------------------------------------------------------ helpers
def _xp():
    from .backend import xp

    return xp


def _argument(convert, accept, expected):
    """An argparse ``type=``: ``convert`` the text, then check it with ``accept``; one message for both."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
        return value

    return parse


_positive_int = _argument(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _argument(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _argument(float, lambda v: v > 0 and math.isfinite(v), "a positive number")
_fraction = _argument(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


def _load_data(name, standardize=True):
    from .data import datasets

    return datasets.load(name, standardize=standardize)


def _model_path(run_or_model):
    """A run folder holds its model in ``model/``; anything else is the model path itself."""
    if os.path.isdir(run_or_model) and os.path.isdir(os.path.join(run_or_model, "model")):
        return os.path.join(run_or_model, "model")
    if not os.path.exists(run_or_model):
        raise FileNotFoundError(f"no model or run folder at {run_or_model}")
    return run_or_model


def _load_model(run_or_model):
    from . import io

    path = _model_path(run_or_model)
    return io.load(path), io.read_info(path)


def _table(headers, rows) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells[1:]]
    return "\n".join(lines)


def _task_setup(bundle):
    if bundle.task == "classification":
        return "cross_entropy", ["accuracy"]
    return "mse", ["mae", "r2"]


# -------------------------------------------------------------------- train
def _build_model(spec, bundle):
    from . import io, presets

    if spec.lower() in presets.PRESETS:
        return presets.build_preset(spec.lower(), bundle.input_shape, bundle.num_outputs, bundle.image_shape), \
            spec.lower()
    if not os.path.isfile(spec):
        raise CLIError(f"--model: expected one of {presets.preset_names()} or a config .json file, "
                       f"received {spec!r} (no such file)")
    with open(spec, "rb") as handle:
        try:
            document = json.loads(handle.read())
        except ValueError as error:
            raise CLIError(f"--model: {spec} is not valid JSON ({error})") from None
    tree = document.get("architecture", document) if isinstance(document, dict) else document
    return io.build_model(tree), os.path.splitext(os.path.basename(spec))[0]


def _make_optimizer(name, params, lr):
    from . import optim

    classes = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
               "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    if name == "sgd":
        return classes[name](params, lr=lr, momentum=0.9)
    return classes[name](params, lr=lr)


def _cosine_schedule(base_lr, epochs):
    """lr of epoch e (0-based) = base_lr · (1 + cos(π e / epochs)) / 2: PyTorch's CosineAnnealingLR
    with T_max = epochs, stepped per epoch. A pure function of the epoch, so a resumed run
    follows the same curve (recomputed for a new --epochs)."""

    def schedule(epoch, lr):
        return base_lr * (1.0 + math.cos(math.pi * epoch / epochs)) / 2.0

    return schedule


def _threads_text(threads):
    return "BLAS threads: library default" if threads == 0 else f"BLAS threads: {threads}"


def _blas_threads(threads):
    """A context that limits the BLAS/OpenMP thread pools to ``threads`` (0: leave them as they are)."""
    import contextlib

    if threads == 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(f"note: --threads {threads} needs threadpoolctl (pip install threadpoolctl); "
              "set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS instead", file=sys.stderr)
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def _default_out(data, model_name):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", f"{os.path.basename(str(data).rstrip('/'))}-{model_name}-{stamp}")
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    return path


def _atomic_json(path, obj):
    from .io import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode())


def _save_plots(out, history, bundle, test_pred):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipping plots (pip install matplotlib)")
        return []
    written = []
    epochs = [e + 1 for e in history.epoch]
    pairs = [("loss", "loss.png")]
    if "accuracy" in history:
        pairs.append(("accuracy", "accuracy.png"))
    for key, filename in pairs:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(epochs, history[key], label=f"train {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(f"{bundle.name}: {key}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, filename), dpi=100)
        plt.close(fig)
        written.append(filename)
    if bundle.task == "classification" and test_pred is not None:
        from .train.metrics import predicted_classes

        xp = _xp()
        k = int(bundle.num_classes)
        matrix = xp.zeros((k, k), dtype=xp.int64)
        xp.add.at(matrix, (bundle.y_test.astype(xp.int64), predicted_classes(test_pred).astype(xp.int64)), 1)
        fig, ax = plt.subplots(figsize=(4.5 + 0.15 * k, 4 + 0.15 * k))
        image = ax.imshow(matrix, cmap="Blues")
        fig.colorbar(image, ax=ax)
        names = bundle.class_names or [str(i) for i in range(k)]
        ax.set_xticks(range(k), names, rotation=90 if k > 10 else 0)
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{bundle.name}: confusion matrix (test)")
        if k <= 12:
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] > matrix.max() / 2 else "black")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "confusion_matrix.png"), dpi=100)
        plt.close(fig)
        written.append("confusion_matrix.png")
    return written


def cmd_train(args) -> int:
    from . import io, presets
    from .rng import manual_seed
    from .train import (
        CSVLogger,
        LearningRateScheduler,
        ModelCheckpoint,
        TerminateOnNaN,
        evaluate,
        fit,
        predict,
    )

    bundle = _load_data(args.data, standardize=not args.no_standardize)
    manual_seed(args.seed)
    model, model_name = _build_model(args.model, bundle)
    defaults = presets.training_defaults(model_name if model_name in presets.PRESETS else None, len(bundle.X_train))
    epochs = args.epochs or defaults["epochs"]
    lr = args.lr or defaults["lr"]
    batch_size = args.batch_size or defaults["batch_size"]
    optimizer_name = args.optimizer or defaults["optimizer"]
    schedule = args.schedule or defaults["schedule"]
    optimizer = _make_optimizer(optimizer_name, model.parameters(), lr)
    loss, metrics = _task_setup(bundle)

    if args.resume and not os.path.isfile(args.resume):
        raise FileNotFoundError(f"--resume: no checkpoint at {args.resume}")
    out = args.out or (os.path.dirname(os.path.abspath(args.resume)) if args.resume
                       else _default_out(args.data, model_name))
    os.makedirs(out, exist_ok=True)
    checkpoint_path = os.path.join(out, "checkpoint.safetensors")
    nan_guard = TerminateOnNaN()
    callbacks = [nan_guard, CSVLogger(os.path.join(out, "history.csv")), ModelCheckpoint(checkpoint_path)]
    if schedule == "cosine":
        callbacks.append(LearningRateScheduler(_cosine_schedule(lr, epochs)))
    n_params = sum(int(p.data.size) for p in model.parameters())
    print(f"chainrule train: {model_name} ({n_params:,} parameters) on {bundle.name} "
          f"({len(bundle.X_train)} train / {len(bundle.X_test)} test), {epochs} epochs, "
          f"{optimizer_name} lr={lr:g} ({schedule}), batch {batch_size}, seed {args.seed}, "
          f"{_threads_text(args.threads)}")
    print(f"run folder: {out}")
    started = time.perf_counter()
    import warnings

    with warnings.catch_warnings(), _blas_threads(args.threads):
        warnings.simplefilter("ignore", RuntimeWarning)  # TerminateOnNaN's warning: reported below
        history = fit(
            model, (bundle.X_train, bundle.y_train), loss=loss, optimizer=optimizer, epochs=epochs,
            batch_size=batch_size, validation_split=args.val_split, metrics=metrics, callbacks=callbacks,
            progress=not args.no_progress, resume_from=args.resume, verbose=1,
            clip_grad_norm=defaults.get("clip_grad_norm"),
        )
    train_time = time.perf_counter() - started
    if nan_guard.terminated_batch is not None:
        raise CLIError(
            f"training diverged (the loss became NaN or infinite in epoch {len(history.epoch)}); "
            f"the model was not saved; try a smaller --lr (now {lr:g})"
        )
    with _blas_threads(args.threads):
        results = evaluate(model, (bundle.X_test, bundle.y_test), loss=loss, metrics=metrics)
        test_pred = predict(model, bundle.X_test)
    info = {
        "task": bundle.task, "data": str(args.data), "standardize": not args.no_standardize, "num_classes": bundle.num_classes,
        "class_names": bundle.class_names, "input_shape": list(bundle.input_shape),
        "feature_mean": None if bundle.feature_mean is None else _xp().asarray(bundle.feature_mean).tolist(),
        "feature_scale": None if bundle.feature_scale is None else _xp().asarray(bundle.feature_scale).tolist(),
    }
    io.save(model, os.path.join(out, "model"), info=info)
    last = history.last()
    summary = {
        "data": bundle.name, "model": model_name, "task": bundle.task, "parameters": n_params,
        "epochs": len(history.epoch), "batch_size": batch_size, "optimizer": optimizer_name, "lr": lr,
        "schedule": schedule, "threads": args.threads,
        "seed": args.seed, "val_split": args.val_split, "train_time_s": round(train_time, 3),
        **{f"test_{k}": v for k, v in results.items()},
        **{f"final_{k}": v for k, v in last.items() if k not in ("epoch_time",)},
    }
    _atomic_json(os.path.join(out, "metrics.json"), summary)
    plots = _save_plots(out, history, bundle, test_pred)
    shown = ", ".join(f"test_{k}: {v:.4f}" for k, v in results.items())
    print(f"{shown}  ({train_time:.1f} s)")
    print(f"saved model, checkpoint, metrics.json, history.csv{', plots' if plots else ''} to {out}")
    return EXIT_OK


# ----------------------------------------------------------------- evaluate
def cmd_evaluate(args) -> int:
    from .train import evaluate

    model, info = _load_model(args.model)
    data = args.data or info.get("data")
    if not data:
        raise CLIError("evaluate: --data is required (the model does not record its dataset)")
    bundle = _load_data(data, standardize=info.get("standardize", True))
    loss, metrics = _task_setup(bundle)
    X, y = (bundle.X_test, bundle.y_test) if args.split == "test" else (bundle.X_train, bundle.y_train)
    try:
        results = evaluate(model, (X, y), loss=loss, metrics=metrics)
    except ValueError as error:
        raise CLIError(f"evaluate: the model does not fit the data {bundle.name!r}: {error}") from None
    results = {"data": bundle.name, "split": args.split, "samples": len(X), **results}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
    return EXIT_OK


# ------------------------------------------------------------------ predict
def _read_input(path):
    xp = _xp()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"predict: no input file at {path}")
    lower = path.lower()
    if lower.endswith(".npy"):
        try:
            return xp.load(path, allow_pickle=False)
        except ValueError as error:
            raise CLIError(f"predict: cannot read {path} as .npy ({error})") from None
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _read_csv(path)
    if "idx" in os.path.basename(lower) or lower.endswith(("-ubyte", "-ubyte.gz")):
        from .data.datasets import read_idx

        return read_idx(path)
    raise CLIError(f"predict: cannot read {path}: expected a .npy, .csv or IDX (*-idx*-ubyte[.gz]) file")


def _read_csv(path):
    xp = _xp()
    with open(path, newline="") as handle:
        sample = handle.read(4096)
        delimiter = "\t" if "\t" in sample and "," not in sample else ","
        handle.seek(0)
        rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
    if rows and not all(_is_number(c) for c in rows[0]):
        rows = rows[1:]  # a header
    try:
        return xp.array([[float(c) for c in row] for row in rows], dtype=xp.float32)
    except ValueError:
        raise CLIError(f"predict: {path} has non-numeric or ragged rows") from None


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def cmd_predict(args) -> int:
    from .train import predict
    from .train.metrics import predicted_classes

    xp = _xp()
    model, info = _load_model(args.model)
    X = _read_input(args.input).astype(xp.float32)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    _check_predict_input(X, info, args.input)
    if not args.no_preprocess and info.get("feature_mean") is not None:
        X = (X.reshape(len(X), -1) - xp.asarray(info["feature_mean"], dtype=xp.float32).reshape(-1)) / \
            xp.asarray(info["feature_scale"], dtype=xp.float32).reshape(-1)
    try:
        outputs = predict(model, X)
    except ValueError as error:
        raise CLIError(f"predict: the input does not fit the model: {error}") from None
    classifier = info.get("task") == "classification" or (info.get("task") is None and outputs.ndim == 2
                                                            and outputs.shape[1] > 1)
    result = predicted_classes(outputs) if classifier and not args.raw else outputs
    if args.out:
        if args.out.endswith(".npy"):
            import io as _stdio

            from .io import atomic_write_bytes

            buffer = _stdio.BytesIO()
            xp.save(buffer, result, allow_pickle=False)
            atomic_write_bytes(args.out, buffer.getvalue())
        else:
            rows = result.reshape(len(result), -1)
            text = "\n".join(",".join(_fmt(v) for v in row) for row in rows) + "\n"
            from .io import atomic_write_bytes

            atomic_write_bytes(args.out, text.encode())
        print(f"wrote {len(result)} predictions to {args.out}")
    else:
        names = info.get("class_names") if classifier and not args.raw else None
        for row in result.reshape(len(result), -1):
            values = [names[int(v)] if names else _fmt(v) for v in row]
            print(",".join(values))
    return EXIT_OK


def _check_predict_input(X, info, source):
    """Refuse inputs the model cannot take: a wrong per-sample size, or NaN/inf values."""
    from .data import check_finite

    xp = _xp()
    if info.get("input_shape"):
        per_sample = int(xp.prod(info["input_shape"]))
        received = X.size // max(len(X), 1)
        if received != per_sample:
            raise CLIError(
                f"predict: {source} has {received} values per sample, but the model expects "
                f"{per_sample} (input shape {tuple(info['input_shape'])}); received array shape {X.shape}"
            )
    try:
        check_finite(X, f"predict: {source}")
    except ValueError as error:
        raise CLIError(str(error)) from None


def _fmt(value):
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, int) else f"{value:.6g}"


# ------------------------------------------------------------------ inspect
def _output_shapes(model, input_shape):
    """Run one zero sample through the model and record each module's output shape."""
    from .autograd import no_grad
    from .tensor import Tensor

    xp = _xp()
    shapes = {}
    patched = []
    for name, module in model.named_modules():
        original = module.forward

        def recorder(*a, _name=name, _original=original, **k):
            out = _original(*a, **k)
            first = out[0] if isinstance(out, tuple) else out
            shapes[_name] = tuple(first.shape) if hasattr(first, "shape") else None
            return out

        object.__setattr__(module, "forward", recorder)
        patched.append(module)
    try:
        dtype = next((p.dtype for p in model.parameters()), xp.float32)
        with no_grad():
            model.eval()(Tensor(xp.zeros((1, *input_shape), dtype=dtype)))
    except Exception:  # noqa: BLE001 - shapes are a best effort
        shapes = {}
    finally:
        for module in patched:
            del module.__dict__["forward"]
    return shapes


def _guess_input_shape(model, info):
    if info.get("input_shape"):
        return tuple(info["input_shape"])
    config = model.get_config() if hasattr(model, "get_config") else {}
    if "input_shape" in config:
        return tuple(config["input_shape"])
    for module in model.modules():
        if hasattr(module, "in_features"):
            return (module.in_features,)
        if hasattr(module, "in_channels"):
            return None
    return None


def cmd_inspect(args) -> int:
    model, info = _load_model(args.model)
    input_shape = _guess_input_shape(model, info)
    shapes = _output_shapes(model, input_shape) if input_shape else {}
    rows = []
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        own = sum(int(p.data.size) for p in module.parameters(recurse=False))
        shape = shapes.get(name)
        label = ("  " * depth) + (name.split(".")[-1] if name else "(model)")
        rows.append([label, type(module).__name__,
                     "-" if shape is None else "(N, " + ", ".join(map(str, shape[1:])) + ")",
                     f"{own:,}" if own else ""])
    total = sum(int(p.data.size) for p in model.parameters())
    trainable = sum(int(p.data.size) for p in model.parameters() if p.requires_grad)
    print(f"model: {_model_path(args.model)}")
    if input_shape:
        print(f"input: (N, {', '.join(map(str, input_shape))})")
    print(_table(["layer", "type", "output shape", "params"], rows))
    print(f"total parameters: {total:,} (trainable {trainable:,})")
    return EXIT_OK


# ----------------------------------------------------------------- datasets
def cmd_datasets(args) -> int:
    from .data import datasets

    infos = datasets.list_datasets()
    if args.json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
        return EXIT_OK
    rows = [[i.name, i.task, "yes" if i.available else "no", i.source, i.note] for i in infos]
    print(_table(["name", "task", "available", "source", "note"], rows))
    print("\nAny folder of MNIST-format IDX files, .csv or .npz file also works as --data PATH.")
    return EXIT_OK


# ---------------------------------------------------------------- gradcheck
def _gradcheck_suite():
    """(name, fn, inputs) cases in float64: primitives and small layers."""
    from . import functional as F
    from . import nn
    from .tensor import Tensor

    xp = _xp()
    rng = xp.random.default_rng(0)

    def t(*shape, positive=False):
        data = rng.uniform(0.5, 2.0, shape) if positive else rng.normal(size=shape)
        return Tensor(data, requires_grad=True, dtype=xp.float64)

    labels = Tensor(xp.array([0, 2, 1]))
    cases = [
        ("add/mul broadcast", lambda a, b: a * b + b, [t(3, 4), t(4)]),
        ("div, log, sqrt", lambda a, b: (a / b).log() + b.sqrt(), [t(2, 3, positive=True), t(2, 3, positive=True)]),
        ("matmul", lambda a, b: a @ b, [t(3, 4), t(4, 2)]),
        ("sum/mean/max", lambda a: a.sum(axis=0) + a.mean(axis=0) + a.max(axis=0), [t(4, 3)]),
        ("relu, sigmoid, tanh", lambda a: F.relu(a) + F.sigmoid(a) + F.tanh(a), [t(3, 4)]),
        ("gelu, leaky_relu", lambda a: F.gelu(a) + F.leaky_relu(a), [t(3, 4)]),
        ("softmax, log_softmax", lambda a: F.softmax(a) * F.log_softmax(a), [t(3, 4)]),
        ("linear", lambda x, w, b: F.linear(x, w, b), [t(3, 4), t(2, 4), t(2)]),
        ("cross_entropy", lambda a: F.cross_entropy(a, labels), [t(3, 4)]),
        ("mse_loss", lambda a, b: F.mse_loss(a, b), [t(3, 2), t(3, 2)]),
        ("bce_with_logits", lambda a: F.binary_cross_entropy_with_logits(
            a, Tensor(xp.array([[0.0], [1.0], [1.0]]))), [t(3, 1)]),
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


def _run_gradcheck(name, fn, inputs):
    from .autograd import gradcheck

    started = time.perf_counter()
    try:
        gradcheck(fn, inputs)
        status, detail = "pass", ""
    except AttributeError as error:
        status, detail = "skip", f"not available: {error}"
    except Exception as error:  # noqa: BLE001 - each case reports its own failure
        status, detail = "FAIL", str(error).splitlines()[0][:100]
    return [name, status, f"{(time.perf_counter() - started) * 1000:.0f} ms", detail]


def _model_gradcheck_cases(args):
    from .tensor import Tensor

    xp = _xp()
    model, info = _load_model(args.model)
    input_shape = _guess_input_shape(model, info)
    if input_shape is None:
        raise CLIError("gradcheck: cannot tell the model's input shape; it records none")
    model.double().train()
    rng = xp.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, *input_shape)), requires_grad=True, dtype=xp.float64)
    drop = [m for m in model.modules() if type(m).__name__ == "Dropout"]
    for m in drop:  # a random mask would change between the perturbed evaluations
        m.eval()

    def forward(x_, *params):
        out = model(x_)
        return out[0] if isinstance(out, tuple) else out

    cases = [("model input", forward, [x])]
    for name, param in model.named_parameters():
        if param.data.size > args.max_params:
            continue
        x_fixed = Tensor(x.data, dtype=xp.float64)
        cases.append((f"param {name} {tuple(param.shape)}", lambda p, _x=x_fixed: forward(_x), [param]))
    skipped = [n for n, p in model.named_parameters() if p.data.size > args.max_params]
    return cases, skipped


def cmd_gradcheck(args) -> int:
    skipped = []
    if args.model:
        cases, skipped = _model_gradcheck_cases(args)
    else:
        cases = _gradcheck_suite()
    rows = [_run_gradcheck(name, fn, inputs) for name, fn, inputs in cases]
    print(_table(["check", "result", "time", "detail"], rows))
    failed = sum(r[1] == "FAIL" for r in rows)
    passed = sum(r[1] == "pass" for r in rows)
    if skipped:
        print(f"skipped {len(skipped)} parameter tensors larger than --max-params {args.max_params}: "
              + ", ".join(skipped))
    print(f"{passed} passed, {failed} failed, {len(rows) - passed - failed} skipped")
    return EXIT_FAILED if failed else EXIT_OK


# ------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="Train, evaluate and inspect neural networks written on NumPy.",
        epilog="Run 'chainrule COMMAND --help' for a command's options. "
               "'chainrule train' with no options trains an MLP on the digits set.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name, help_text, description):
        p = sub.add_parser(name, help=help_text, description=description)
        p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
        return p

    p = add("train", "train a model on a dataset and save the run",
            "Train a preset (or a model from an architecture JSON) on a dataset; save the model, "
            "a checkpoint, metrics.json, history.csv and plots in the run folder.")
    p.add_argument("--data", default="digits", metavar="NAME|PATH",
                   help="dataset name (see 'chainrule datasets') or a path to IDX folder/.csv/.npz (default: digits)")
    p.add_argument("--model", default="mlp", metavar="mlp|cnn|gru|lstm|CONFIG.json",
                   help="model preset or an architecture JSON (default: mlp)")
    p.add_argument("--epochs", type=_positive_int,
                   help="epochs (default: the preset's; fewer for training sets of 20000+ samples)")
    p.add_argument("--batch-size", type=_positive_int, help="mini-batch size (default: the preset's)")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the preset's)")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                   help="optimizer (default: the preset's, adam); sgd uses momentum 0.9")
    p.add_argument("--schedule", choices=["cosine", "constant"],
                   help="learning-rate schedule: 'cosine' decays from --lr towards 0 over the epochs "
                        "(default: the preset's, cosine)")
    p.add_argument("--threads", type=_non_negative_int, default=1, metavar="N",
                   help="BLAS threads during training (default: 1, fastest for chainrule's small matrices and "
                        "safe on a shared machine; 0 leaves the BLAS default)")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation, shuffling and dropout (default: 0)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<data>-<model>-<time>)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint.safetensors of an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-standardize", action="store_true",
                   help="do not standardise the features with training-set mean and std (default: standardise)")
    p.add_argument("--val-split", type=_fraction, default=0.1, metavar="F",
                   help="fraction of the training set held out for validation (default: 0.1)")
    p.set_defaults(handler=cmd_train)

    p = add("evaluate", "print a saved model's loss and metrics on a dataset",
            "Evaluate a saved model (or a run folder) on a dataset's test split.")
    p.add_argument("model", metavar="RUN_OR_MODEL", help="a run folder, a model folder or a .safetensors file")
    p.add_argument("--data", metavar="NAME|PATH", help="dataset (default: the one the model was trained on)")
    p.add_argument("--split", choices=["test", "train"], default="test", help="which split (default: test)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(handler=cmd_evaluate)

    p = add("predict", "predict with a saved model on a .csv, .npy or IDX file",
            "Print (or write) the model's predictions: class labels for classifiers, values for regressors.")
    p.add_argument("model", metavar="MODEL", help="a run folder, a model folder or a .safetensors file")
    p.add_argument("input", metavar="INPUT", help="samples as .npy, .csv (one sample a row) or an IDX file")
    p.add_argument("--out", metavar="FILE", help="write predictions to FILE (.npy or text/CSV) instead of printing")
    p.add_argument("--raw", action="store_true", help="print raw model outputs (logits) instead of labels")
    p.add_argument("--no-preprocess", action="store_true",
                   help="do not apply the standardisation recorded with the model")
    p.set_defaults(handler=cmd_predict)

    p = add("inspect", "show a saved model's layers, output shapes and parameter counts",
            "Print a table of the model's layers with output shapes (when the input shape is known) "
            "and parameter counts.")
    p.add_argument("model", metavar="MODEL", help="a run folder, a model folder or a .safetensors file")
    p.set_defaults(handler=cmd_inspect)

    p = add("datasets", "list the datasets, where they come from and whether they are available",
            "List the named datasets with their task, source and availability on this machine.")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_datasets)

    p = add("gradcheck", "check gradients of the primitives and layers (or a model) in float64",
            "Compare analytic gradients with central finite differences in float64 for a built-in "
            "suite of primitives and layers, or for a saved model on a tiny batch.")
    p.add_argument("--model", metavar="MODEL", help="check this saved model instead of the built-in suite")
    p.add_argument("--max-params", type=_positive_int, default=2000,
                   help="with --model: skip parameter tensors with more elements (default: 2000)")
    p.set_defaults(handler=cmd_gradcheck)
    return parser


def main(argv=None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else (EXIT_OK if exit_.code is None else EXIT_ERROR)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, FileNotFoundError) and error.filename and str(error.filename) not in message:
            message = f"{message}: {error.filename}"
        print(f"chainrule: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
