"""The Fashion-MNIST ``cnn`` preset's training epoch against the same network in PyTorch.

The model is ``chainrule train --data fashion-mnist --model cnn``'s: three blocks
conv 3×3 (same) → BatchNorm → ReLU → MaxPool 2 with 32, 64 and 128 channels, then
Linear 1152→128 → ReLU → Dropout 0.3 → Linear 10 (the PyTorch model copies its layers),
trained with the preset's Adam (lr 2e-3) and batch size 64, shuffled. chainrule runs
:func:`chainrule.train.fit` (progress and logging off); PyTorch the plain loop a PyTorch
user writes. One call is one epoch over the first ``SAMPLES`` training images (6,400 = 100
steps by default, a tenth of the real epoch so that several rounds fit in minutes; set
``CHAINRULE_BENCH_FASHION_SAMPLES=60000`` for the whole epoch), model construction included.

The images are read from the installed IDX files (``dataset-fashion-mnist``); without them
:func:`available` says why and the suite skips the workload.

    python -m benchmarks --only fashion
    python -m benchmarks.bench_fashion
"""

from __future__ import annotations

import os

import numpy as np

from chainrule import nn, optim, presets

try:
    from .common import interleaved, set_threads, torch_available
except ImportError:  # run as a script
    from common import interleaved, set_threads, torch_available

SAMPLES = int(os.environ.get("CHAINRULE_BENCH_FASHION_SAMPLES", "6400"))
PRESET = presets.PRESETS["cnn"]
LR, BATCH = PRESET["lr"], PRESET["batch_size"]


def available() -> str | None:
    """None when Fashion-MNIST's files are installed; otherwise why the workload is skipped."""
    from chainrule.data.datasets.files import find_fashion_mnist

    if find_fashion_mnist() is None:
        return "Fashion-MNIST IDX files not found (apt-get install dataset-fashion-mnist)"
    return None


def _fashion(samples: int = SAMPLES):
    from chainrule.data import datasets

    bundle = datasets.load("fashion-mnist")
    X = np.ascontiguousarray(bundle.X_train[:samples], dtype=np.float32)
    y = bundle.y_train[:samples].astype(np.int64)
    return X, y, tuple(bundle.input_shape), bundle.num_classes


def _preset(input_shape, classes):
    return presets.build_preset("cnn", input_shape, classes, input_shape)


def chainrule_epoch(samples: int = SAMPLES):
    import chainrule as cr
    from chainrule.train import fit

    X, y, input_shape, classes = _fashion(samples)

    def run():
        cr.manual_seed(0)
        model = _preset(input_shape, classes)
        fit(
            model,
            (X, y),
            loss="cross_entropy",
            optimizer=optim.Adam(model.parameters(), lr=LR),
            epochs=1,
            batch_size=BATCH,
            progress=False,
            verbose=0,
            generator=np.random.default_rng(0),
        )

    return run


def torch_copy_of_preset(input_shape, classes):
    """The cnn preset's layer sequence, in PyTorch."""
    import torch

    tnn = torch.nn
    layers = []
    for module in _preset(input_shape, classes).net:
        if isinstance(module, nn.Conv2d):
            layers.append(
                tnn.Conv2d(module.in_channels, module.out_channels, module.kernel_size,
                           padding=module.padding)
            )
        elif isinstance(module, nn.BatchNorm2d):
            layers.append(tnn.BatchNorm2d(module.num_features))
        elif isinstance(module, nn.ReLU):
            layers.append(tnn.ReLU())
        elif isinstance(module, nn.MaxPool2d):
            layers.append(tnn.MaxPool2d(module.kernel_size))
        elif isinstance(module, nn.Flatten):
            layers.append(tnn.Flatten())
        elif isinstance(module, nn.Linear):
            layers.append(tnn.Linear(module.in_features, module.out_features))
        elif isinstance(module, nn.Dropout):
            layers.append(tnn.Dropout(module.p))
        else:
            raise TypeError(f"bench_fashion: no PyTorch copy of {type(module).__name__}")
    return tnn.Sequential(*layers)


def torch_epoch(samples: int = SAMPLES):
    import torch

    X, y, input_shape, classes = _fashion(samples)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        torch.manual_seed(0)
        model = torch_copy_of_preset(input_shape, classes)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        model.train()
        order = torch.randperm(len(Xt), generator=torch.Generator().manual_seed(0))
        for start in range(0, len(Xt), BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return run


def run(rounds=3, per_round=1) -> list[dict]:
    """One result row: seconds per epoch (of ``SAMPLES`` images), chainrule and PyTorch."""
    reason = available()
    if reason is not None:
        return [{"workload": "fashion_cnn_epoch", "skipped": reason}]
    candidates = {"chainrule": chainrule_epoch()}
    if torch_available():
        candidates["torch"] = torch_epoch()
    timings = interleaved(candidates, rounds=rounds, per_round=per_round, warmup=1)
    return [{"workload": "fashion_cnn_epoch", "samples_per_step": SAMPLES, "timings": timings}]


if __name__ == "__main__":
    limiter = set_threads(2)
    for row in run():
        if "skipped" in row:
            print(f"{row['workload']}: skipped, {row['skipped']}")
            continue
        t = row["timings"]
        line = f"{row['workload']:18s} chainrule {t['chainrule']['median_s']:7.3f} s"
        if "torch" in t:
            ratio = t["torch"]["median_s"] / t["chainrule"]["median_s"]
            line += f"  torch {t['torch']['median_s']:7.3f} s  ratio {ratio:.2f}"
        print(line)
