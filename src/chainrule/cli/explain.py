"""``chainrule explain``: the chain rule of backpropagation, shown and checked on a trained run.

Prints, for each fully connected layer from the output back, the tutorial's equations with the
run's live shapes and norms (δ⁽ᴸ⁾ = ∂J/∂z⁽ᴸ⁾, δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾),
∂J/∂W⁽ˡ⁾ = δ⁽ˡ⁾ᵀ a⁽ˡ⁻¹⁾), recomputed with NumPy, compared with autograd and checked against
finite differences (see :func:`chainrule.diagnostics.explain`).
"""

from __future__ import annotations

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    CLIError,
    add_command,
    load_data,
    load_model,
    positive_int,
)


def add_parser(subparsers):
    p = add_command(
        subparsers,
        "explain",
        "show the chain rule on a trained network's layers",
        "Run one batch through a saved MLP, print each layer's backpropagation "
        "equations with the live shapes and norms, and check every gradient against "
        "autograd and finite differences.",
        run,
    )
    p.add_argument("model", metavar="RUN_OR_MODEL", help="a run folder or a model folder")
    p.add_argument(
        "--data", metavar="NAME|PATH", help="dataset (default: the one the model was trained on)"
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        default=32,
        metavar="N",
        help="test samples in the batch (default: 32)",
    )
    p.add_argument(
        "--entries",
        type=positive_int,
        default=3,
        metavar="K",
        help="entries of each weight gradient checked by finite differences (default 3)",
    )
    return p


def run(args) -> int:
    from ..diagnostics import explain

    model, info = load_model(args.model)
    if info.get("estimator") is not None:
        model = info["estimator"].model_
    if not (args.data or info.get("data")):
        raise CLIError("explain: --data is required (the model does not record its dataset)")
    bundle = load_data(info, args.data)
    loss = "cross_entropy" if bundle.task == "classification" else "mse"
    X, y = bundle.X_test[: args.samples], bundle.y_test[: args.samples]
    try:
        report = explain(model, X, y, loss=loss, entries=args.entries)
    except TypeError as error:
        raise CLIError(f"explain: {error}") from None
    print(report)
    return EXIT_OK if report.ok else EXIT_FAILED
