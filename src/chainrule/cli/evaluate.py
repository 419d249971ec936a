"""``chainrule evaluate``: a saved model's loss and metrics on a dataset split."""

from __future__ import annotations

import json

from ._common import EXIT_OK, CLIError, add_command, load_data, load_model, task_setup


def add_parser(subparsers):
    p = add_command(subparsers, "evaluate", "print a saved model's loss and metrics on a dataset",
                    "Evaluate a saved model (or a run folder) on a dataset's test split.", run)
    p.add_argument("model", metavar="RUN_OR_MODEL",
                   help="a run folder, a model folder or a .safetensors file")
    p.add_argument("--data", metavar="NAME|PATH",
                   help="dataset (default: the one the model was trained on)")
    p.add_argument("--split", choices=["test", "train"], default="test",
                   help="which split (default: test)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    return p


def run(args) -> int:
    from ..train import evaluate

    model, info = load_model(args.model)
    if info.get("estimator") is not None:
        raise CLIError(f"evaluate: {args.model} is a scikit-learn estimator; use its score() "
                       "or 'chainrule predict'")
    if not (args.data or info.get("data")):
        raise CLIError("evaluate: --data is required (the model does not record its dataset)")
    bundle = load_data(info, args.data)
    loss, metrics = task_setup(bundle)
    X, y = (bundle.X_test, bundle.y_test) if args.split == "test" else (bundle.X_train,
                                                                         bundle.y_train)
    try:
        results = evaluate(model, (X, y), loss=loss, metrics=metrics)
    except ValueError as error:
        raise CLIError(f"evaluate: the model does not fit the data {bundle.name!r}: {error}") \
            from None
    results = {"data": bundle.name, "split": args.split, "samples": len(X), **results}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
    return EXIT_OK
