"""Integrated gradients on the cnn preset: its cost in forward+backward passes of the same batch.

The workload of issue 17: integrated gradients with 50 steps (Gauss–Legendre) on a batch of 64
Fashion-MNIST images (28×28, the first 64 test images when the IDX files are installed,
otherwise random images of that shape) through the ``cnn`` preset (three blocks conv 3×3 →
BatchNorm → ReLU → max-pool with 32, 64, 128 channels, Linear 128, Dropout, Linear 10).

Integrated gradients is 50 passes of the batch through the network, so its natural cost is
50 forward+backward passes. Timed side by side, interleaved:

- ``train_pass``: one forward + backward of the batch as in training (train mode, the
  cross-entropy loss, gradients of every weight);
- ``input_pass``: one forward + backward as attribution does it (eval mode, the gradient of
  the target logits with respect to the input only, no weight gradients);
- ``integrated_gradients``: the whole call, 50 steps, path points in chunks of 64 rows.

The ratio ``integrated_gradients / train_pass`` is the figure the issue targets (≤ about 50).
With PyTorch and Captum installed, the same model (same weights) is timed with Captum's
``IntegratedGradients`` (``internal_batch_size=64``) against PyTorch's own training pass, so
both libraries' ratios sit in one table.

    /work/venv/bin/python -m benchmarks.bench_explain            # 2 threads, 3 rounds
    /work/venv/bin/python -m benchmarks.bench_explain --rounds 5 --threads 1
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule import explain, presets

try:
    from .common import interleaved, set_threads, torch_available
except ImportError:  # run as a script
    from common import interleaved, set_threads, torch_available

BATCH = 64
STEPS = 50


def fashion_batch():
    """64 Fashion-MNIST test images as (64, 784) rows in [0, 1], and where they came from."""
    from chainrule.data import datasets

    try:
        bundle = datasets.load("fashion-mnist")
        return bundle.X_test[:BATCH].astype(np.float32), "Fashion-MNIST test images 0-63"
    except Exception:  # noqa: BLE001 - any reason the files are unavailable
        rng = np.random.default_rng(0)
        images = rng.random((BATCH, 784), dtype=np.float32)
        return images, "random 28×28 images (Fashion-MNIST absent)"


def chainrule_cases(X):
    model = presets.build_preset("cnn", [784], 10, image_shape=(1, 28, 28))
    labels = np.arange(BATCH) % 10

    def train_pass():
        model.train()
        model.zero_grad()
        F.cross_entropy(model(cr.tensor(X)), labels).backward()

    def input_pass():
        explain.saliency(model, X, target=labels, abs=False)

    def integrated():
        explain.integrated_gradients(model, X, target=labels, steps=STEPS, batch_size=BATCH)

    return model, {"train_pass": train_pass, "input_pass": input_pass,
                   "integrated_gradients": integrated}


def torch_cases(model, X):
    """The same network in PyTorch with chainrule's weights, and Captum's integrated gradients."""
    import torch
    from captum.attr import IntegratedGradients

    tnn = torch.nn
    layers, in_channels, side = [], 1, 28
    for channels in model.channels:
        layers += [tnn.Conv2d(in_channels, channels, 3, padding=1), tnn.BatchNorm2d(channels),
                   tnn.ReLU(), tnn.MaxPool2d(2)]
        in_channels, side = channels, side // 2
    layers += [tnn.Flatten(), tnn.Linear(in_channels * side * side, model.hidden), tnn.ReLU(),
               tnn.Dropout(model.dropout), tnn.Linear(model.hidden, 10)]
    net = tnn.Sequential(*layers)
    net.load_state_dict({key.removeprefix("net."): torch.tensor(np.asarray(value))
                         for key, value in model.state_dict().items()})
    images = torch.from_numpy(X.reshape(BATCH, 1, 28, 28))
    labels = torch.arange(BATCH) % 10
    ig = IntegratedGradients(net)

    def train_pass():
        net.train()
        net.zero_grad()
        tnn.functional.cross_entropy(net(images), labels).backward()

    def integrated():
        net.eval()
        ig.attribute(images, target=labels, n_steps=STEPS, internal_batch_size=BATCH)

    return {"torch_train_pass": train_pass, "captum_integrated_gradients": integrated}


def run(rounds: int = 3, with_torch: bool = True) -> dict:
    X, source = fashion_batch()
    model, candidates = chainrule_cases(X)
    if with_torch and torch_available():
        try:
            candidates.update(torch_cases(model, X))
        except ImportError:  # captum absent
            pass
    timings = interleaved(candidates, rounds=rounds, per_round=1, warmup=1)
    median = {name: t["median_s"] for name, t in timings.items()}
    fastest = {name: t["min_s"] for name, t in timings.items()}
    result = {"data": source, "timings": timings,
              "ig_over_train_pass": median["integrated_gradients"] / median["train_pass"],
              "ig_over_train_pass_min": fastest["integrated_gradients"] / fastest["train_pass"],
              "ig_over_input_pass": median["integrated_gradients"] / median["input_pass"]}
    if "captum_integrated_gradients" in median:
        result["captum_over_torch_train_pass"] = (median["captum_integrated_gradients"]
                                                  / median["torch_train_pass"])
        result["chainrule_ig_over_captum"] = (median["integrated_gradients"]
                                              / median["captum_integrated_gradients"])
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/PyTorch threads (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch/Captum rows")
    args = parser.parse_args(argv)
    limiter = set_threads(args.threads)  # noqa: F841 - keeps the limit while it lives
    result = run(rounds=args.rounds, with_torch=not args.no_torch)
    print(f"integrated gradients, {STEPS} steps, batch {BATCH}, cnn preset; "
          f"data: {result['data']}; {args.threads} threads, median of {args.rounds} "
          "interleaved rounds")
    for name, t in result["timings"].items():
        print(f"  {name:28s} {t['median_s'] * 1e3:9.1f} ms  (min {t['min_s'] * 1e3:.1f}, "
              f"max {t['max_s'] * 1e3:.1f})")
    print(f"  IG / one training forward+backward:   {result['ig_over_train_pass']:.1f}x of the "
          f"medians, {result['ig_over_train_pass_min']:.1f}x of the fastest runs (target <= ~50)")
    print(f"  IG / one attribution forward+backward: {result['ig_over_input_pass']:.1f}x "
          f"({STEPS} passes + 1 prediction)")
    if "captum_over_torch_train_pass" in result:
        print(f"  Captum IG / PyTorch training forward+backward: "
              f"{result['captum_over_torch_train_pass']:.1f}x")
        print(f"  chainrule IG time / Captum IG time: {result['chainrule_ig_over_captum']:.2f}")


if __name__ == "__main__":
    main()
