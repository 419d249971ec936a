"""``chainrule train``: train a preset (or an architecture JSON) on a dataset and save the run."""

from __future__ import annotations

import json
import math
import os
import time

from ._common import (
    EXIT_OK,
    CLIError,
    add_command,
    atomic_json,
    blas_threads,
    fraction,
    load_data,
    non_negative_int,
    positive_float,
    positive_int,
    task_setup,
    threads_text,
    xp,
)
from .plots import save_plots


def add_parser(subparsers):
    p = add_command(subparsers, "train", "train a model on a dataset and save the run",
                    "Train a preset (or a model from an architecture JSON) on a dataset; save the "
                    "model, a checkpoint, metrics.json, history.csv and plots in the run folder.",
                    run)
    p.add_argument("--data", default="digits", metavar="NAME|PATH",
                   help="dataset name (see 'chainrule datasets') or a path to IDX folder/.csv/.npz "
                        "(default: digits)")
    p.add_argument("--model", default="mlp", metavar="mlp|cnn|gru|lstm|CONFIG.json",
                   help="model preset or an architecture JSON (default: mlp)")
    p.add_argument("--epochs", type=positive_int,
                   help="epochs (default: the preset's; fewer for training sets of 20000+ samples)")
    p.add_argument("--batch-size", type=positive_int,
                   help="mini-batch size (default: the preset's)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default: the preset's)")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                   help="optimizer (default: the preset's, adam); sgd uses momentum 0.9")
    p.add_argument("--schedule", choices=["cosine", "constant"],
                   help="learning-rate schedule: 'cosine' decays from --lr towards 0 over the "
                        "epochs (default: the preset's, cosine)")
    p.add_argument("--threads", type=non_negative_int, default=1, metavar="N",
                   help="BLAS threads during training (default: 1, fastest for chainrule's small "
                        "matrices and safe on a shared machine; 0 leaves the BLAS default)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for initialisation, shuffling and dropout (default: 0)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<data>-<model>-<time>)")
    p.add_argument("--resume", metavar="CKPT",
                   help="continue from a checkpoint.safetensors of an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-standardize", action="store_true",
                   help="do not standardise the features with training-set mean and std "
                        "(default: standardise)")
    p.add_argument("--val-split", type=fraction, default=0.1, metavar="F",
                   help="fraction of the training set held out for validation (default: 0.1)")
    return p


def build_model(spec, bundle):
    """The model ``--model`` names (a preset or an architecture JSON) and its short name."""
    from .. import io, presets

    if spec.lower() in presets.PRESETS:
        model = presets.build_preset(spec.lower(), bundle.input_shape, bundle.num_outputs,
                                     bundle.image_shape)
        return model, spec.lower()
    if not os.path.isfile(spec):
        raise CLIError(f"--model: expected one of {presets.preset_names()} or a config .json "
                       f"file, received {spec!r} (no such file)")
    with open(spec, "rb") as handle:
        try:
            document = json.loads(handle.read())
        except ValueError as error:
            raise CLIError(f"--model: {spec} is not valid JSON ({error})") from None
    tree = document.get("architecture", document) if isinstance(document, dict) else document
    return io.build_model(tree), os.path.splitext(os.path.basename(spec))[0]


def _make_optimizer(name, params, lr):
    from .. import optim

    classes = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
               "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    if name == "sgd":
        return classes[name](params, lr=lr, momentum=0.9)
    return classes[name](params, lr=lr)


def _cosine_schedule(base_lr, epochs):
    """lr of epoch e (0-based) = base_lr · (1 + cos(π e / epochs)) / 2: PyTorch's
    CosineAnnealingLR with T_max = epochs, stepped per epoch."""

    def schedule(epoch, lr):
        return base_lr * (1.0 + math.cos(math.pi * epoch / epochs)) / 2.0

    return schedule


def _default_out(data, model_name):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", f"{os.path.basename(str(data).rstrip('/'))}-{model_name}-{stamp}")
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    return path


