"""``chainrule attribute``: explain a saved model's predictions on samples from a file.

Writes ``attributions.npy`` (one map per sample, in the sample's layout), ``summary.json``
(method, targets, predictions, completeness deltas) and one picture per sample: for images the
heatmap over the image next to the image, for 1-D signals the signal coloured by attribution,
for tabular data a bar chart of the top features by name (the CSV header, else the training
set's feature names).
"""

from __future__ import annotations

import csv
import functools
import io as _stdio
import os

from ._common import EXIT_OK, CLIError, add_command, atomic_json, load_model, positive_int, xp

METHODS = {"ig": "integrated gradients", "saliency": "saliency", "smoothgrad": "SmoothGrad",
           "grad-cam": "Grad-CAM", "occlusion": "occlusion"}


def add_parser(subparsers):
    p = add_command(
        subparsers, "attribute",
        "explain a saved model's predictions (attribution maps and pictures)",
        "Attribute the model's output for each sample of INPUT to its input features: integrated "
        "gradients (default), saliency, SmoothGrad, Grad-CAM (conv models) or occlusion. Writes "
        "attributions.npy, summary.json and one PNG per sample to --out.", run)
    p.add_argument("run", metavar="RUN", help="a run folder, a model folder or a .safetensors file")
    p.add_argument("input", metavar="INPUT",
                   help="samples as .npy, .csv (one sample a row, optional header) or an IDX file")
    p.add_argument("--method", choices=list(METHODS), default="ig",
                   help="attribution method (default: ig, integrated gradients)")
    p.add_argument("--target", metavar="CLASS",
                   help="the class to explain, as an index or a class name (default: each "
                        "sample's predicted class)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: RUN/attributions-METHOD, or "
                        "./attributions-METHOD)")
    p.add_argument("--steps", type=positive_int, default=50,
                   help="integrated gradients: path steps (default 50)")
    p.add_argument("--samples", type=positive_int, default=25,
                   help="SmoothGrad: noisy copies per sample (default 25)")
    p.add_argument("--layer", metavar="NAME",
                   help="Grad-CAM: the conv layer's dotted name (default: the last conv layer)")
    p.add_argument("--baseline", choices=["zero", "mean"],
                   help="integrated gradients and occlusion: all-zero inputs, or the training mean "
                        "recorded with the model (default: mean for standardised tabular data, "
                        "else zero)")
    p.add_argument("--max-pictures", type=int, default=16, metavar="N",
                   help="pictures for the first N samples (default 16; 0 for none)")
    p.add_argument("--seed", type=int, default=0, help="SmoothGrad's noise seed (default 0)")
    return p


# -------------------------------------------------------------------- input
def _read_samples(path):
    """(samples as float32 rows or arrays, feature names from a CSV header or None)."""
    np_ = xp()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"attribute: no input file at {path}")
    lower = path.lower()
    if lower.endswith(".npy"):
        try:
            return np_.load(path, allow_pickle=False).astype(np_.float32), None
        except ValueError as error:
            raise CLIError(f"attribute: cannot read {path} as .npy ({error})") from None
    if lower.endswith((".csv", ".txt", ".tsv")):
        with open(path, newline="") as handle:
            sample = handle.read(4096)
            delimiter = "\t" if "\t" in sample and "," not in sample else ","
            handle.seek(0)
            rows = [row for row in csv.reader(handle, delimiter=delimiter) if row]
        names = None
        if rows and not all(_is_number(cell) for cell in rows[0]):
            names, rows = [cell.strip() for cell in rows[0]], rows[1:]
        try:
            return np_.array([[float(c) for c in row] for row in rows], dtype=np_.float32), names
        except ValueError:
            raise CLIError(f"attribute: {path} has non-numeric or ragged rows") from None
    if "idx" in os.path.basename(lower) or lower.endswith(("-ubyte", "-ubyte.gz")):
        from ..data.datasets import read_idx

        images = read_idx(path).astype(np_.float32)
        return images / 255.0 if images.max() > 1 else images, None
    raise CLIError(f"attribute: cannot read {path}: expected a .npy, .csv or IDX "
                   "(*-idx*-ubyte[.gz]) file")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


@functools.lru_cache(maxsize=4)
def _training_set(name):
    """The data set the model was trained on (for its layout and feature names), or None."""
    if not name:
        return None
    try:
        from ..data import datasets

        return datasets.load(name)
    except Exception:  # noqa: BLE001 - the data may be gone; the pictures then fall back
        return None


def _layout(model, info, per_sample):
    """(one sample's layout, picture kind 'image' | 'signal' | 'tabular')."""
    shape = tuple(info.get("input_shape") or getattr(model, "input_shape", None) or (per_sample,))
    image_shape = info.get("image_shape")
    if len(shape) == 1 and "image_shape" not in info:  # a run saved before it was recorded
        bundle = _training_set(info.get("data"))
        image_shape = bundle.image_shape if bundle is not None else None
    if len(shape) == 1 and image_shape and int(xp().prod(image_shape)) == per_sample:
        shape = tuple(image_shape)
    return shape, {3: "image", 2: "signal"}.get(len(shape), "tabular")


# ------------------------------------------------------------------ methods
def _target(text, class_names):
    if text is None:
        return None
    if class_names and text in class_names:
        return class_names.index(text)
    try:
        return int(text)
    except ValueError:
        names = f"; class names: {', '.join(class_names)}" if class_names else ""
        raise CLIError(f"attribute: --target expected a class index or name, received "
                       f"{text!r}{names}") from None


