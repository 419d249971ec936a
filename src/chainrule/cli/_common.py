"""What every subcommand shares: the error type, the parser, option types, model loading, tables."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """A user-facing error: printed as one line; the exit status is ``exit_status`` (2)."""

    def __init__(self, message: str, *, exit_status: int = EXIT_ERROR):
        super().__init__(message)
        self.exit_status = exit_status


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``chainrule: error: ...``) and exit status 2."""

    def error(self, message):
        sub = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        print(f"chainrule: error: {sub}{message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def one_line(error: BaseException) -> str:
    """The error as one line; an OSError names its file, without the ``[Errno N]`` prefix."""
    if isinstance(error, OSError) and error.strerror and not isinstance(error, CLIError):
        names = [str(n) for n in (error.filename, error.filename2) if n]
        return f"{error.strerror}: {' -> '.join(names)}" if names else error.strerror
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return message


def add_command(subparsers, name: str, help_text: str, description: str, handler):
    """Add subcommand ``name`` (with ``--debug``) whose ``handler(args) -> int`` runs it."""
    parser = subparsers.add_parser(name, help=help_text, description=description)
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.set_defaults(handler=handler)
    return parser


# ------------------------------------------------------------ option types
def argument(convert, accept, expected):
    """An argparse ``type=``: ``convert`` the text, then check it with ``accept``; one message
    for both."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")
        return value

    return parse


positive_int = argument(int, lambda v: v >= 1, "a positive integer")
non_negative_int = argument(int, lambda v: v >= 0, "an integer >= 0")
positive_float = argument(float, lambda v: v > 0 and math.isfinite(v), "a positive number")
fraction = argument(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


# ------------------------------------------------------------------ helpers
def xp():
    from ..backend import xp as module

    return module


def load_data(info: dict, data=None):
    """The dataset a saved model was trained on (or ``data``), loaded as training loaded it."""
    from ..data import datasets

    options = {} if info.get("target") is None else {"target": info["target"]}
    same = data is None or data == info.get("data")
    return datasets.load(data or info["data"], standardize=info.get("standardize", True),
                         task=info.get("task"),
                         test_data=info.get("test_data") if same else None, **options)


def model_path(run_or_model):
    """A run folder holds its model in ``model/``; anything else is the model path itself."""
    if os.path.isdir(run_or_model) and os.path.isdir(os.path.join(run_or_model, "model")):
        return os.path.join(run_or_model, "model")
    if not os.path.exists(run_or_model):
        raise FileNotFoundError(f"no model or run folder at {run_or_model}")
    return run_or_model


def load_model(run_or_model):
    """(network, info) of a run folder, a model folder, a .safetensors file or an estimator
    folder; for an estimator, ``info["estimator"]`` holds it and the network is its ``model_``.
    """
    from .. import io, nn

    path = model_path(run_or_model)
    loaded = io.load(path)
    if isinstance(loaded, nn.Module):
        return loaded, io.read_info(path)
    classes = getattr(loaded, "classes_", None)
    features = int(getattr(loaded, "n_features_in_", 0) or 0)
    info = {"estimator": loaded, "input_shape": [features] if features else None,
            "task": "regression" if classes is None else "classification",
            "class_names": None if classes is None else [str(c) for c in classes]}
    return loaded.model_, info


def table(headers, rows) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells[1:]]
    return "\n".join(lines)


def task_setup(bundle):
    """The loss and metrics ``fit``/``evaluate`` use for the bundle's task."""
    if bundle.task == "classification":
        return "cross_entropy", ["accuracy"]
    return "mse", ["mae", "r2"]


def atomic_json(path, obj):
    from ..io import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode())


def threads_text(threads):
    return "BLAS threads: library default" if threads == 0 else f"BLAS threads: {threads}"


def blas_threads(threads):
    """A context that limits the BLAS/OpenMP thread pools to ``threads`` (0: leave them)."""
    if threads == 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(f"note: --threads {threads} needs threadpoolctl (pip install threadpoolctl); "
              "set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS instead", file=sys.stderr)
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def guess_input_shape(model, info):
    """One sample's shape: from the model's info, its config, or its first layer."""
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
