"""``chainrule predict``: a saved model's predictions for samples in a .npy, .csv or IDX file."""

from __future__ import annotations

import csv
import os

from ._common import EXIT_OK, CLIError, add_command, load_model, xp


def add_parser(subparsers):
    p = add_command(subparsers, "predict", "predict with a saved model on a .csv, .npy or IDX file",
                    "Print (or write) the model's predictions: class labels for classifiers, "
                    "values for regressors.", run)
    p.add_argument("model", metavar="MODEL",
                   help="a run folder, a model folder or a .safetensors file")
    p.add_argument("input", metavar="INPUT",
                   help="samples as .npy, .csv (one sample a row) or an IDX file")
    p.add_argument("--out", metavar="FILE",
                   help="write predictions to FILE (.npy or text/CSV) instead of printing")
    p.add_argument("--raw", action="store_true",
                   help="print raw model outputs (logits) instead of labels")
    p.add_argument("--no-preprocess", action="store_true",
                   help="do not apply the standardisation recorded with the model")
    return p


def _read_input(path):
    np_ = xp()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"predict: no input file at {path}")
    lower = path.lower()
    if lower.endswith(".npy"):
        try:
            return np_.load(path, allow_pickle=False)
        except ValueError as error:
            raise CLIError(f"predict: cannot read {path} as .npy ({error})") from None
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _read_csv(path)
    if "idx" in os.path.basename(lower) or lower.endswith(("-ubyte", "-ubyte.gz")):
        from ..data.datasets import read_idx

        return read_idx(path)
    raise CLIError(f"predict: cannot read {path}: expected a .npy, .csv or IDX "
                   "(*-idx*-ubyte[.gz]) file")


def _read_csv(path):
    np_ = xp()
    with open(path, newline="") as handle:
        sample = handle.read(4096)
        delimiter = "\t" if "\t" in sample and "," not in sample else ","
        handle.seek(0)
        rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
    if rows and not all(_is_number(c) for c in rows[0]):
        rows = rows[1:]  # a header
    try:
        return np_.array([[float(c) for c in row] for row in rows], dtype=np_.float32)
    except ValueError:
        raise CLIError(f"predict: {path} has non-numeric or ragged rows") from None


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def run(args) -> int:
    from ..train import predict
    from ..train.metrics import predicted_classes

    np_ = xp()
    model, info = load_model(args.model)
    X = _read_input(args.input).astype(np_.float32)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    _check_input(X, info, args.input)
    if not args.no_preprocess and info.get("feature_mean") is not None:
        mean = np_.asarray(info["feature_mean"], dtype=np_.float32).reshape(-1)
        scale = np_.asarray(info["feature_scale"], dtype=np_.float32).reshape(-1)
        X = (X.reshape(len(X), -1) - mean) / scale
    try:
        outputs = predict(model, X)
    except ValueError as error:
        raise CLIError(f"predict: the input does not fit the model: {error}") from None
    classifier = info.get("task") == "classification" or (
        info.get("task") is None and outputs.ndim == 2 and outputs.shape[1] > 1)
    result = predicted_classes(outputs) if classifier and not args.raw else outputs
    if args.out:
        from ..io import atomic_write_bytes

        if args.out.endswith(".npy"):
            import io as _stdio

            buffer = _stdio.BytesIO()
            np_.save(buffer, result, allow_pickle=False)
            atomic_write_bytes(args.out, buffer.getvalue())
        else:
            rows = result.reshape(len(result), -1)
            text = "\n".join(",".join(_fmt(v) for v in row) for row in rows) + "\n"
            atomic_write_bytes(args.out, text.encode())
        print(f"wrote {len(result)} predictions to {args.out}")
    else:
        names = info.get("class_names") if classifier and not args.raw else None
        for row in result.reshape(len(result), -1):
            values = [names[int(v)] if names else _fmt(v) for v in row]
            print(",".join(values))
    return EXIT_OK


def _check_input(X, info, source):
    """Refuse inputs the model cannot take: a wrong per-sample size, or NaN/inf values."""
    from ..data import check_finite

    np_ = xp()
    if info.get("input_shape"):
        per_sample = int(np_.prod(info["input_shape"]))
        received = X.size // max(len(X), 1)
        if received != per_sample:
            raise CLIError(
                f"predict: {source} has {received} values per sample, but the model expects "
                f"{per_sample} (input shape {tuple(info['input_shape'])}); received array shape "
                f"{X.shape}"
            )
    try:
        check_finite(X, f"predict: {source}")
    except ValueError as error:
        raise CLIError(str(error)) from None


def _fmt(value):
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, int) else f"{value:.6g}"
