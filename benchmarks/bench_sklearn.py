"""chainrule.estimators.MLPClassifier vs scikit-learn's MLPClassifier, side by side.

Same architecture (one hidden layer of 100 ReLUs), same solver (Adam, lr 1e-3,
batch 200), same number of epochs (tol=0 and n_iter_no_change above max_iter,
so neither stops early), on digits and on Fashion-MNIST (a training subset).
Three variants are fitted in interleaved rounds, the order rotating each
round, with the same random_state within a round:

* chainrule, float32 (its default);
* scikit-learn on float64 input (its default);
* scikit-learn on float32 input (it then trains in float32).

Reports the median fit time, the fit-time ratio (scikit-learn / chainrule) and
the mean test accuracy. BLAS is pinned to ``--threads`` threads (threadpoolctl).

Run::

    python benchmarks/bench_sklearn.py            # about 5 minutes on 2 cores
    python benchmarks/bench_sklearn.py --quick    # a smoke run

Prints a Markdown table and writes ``benchmarks/results/bench_sklearn.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings

import numpy as np

try:
    from .common import set_threads
except ImportError:  # run as a script
    from common import set_threads


def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def load_fashion_split(n_train: int, n_test: int):
    """Fashion-MNIST through chainrule's loader (Debian package dataset-fashion-mnist), or None."""
    try:
        from chainrule.data.datasets import load

        bundle = load("fashion-mnist")
    except Exception as error:  # noqa: BLE001 - the data set is optional
        print(f"fashion-mnist skipped: {error}")
        return None
    X_train = bundle.X_train.reshape(len(bundle.X_train), -1)[:n_train].astype(np.float64)
    X_test = bundle.X_test.reshape(len(bundle.X_test), -1)[:n_test].astype(np.float64)
    return X_train, X_test, bundle.y_train[:n_train], bundle.y_test[:n_test]


def make_variants(epochs: int):
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    from chainrule.estimators import MLPClassifier

    common = {
        "hidden_layer_sizes": (100,),
        "solver": "adam",
        "learning_rate_init": 1e-3,
        "batch_size": 200,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": epochs + 1,
    }
    return {
        "chainrule float32": (lambda seed: MLPClassifier(**common, random_state=seed), np.float32),
        "sklearn float64": (lambda seed: SkMLPClassifier(**common, random_state=seed), np.float64),
        "sklearn float32": (lambda seed: SkMLPClassifier(**common, random_state=seed), np.float32),
    }


def run_dataset(name, split, epochs: int, rounds: int) -> dict:
    X_train, X_test, y_train, y_test = split
    variants = make_variants(epochs)
    times = {v: [] for v in variants}
    scores = {v: [] for v in variants}
    names = list(variants)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for variant in order:
            build, dtype = variants[variant]
            Xa, Xt = X_train.astype(dtype), X_test.astype(dtype)
            est = build(r)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                est.fit(Xa, y_train)
                times[variant].append(time.perf_counter() - start)
            scores[variant].append(float(est.score(Xt, y_test)))
            print(
                f"  {name} round {r + 1}/{rounds} {variant:18s} {times[variant][-1]:7.2f} s "
                f"acc {scores[variant][-1]:.4f}",
                flush=True,
            )
    ours = statistics.median(times["chainrule float32"])
    result = {
        "train_samples": len(X_train),
        "test_samples": len(X_test),
        "features": X_train.shape[1],
        "epochs": epochs,
        "rounds": rounds,
        "variants": {},
    }
    for variant in names:
        median = statistics.median(times[variant])
        result["variants"][variant] = {
            "fit_s_median": median,
            "fit_s_min": min(times[variant]),
            "fit_s_max": max(times[variant]),
            "fit_s": times[variant],
            "accuracy_mean": statistics.mean(scores[variant]),
            "accuracy": scores[variant],
            "speedup_of_chainrule": median / ours,
        }
    acc = result["variants"]
    result["accuracy_diff_pp_vs_sklearn_float64"] = 100 * (
        acc["chainrule float32"]["accuracy_mean"] - acc["sklearn float64"]["accuracy_mean"]
    )
    return result


def markdown(results: dict) -> str:
    lines = [
        (
            "| data set (train / test, epochs) | variant | fit time (median) | sklearn ÷ chainrule "
            "| test accuracy (mean) |"
        ),
        "|---|---|---|---|---|",
    ]
    for name, res in results["datasets"].items():
        label = f"{name} ({res['train_samples']} / {res['test_samples']}, {res['epochs']})"
        for variant, v in res["variants"].items():
            ratio = (
                "1.00 (baseline)"
                if variant.startswith("chainrule")
                else f"{v['speedup_of_chainrule']:.2f}×"
            )
            lines.append(
                f"| {label} | {variant} | {v['fit_s_median']:.2f} s | {ratio} | "
                f"{100 * v['accuracy_mean']:.2f} % |"
            )
        lines.append(
            f"| {label} | accuracy difference (chainrule − sklearn float64) | | | "
            f"{res['accuracy_diff_pp_vs_sklearn_float64']:+.2f} pp |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per data set")
    parser.add_argument("--digits-epochs", type=int, default=50)
    parser.add_argument("--fashion-epochs", type=int, default=10)
    parser.add_argument("--fashion-train", type=int, default=20000, help="training subset size")
    parser.add_argument("--fashion-test", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--output",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "results", "bench_sklearn.json"
        ),
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.digits_epochs, args.fashion_epochs, args.fashion_train = 1, 3, 1, 2000
    set_threads(args.threads)

    import sklearn

    import chainrule

    results = {
        "benchmark": "bench_sklearn",
        "threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "chainrule": chainrule.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()),
        "datasets": {},
    }
    print("digits", flush=True)
    results["datasets"]["digits"] = run_dataset(
        "digits", load_digits_split(), args.digits_epochs, args.rounds
    )
    fashion = load_fashion_split(args.fashion_train, args.fashion_test)
    if fashion is not None:
        print("fashion-mnist", flush=True)
        results["datasets"]["fashion-mnist"] = run_dataset(
            "fashion-mnist", fashion, args.fashion_epochs, args.rounds
        )
    results["loadavg_end"] = list(os.getloadavg())
    table = markdown(results)
    results["markdown"] = table
    print()
    print(table)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