def _occlusion_window(kind, shape):
    if kind == "image":
        side = max(2, min(shape[1:]) // 7)
        return (side, side), (max(1, side // 2),) * 2
    if kind == "signal":
        width = max(2, shape[-1] // 10)
        return (width,), (max(1, width // 2),)
    return (1,), (1,)


def _attribute(args, model, X, targets, baseline, kind, shape):
    """(attributions, completeness deltas or None) for the chosen method."""
    from .. import explain

    if args.method == "ig":
        return explain.integrated_gradients(model, X, target=targets, baseline=baseline,
                                            steps=args.steps, return_delta=True)
    if args.method == "saliency":
        return explain.saliency(model, X, target=targets), None
    if args.method == "smoothgrad":
        spread = float(X.max() - X.min()) or 1.0
        return explain.smoothgrad(model, X, target=targets, samples=args.samples,
                                  stdev=0.15 * spread, generator=args.seed), None
    if args.method == "grad-cam":
        return explain.grad_cam(model, X, target=targets, layer=args.layer), None
    window, stride = _occlusion_window(kind, shape)
    if kind != "tabular" and len(shape) > len(window):
        window, stride = (shape[0],) + window, (shape[0],) + stride
    return explain.occlusion(model, X, target=targets, window=window, stride=stride,
                             baseline=baseline), None


# ------------------------------------------------------------------ outputs
def _save_npy(path, array):
    from ..io import atomic_write_bytes

    buffer = _stdio.BytesIO()
    xp().save(buffer, array, allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _pictures(out, kind, samples, maps, names, predicted, probabilities, targets, class_names,
              method, count):
    from ..explain import plots

    written = []
    for i in range(min(count, len(samples))):
        title = plots.caption(i, predicted[i], targets[i], class_names,
                              None if probabilities is None else probabilities[i])
        path = os.path.join(out, f"sample_{i:03d}.png")
        if kind == "image":
            plots.plot_image(samples[i], maps[i], title, path, method=method)
        elif kind == "signal":
            plots.plot_signal(samples[i], maps[i], title, path, method=method)
        else:
            plots.plot_features(samples[i], maps[i], names, title=title, path=path, method=method)
        written.append(path)
    return written


def run(args) -> int:
    from ..data import check_finite
    from ..explain import StandardizedInput
    from ..explain._model import predict_targets
    from ..functional import softmax

    np_ = xp()
    model, info = load_model(args.run)
    X, header = _read_samples(args.input)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if len(X) == 0:
        raise CLIError(f"attribute: {args.input} holds no samples")
    try:
        check_finite(X, f"attribute: {args.input}")
    except ValueError as error:
        raise CLIError(str(error)) from None
    per_sample = X.size // len(X)
    shape, kind = _layout(model, info, per_sample)
    if int(np_.prod(shape)) != per_sample:
        raise CLIError(f"attribute: {args.input} has {per_sample} values per sample, but the "
                       f"model expects {int(np_.prod(shape))} (input shape {shape}); received "
                       f"array shape {X.shape}")
    samples = X.reshape((len(X),) + shape)
    mean, scale = info.get("feature_mean"), info.get("feature_scale")
    if mean is not None:
        model = StandardizedInput(model, np_.asarray(mean).reshape(-1),
                                  np_.asarray(scale).reshape(-1))
    baseline_kind = args.baseline or ("mean" if mean is not None and kind == "tabular" else "zero")
    if baseline_kind == "mean" and mean is None:
        raise CLIError("attribute: --baseline mean needs the training mean, and this model was "
                       "trained on features that were not standardised; use --baseline zero")
    baseline = (np_.asarray(mean, dtype=np_.float32).reshape(shape) if baseline_kind == "mean"
                else 0.0)

    model.eval()
    outputs = predict_targets("attribute", model, samples, len(samples))
    classifier = info.get("task") == "classification" or (info.get("task") is None
                                                            and outputs.shape[1] > 1)
    class_names = info.get("class_names") if classifier else None
    predicted = outputs.argmax(axis=1) if outputs.shape[1] > 1 else np_.zeros(len(X), dtype=int)
    probabilities = None
    if classifier and outputs.shape[1] > 1:
        probabilities = softmax(outputs, axis=1).data[np_.arange(len(X)), predicted]
    target = _target(args.target, class_names)
    targets = predicted if target is None else np_.full(len(X), target)
    maps, delta = _attribute(args, model, samples, targets if target is None else target,
                             baseline, kind, shape)

    out = args.out or os.path.join(args.run if os.path.isdir(args.run) else ".",
                                   f"attributions-{args.method}")
    os.makedirs(out, exist_ok=True)
    _save_npy(os.path.join(out, "attributions.npy"), maps)
    summary = {"method": args.method, "input": args.input, "samples": len(X),
               "sample_shape": list(shape), "baseline": baseline_kind,
               "targets": targets.tolist(), "predicted": predicted.tolist()}
    if class_names:
        summary["class_names"] = class_names
    if delta is not None:
        summary["completeness_delta"] = np_.asarray(delta).tolist()
    atomic_json(os.path.join(out, "summary.json"), summary)
    names = header
    if names is None and kind == "tabular":
        bundle = _training_set(info.get("data"))
        names = bundle.feature_names if bundle is not None else None
    if names is not None and len(names) != per_sample:
        names = None
    pictures = _pictures(out, kind, samples, maps, names, predicted, probabilities, targets,
                         class_names, METHODS[args.method], max(args.max_pictures, 0))
    note = ""
    if delta is not None:
        note = f" (largest |completeness delta| {float(np_.abs(delta).max()):.2g})"
    print(f"{METHODS[args.method]} for {len(X)} samples{note}; wrote attributions.npy "
          f"{tuple(maps.shape)}, summary.json and {len(pictures)} pictures to {out}")
    return EXIT_OK
