"""``chainrule predict``: a saved model's predictions for new samples.

Reads every format ``train`` reads: a CSV file (columns matched to the
training file's by header name), a ``.npz`` (its ``X``), a ``.npy`` array, an
IDX file or a folder of IDX files (its test images), and applies the training
run's preprocessing. Prints (or writes with ``--out``) one prediction a line:
class names for classifiers, values for regressors; ``--proba`` adds each
class's probability. Run folders, model folders, ``.safetensors`` files and
folders saved by :mod:`chainrule.estimators` all work as MODEL.
"""

from __future__ import annotations

import os

from ._common import EXIT_OK, CLIError, add_command, load_model, positive_int, xp


def add_parser(subparsers):
    p = add_command(subparsers, "predict",
                    "predict with a saved model on a .csv, .npz, .npy or IDX file",
                    "Print (or write) the model's predictions: class names for classifiers "
                    "(with --proba, each class's probability too), values for regressors.", run)
    p.add_argument("model", metavar="MODEL",
                   help="a run folder, a model folder, a .safetensors file or an estimator folder")
    p.add_argument("input", metavar="INPUT",
                   help="samples as .csv (one a row; columns matched by header name), .npz "
                        "(array X), .npy, an IDX file or an IDX folder (its test images)")
    p.add_argument("--out", metavar="FILE",
                   help="write the predictions to FILE instead of printing them: .npy (an array) "
                        "or any other name (the printed text)")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--proba", action="store_true",
                        help="classifiers: print each class's probability after the label")
    output.add_argument("--raw", action="store_true",
                        help="print raw model outputs (logits) instead of labels")
    p.add_argument("--no-preprocess", action="store_true",
                   help="do not apply the standardisation recorded with the model")
    p.add_argument("--max-data-mb", type=positive_int, metavar="MB",
                   help="the largest input file read, in MiB (default: 256)")
    return p


# ------------------------------------------------------------------- input
def _csv_features(path, info, max_bytes):
    """The CSV's feature columns in the model's order (by header name when both have names)."""
    from ..data.datasets import csv_layout, read_csv_columns
    from ..data.datasets.files import check_finite_records

    layout = csv_layout(path, max_bytes=max_bytes)
    names, expected = layout.names, info.get("feature_names")
    target = info.get("target_name")
    if layout.header and expected:
        missing = [n for n in expected if n not in names]
        extra = [n for n in names if n not in expected and n != target]
        if missing or extra:
            parts = ([f"missing column(s) {missing}"] if missing else []) + \
                    ([f"unknown column(s) {extra}"] if extra else [])
            raise CLIError(f"predict: {path}: {' and '.join(parts)}; the model takes the "
                           f"columns {expected}")
        if target in names:
            print(f"note: ignoring the target column {target!r} of {path}")
        columns = [names.index(n) for n in expected]
    else:
        columns = list(range(len(names)))
        if expected and len(columns) != len(expected):
            raise CLIError(
                f"predict: {path} has {len(columns)} columns and no header row, but the model "
                f"takes {len(expected)} columns {expected}; add the header row to match them "
                "by name")
    X, _, lines = read_csv_columns(layout, columns)
    check_finite_records(layout.path, X, "", lines, [names[k] for k in columns])
    return X


def _read_input(path, info, max_bytes):
    from ..data.datasets.files import (
        find_idx_files,
        idx_images_as_float,
        read_idx,
        read_npy,
        read_npz,
    )

    if os.path.isdir(path):
        images = find_idx_files(path).get(("test", "images"))
        if images is None:
            raise CLIError(f"predict: {path} is a folder without IDX test images "
                           "(t10k-images-idx3-ubyte[.gz])")
        return idx_images_as_float(read_idx(images, max_bytes=max_bytes))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"predict: no input file at {path}")
    lower = path.lower()
    if lower.endswith(".npy"):
        return read_npy(path, max_bytes=max_bytes)
    if lower.endswith(".npz"):
        arrays = read_npz(path, max_bytes=max_bytes)
        key = "X" if "X" in arrays else "X_test" if "X_test" in arrays else None
        if key is None:
            raise CLIError(f"predict: {path} holds no array 'X' (it holds {sorted(arrays)})")
        return arrays[key]
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _csv_features(path, info, max_bytes)
    if "idx" in os.path.basename(lower) or lower.endswith(("-ubyte", "-ubyte.gz")):
        data = read_idx(path, max_bytes=max_bytes)
        return idx_images_as_float(data) if data.ndim >= 2 else data
    raise CLIError(f"predict: cannot read {path}: expected a .csv, .npz, .npy or IDX "
                   "(*-idx*-ubyte[.gz]) file, or a folder of IDX files")


