"""What TrainingHealth costs: the same fit with and without it, interleaved in one process.

The workload is the CLI's default: the ``mlp`` preset on the bundled digits (1,438 × 64,
batch 64, Adam, 5 epochs), trained with :func:`chainrule.train.fit`; the diagnosed run adds
``TrainingHealth(every=10)`` (the default interval): gradient and update norms every 10 steps,
ReLU dead-unit masks on every step. The issue's budget is at most 15% more time.

    python -m benchmarks.bench_diagnostics [--every N] [--rounds R]
"""

from __future__ import annotations

import argparse

from chainrule import optim, presets
from chainrule.data import datasets
from chainrule.diagnostics import TrainingHealth
from chainrule.train import fit

try:
    from .common import interleaved, set_threads
except ImportError:  # run as a script
    from common import interleaved, set_threads

EPOCHS = 5


def workload(every: int | None):
    bundle = datasets.load("digits")
    preset = presets.PRESETS["mlp"]

    def run():
        model = presets.build_preset("mlp", bundle.input_shape, bundle.num_outputs)
        callbacks = [] if every is None else [TrainingHealth(every=every, verbose=False)]
        fit(
            model,
            (bundle.X_train, bundle.y_train),
            loss="cross_entropy",
            optimizer=optim.Adam(model.parameters(), lr=preset["lr"]),
            epochs=EPOCHS,
            batch_size=preset["batch_size"],
            callbacks=callbacks,
            progress=False,
            verbose=0,
            generator=0,
        )

    return run


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    limiter = set_threads(args.threads)  # noqa: F841 - the limit holds while it lives
    results = interleaved(
        {"fit": workload(None), "fit + TrainingHealth": workload(args.every)},
        rounds=args.rounds,
        per_round=1,
        warmup=1,
    )
    base = results["fit"]["median_s"]
    print(
        f"| run (mlp preset, digits, {EPOCHS} epochs, {args.threads} BLAS thread) | median s "
        f"| min–max s | vs fit |\n|---|---|---|---|"
    )
    for name, r in results.items():
        print(
            f"| {name}{' (every=' + str(args.every) + ')' if 'Health' in name else ''} | "
            f"{r['median_s']:.3f} | {r['min_s']:.3f}–{r['max_s']:.3f} | "
            f"{r['median_s'] / base:.3f} |"
        )
    return results


if __name__ == "__main__":
    main()
