"""``chainrule lr-find``: the learning-rate range test on a preset and a dataset, with its plot."""

from __future__ import annotations

import os

from ._common import (
    EXIT_OK,
    CLIError,
    add_command,
    argument,
    positive_float,
    task_setup,
)

_at_least_two = argument(int, lambda v: v >= 2, "an integer >= 2")


def add_parser(subparsers):
    p = add_command(
        subparsers,
        "lr-find",
        "find a learning rate with the range test",
        "Train a fresh model for a few hundred steps while the learning rate grows "
        "exponentially; plot the loss against the rate, mark the suggestion, and "
        "print it. The model is not saved.",
        run,
    )
    p.add_argument(
        "--data",
        default="digits",
        metavar="NAME|PATH",
        help="dataset name or path (default: digits)",
    )
    p.add_argument(
        "--model", default="mlp", metavar="mlp|cnn|gru|lstm", help="model preset (default: mlp)"
    )
    p.add_argument("--optimizer", default="adam", help="optimizer name (default: adam)")
    p.add_argument("--start-lr", type=positive_float, default=1e-7, metavar="LR")
    p.add_argument("--end-lr", type=positive_float, default=10.0, metavar="LR")
    p.add_argument(
        "--steps",
        type=_at_least_two,
        default=100,
        metavar="N",
        help="steps of the sweep (default: 100)",
    )
    p.add_argument("--batch-size", type=_at_least_two, default=64, metavar="N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out",
        default="lr_find.png",
        metavar="PNG",
        help="where to save the plot (default: lr_find.png)",
    )
    return p


def run(args) -> int:
    from .. import optim, presets
    from ..data import datasets
    from ..diagnostics import lr_find
    from ..rng import manual_seed

    if args.end_lr <= args.start_lr:
        raise CLIError(
            f"--end-lr ({args.end_lr:g}) must be larger than --start-lr ({args.start_lr:g})"
        )
    if args.model not in presets.PRESETS:
        raise CLIError(
            f"--model: expected one of {presets.preset_names()}, received {args.model!r}"
        )
    if args.optimizer not in optim.OPTIMIZERS:
        raise CLIError(
            f"--optimizer: expected one of {sorted(optim.OPTIMIZERS)}, received {args.optimizer!r}"
        )
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.access(folder, os.W_OK):
        raise CLIError(f"--out: cannot write to {folder}")
    bundle = datasets.load(args.data)
    manual_seed(args.seed)
    model = presets.build_preset(
        args.model, bundle.input_shape, bundle.num_outputs, bundle.image_shape
    )
    optimizer = optim.get_optimizer(args.optimizer, model.parameters(), lr=args.start_lr)
    loss, _ = task_setup(bundle)
    result = lr_find(
        model,
        (bundle.X_train, bundle.y_train),
        loss=loss,
        optimizer=optimizer,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.steps,
        batch_size=args.batch_size,
        generator=args.seed,
    )
    result.plot(
        args.out,
        title=f"Learning-rate range test: {args.model} on {bundle.name} ({args.optimizer})",
    )
    stopped = "the loss diverged" if result.diverged else "the sweep reached --end-lr"
    print(
        f"suggested learning rate: {result.suggestion:.3g} (steepest descent of the smoothed "
        f"loss); minimum at {result.min_lr:.3g}; {len(result.lrs)} steps ({stopped})"
    )
    print(f"plot: {args.out}")
    return EXIT_OK