def _check_input(X, info, source):
    """Refuse inputs the model cannot take: a wrong per-sample size, or NaN/inf values."""
    from ..data.datasets.files import check_finite_records

    np_ = xp()
    if X.dtype.kind not in "biuf":
        raise CLIError(f"predict: {source} holds {X.dtype} values; expected numbers")
    if info.get("input_shape"):
        per_sample = int(np_.prod(info["input_shape"]))
        received = X.size // max(len(X), 1)
        if received != per_sample:
            raise CLIError(
                f"predict: {source} has {received} values per sample, but the model expects "
                f"{per_sample} (input shape {tuple(info['input_shape'])}); received array shape "
                f"{X.shape}")
    check_finite_records(source, X, "")


# ------------------------------------------------------------------ output
def _softmax(logits):
    np_ = xp()
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np_.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _predictions(model, info, X, args):
    """(array to save, text lines to show) for the model on X."""
    from ..train import predict
    from ..train.metrics import predicted_classes

    np_ = xp()
    estimator = info.get("estimator")
    classifier = info.get("task") == "classification"
    if args.proba and not classifier:
        raise CLIError("--proba: the model is a regressor; it has no class probabilities")
    if estimator is not None:
        if args.raw:
            raise CLIError("--raw: an estimator folder gives predictions, not raw outputs")
        flat = X.reshape(len(X), -1)
        labels = np_.asarray(estimator.predict(flat))
        proba = np_.asarray(estimator.predict_proba(flat)) if args.proba else None
        names = [str(c) for c in labels.reshape(-1)] if classifier else None
    else:
        try:
            outputs = np_.asarray(predict(model, X))
        except ValueError as error:
            raise CLIError(f"predict: the input does not fit the model: {error}") from None
        if info.get("task") is None:
            classifier = outputs.ndim == 2 and outputs.shape[1] > 1
        if args.raw or not classifier:
            return outputs, [",".join(_fmt(v) for v in row)
                             for row in outputs.reshape(len(outputs), -1)]
        indices = predicted_classes(outputs)
        class_names = info.get("class_names")
        names = [class_names[int(i)] if class_names else str(int(i)) for i in indices]
        labels = np_.asarray(names) if class_names else indices
        proba = _softmax(outputs.astype(np_.float64)) if args.proba else None
    if not classifier:
        return labels, [",".join(_fmt(v) for v in np_.atleast_1d(row))
                        for row in labels.reshape(len(labels), -1)]
    if proba is None:
        return labels, names
    header = info.get("class_names") or [str(k) for k in range(proba.shape[1])]
    lines = ["label," + ",".join(f"p({c})" for c in header)]
    lines += [name + "," + ",".join(f"{p:.6g}" for p in row) for name, row in zip(
        names, proba, strict=True)]
    return proba, lines


def _fmt(value):
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def run(args) -> int:
    from ..data.datasets import DEFAULT_MAX_BYTES

    np_ = xp()
    max_bytes = DEFAULT_MAX_BYTES if args.max_data_mb is None else args.max_data_mb << 20
    model, info = load_model(args.model)
    X = np_.asarray(_read_input(args.input, info, max_bytes))
    _check_input(X, info, args.input)
    X = X.astype(np_.float32)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if not args.no_preprocess and info.get("feature_mean") is not None:
        mean = np_.asarray(info["feature_mean"], dtype=np_.float32).reshape(-1)
        scale = np_.asarray(info["feature_scale"], dtype=np_.float32).reshape(-1)
        X = ((X.reshape(len(X), -1) - mean) / scale).reshape(X.shape)
    result, lines = _predictions(model, info, X, args)
    if args.out:
        from ..io import atomic_write_bytes

        if args.out.endswith(".npy"):
            import io as _stdio

            buffer = _stdio.BytesIO()
            np_.save(buffer, result, allow_pickle=False)
            atomic_write_bytes(args.out, buffer.getvalue())
        else:
            atomic_write_bytes(args.out, ("\n".join(lines) + "\n").encode())
        print(f"wrote {len(X)} predictions to {args.out}")
    else:
        print("\n".join(lines))
    return EXIT_OK