def run(args) -> int:
    from .. import io, presets
    from .. import train as training
    from ..rng import manual_seed

    bundle = load_data(args.data, standardize=not args.no_standardize)
    manual_seed(args.seed)
    model, model_name = build_model(args.model, bundle)
    defaults = presets.training_defaults(model_name if model_name in presets.PRESETS else None,
                                         len(bundle.X_train))
    epochs = args.epochs or defaults["epochs"]
    lr = args.lr or defaults["lr"]
    batch_size = args.batch_size or defaults["batch_size"]
    optimizer_name = args.optimizer or defaults["optimizer"]
    schedule = args.schedule or defaults["schedule"]
    optimizer = _make_optimizer(optimizer_name, model.parameters(), lr)
    loss, metrics = task_setup(bundle)

    if args.resume and not os.path.isfile(args.resume):
        raise FileNotFoundError(f"--resume: no checkpoint at {args.resume}")
    out = args.out or (os.path.dirname(os.path.abspath(args.resume)) if args.resume
                       else _default_out(args.data, model_name))
    os.makedirs(out, exist_ok=True)
    checkpoint_path = os.path.join(out, "checkpoint.safetensors")
    nan_guard = training.TerminateOnNaN()
    callbacks = [nan_guard, training.CSVLogger(os.path.join(out, "history.csv")),
                 training.ModelCheckpoint(checkpoint_path)]
    if schedule == "cosine":
        callbacks.append(training.LearningRateScheduler(_cosine_schedule(lr, epochs)))
    n_params = sum(int(p.data.size) for p in model.parameters())
    print(f"chainrule train: {model_name} ({n_params:,} parameters) on {bundle.name} "
          f"({len(bundle.X_train)} train / {len(bundle.X_test)} test), {epochs} epochs, "
          f"{optimizer_name} lr={lr:g} ({schedule}), batch {batch_size}, seed {args.seed}, "
          f"{threads_text(args.threads)}")
    print(f"run folder: {out}")
    started = time.perf_counter()
    import warnings

    with warnings.catch_warnings(), blas_threads(args.threads):
        warnings.simplefilter("ignore", RuntimeWarning)  # TerminateOnNaN's warning: reported below
        history = training.fit(
            model, (bundle.X_train, bundle.y_train), loss=loss, optimizer=optimizer,
            epochs=epochs, batch_size=batch_size, validation_split=args.val_split,
            metrics=metrics, callbacks=callbacks, progress=not args.no_progress,
            resume_from=args.resume, verbose=1, clip_grad_norm=defaults.get("clip_grad_norm"),
        )
    train_time = time.perf_counter() - started
    if nan_guard.terminated_batch is not None:
        raise CLIError(
            f"training diverged (the loss became NaN or infinite in epoch "
            f"{len(history.epoch)}); the model was not saved; try a smaller --lr (now {lr:g})"
        )
    with blas_threads(args.threads):
        results = training.evaluate(model, (bundle.X_test, bundle.y_test), loss=loss,
                                    metrics=metrics)
        test_pred = training.predict(model, bundle.X_test)
    np_ = xp()
    info = {
        "task": bundle.task, "data": str(args.data), "standardize": not args.no_standardize,
        "num_classes": bundle.num_classes, "class_names": bundle.class_names,
        "input_shape": list(bundle.input_shape),
        "feature_mean": None if bundle.feature_mean is None
        else np_.asarray(bundle.feature_mean).tolist(),
        "feature_scale": None if bundle.feature_scale is None
        else np_.asarray(bundle.feature_scale).tolist(),
    }
    io.save(model, os.path.join(out, "model"), info=info)
    last = history.last()
    summary = {
        "data": bundle.name, "model": model_name, "task": bundle.task, "parameters": n_params,
        "epochs": len(history.epoch), "batch_size": batch_size, "optimizer": optimizer_name,
        "lr": lr, "schedule": schedule, "threads": args.threads,
        "seed": args.seed, "val_split": args.val_split, "train_time_s": round(train_time, 3),
        **{f"test_{k}": v for k, v in results.items()},
        **{f"final_{k}": v for k, v in last.items() if k not in ("epoch_time",)},
    }
    atomic_json(os.path.join(out, "metrics.json"), summary)
    plots = save_plots(out, history, bundle, test_pred)
    shown = ", ".join(f"test_{k}: {v:.4f}" for k, v in results.items())
    print(f"{shown}  ({train_time:.1f} s)")
    print(f"saved model, checkpoint, metrics.json, history.csv{', plots' if plots else ''} "
          f"to {out}")
    return EXIT_OK
