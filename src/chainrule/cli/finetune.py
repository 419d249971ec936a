"""``chainrule finetune``: adapt a trained run (or a PyTorch state dict) to new data.

The pretrained network is loaded, its head is replaced when the new data has another number
of outputs (or always, with ``--new-head``), and it is trained with
:func:`chainrule.transfer.fine_tune`: the head alone for ``--freeze-epochs`` epochs (the backbone
frozen, its BatchNorm statistics kept), then everything, the backbone at ``--lr`` ×
``--backbone-lr-scale``. The result is a run folder like ``chainrule train`` writes; its
``run.json`` and the model's info record where the weights came from.
"""

from __future__ import annotations

import os
import time

from . import _run
from ._common import (
    EXIT_OK,
    CLIError,
    add_command,
    atomic_json,
    blas_threads,
    fraction,
    non_negative_int,
    positive_float,
    positive_int,
    task_setup,
)

_scale = positive_float


def add_parser(subparsers):
    p = add_command(
        subparsers,
        "finetune",
        "fine-tune a trained model on new data",
        "Load a trained run (or model folder), give it a new head for the new data "
        "if needed, train the head with the backbone frozen, then everything with a "
        "smaller backbone learning rate; save the result as a run folder.",
        run,
    )
    p.add_argument("run_path", metavar="RUN", help="a run folder or model folder to start from")
    p.add_argument(
        "--data",
        required=True,
        metavar="NAME|PATH",
        help="the new dataset: a name (see 'chainrule datasets') or a .csv/.npz/IDX path",
    )
    p.add_argument("--test-data", metavar="PATH", help="a separate test file for the new data")
    p.add_argument("--target", metavar="NAME|INDEX", help="CSV: the target column")
    p.add_argument(
        "--freeze-epochs",
        type=non_negative_int,
        default=2,
        metavar="K",
        help="epochs training only the new head (default: 2)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=10,
        help="epochs training everything afterwards (default: 10)",
    )
    p.add_argument(
        "--lr", type=positive_float, default=1e-3, help="learning rate of the head (default: 1e-3)"
    )
    p.add_argument(
        "--backbone-lr-scale",
        type=_scale,
        default=0.1,
        metavar="S",
        help="the backbone learns at --lr times S in the second stage (default: 0.1)",
    )
    p.add_argument(
        "--optimizer",
        default="adam",
        choices=["sgd", "adam", "adamw", "rmsprop"],
        help="optimizer (default: adam)",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=32, help="mini-batch size (default 32)"
    )
    p.add_argument(
        "--new-head",
        action="store_true",
        help="replace the head even when the number of outputs is unchanged",
    )
    p.add_argument(
        "--val-split",
        type=fraction,
        default=0.1,
        metavar="F",
        help="fraction of the new training data held out for validation (default 0.1)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed (default: 0)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<data>-finetune-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _input_shape(info, model):
    from ._common import guess_input_shape

    shape = guess_input_shape(model, info)
    return None if shape is None else tuple(shape)


def run(args) -> int:
    from .. import io
    from .. import train as training
    from ..rng import manual_seed
    from ..transfer import find_head, fine_tune, replace_head
    from ._common import load_model
    from .train import _load_bundle, _model_info, _preflight

    model, info = load_model(args.run_path)
    if "estimator" in info:
        raise CLIError(
            f"RUN: {args.run_path} holds a scikit-learn estimator; fine-tune it with "
            "its own partial_fit or warm_start"
        )
    source = os.path.abspath(args.run_path)
    config = {
        "data": args.data,
        "test_data": args.test_data,
        "target": args.target,
        "task": None,
        "standardize": True,
        "max_data_mb": None,
    }
    bundle = _load_bundle(config)
    expected = _input_shape(info, model)
    if expected is not None and tuple(bundle.input_shape) != expected:
        raise CLIError(
            f"--data: {bundle.name} has samples of shape {tuple(bundle.input_shape)}, "
            f"but the pretrained network in {args.run_path} takes {expected}"
        )
    manual_seed(args.seed)
    head = find_head(model)
    outputs = getattr(dict(model.named_modules())[head], "out_features", None)
    if args.new_head or outputs != bundle.num_outputs:
        replace_head(model, bundle.num_outputs, generator=args.seed)
        print(f"note: new head {head} with {bundle.num_outputs} outputs (was {outputs})")
    loss, metrics = task_setup(bundle)
    _preflight(model, bundle, loss, args.batch_size)
    out = args.out or os.path.join(
        "runs",
        f"{os.path.basename(str(args.data).rstrip('/'))}-finetune-{time.strftime('%Y%m%d-%H%M%S')}",
    )
    _run.check_out_folder(out, overwrite=args.overwrite, resuming_here=False)
    created_out = not os.path.exists(out)
    staging = _run.prepare_staging(out, keep=False)
    run_config = {
        "command": "finetune",
        "init_from": source,
        "data": args.data,
        "test_data": args.test_data,
        "target": args.target,
        "freeze_epochs": args.freeze_epochs,
        "epochs": args.epochs,
        "lr": args.lr,
        "backbone_lr_scale": args.backbone_lr_scale,
        "optimizer": args.optimizer,
        "batch_size": args.batch_size,
        "val_split": args.val_split,
        "seed": args.seed,
        "new_head": bool(args.new_head),
    }
    try:
        before = training.evaluate(
            model, (bundle.X_test, bundle.y_test), loss=loss, metrics=metrics
        )
        print(
            f"chainrule finetune: {args.run_path} on {bundle.name} ({len(bundle.X_train)} "
            f"train / {len(bundle.X_test)} test): {args.freeze_epochs} epochs head only, then "
            f"{args.epochs} epochs all, lr {args.lr:g} (backbone × {args.backbone_lr_scale:g})"
        )
        started = time.perf_counter()
        with blas_threads(1):
            history = fine_tune(
                model,
                (bundle.X_train, bundle.y_train),
                loss=loss,
                epochs=args.epochs,
                freeze_epochs=args.freeze_epochs,
                lr=args.lr,
                backbone_lr_scale=args.backbone_lr_scale,
                optimizer=args.optimizer,
                batch_size=args.batch_size,
                validation_split=args.val_split,
                metrics=metrics,
                generator=args.seed,
                progress=not args.no_progress,
                verbose=1,
            )
            after = training.evaluate(
                model, (bundle.X_test, bundle.y_test), loss=loss, metrics=metrics
            )
        if not all(isinstance(v, float) and v == v for v in after.values()):
            raise CLIError(
                "fine-tuning diverged (a non-finite test figure); nothing was saved; "
                f"try a smaller --lr (now {args.lr:g})"
            )
        model_info = {**_model_info(bundle, config), "finetuned_from": source}
        io.save(model, os.path.join(staging, "model"), info=model_info)
        history.to_csv(os.path.join(staging, "history.csv"))
        summary = {
            "data": bundle.name,
            "finetuned_from": source,
            "train_time_s": round(time.perf_counter() - started, 3),
            **{f"before_test_{k}": v for k, v in before.items()},
            **{f"test_{k}": v for k, v in after.items()},
        }
        atomic_json(os.path.join(staging, "metrics.json"), summary)
        _run.write_run(
            staging,
            run_config,
            status="finished",
            epochs_completed=len(history.epoch),
            result={k: v for k, v in summary.items() if "test_" in k},
        )
        _run.commit(staging, out, overwrite=args.overwrite)
    except BaseException:
        _run.discard(staging, remove_out=created_out)
        raise
    shown = ", ".join(f"test_{k}: {before[k]:.4f} -> {after[k]:.4f}" for k in after)
    print(f"{shown}")
    print(f"saved run.json, model, metrics.json, history.csv to {out}")
    return EXIT_OK
