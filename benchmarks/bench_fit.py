"""The CLI's default fit (``chainrule train``: mlp preset, digits) against the same loop in PyTorch.

The model is the ``mlp`` preset built for digits (Flatten → Linear 512 → ReLU →
Dropout 0.5 → Linear 256 → ReLU → Dropout 0.5 → Linear 10; the PyTorch model
copies its layers) on the bundled, standardised digits training split
(1,438 × 64), trained with the preset's optimizer (Adam at the preset's lr, no
schedule) and batch size (64) for a fixed number of epochs, shuffled
each epoch. chainrule runs :func:`chainrule.train.fit` (progress bar and
per-epoch logging off); PyTorch runs the plain loop a PyTorch user would
write (a permutation per epoch, slices, cross-entropy, Adam). One call of a
candidate is one whole fit, model construction included.

    /work/venv/bin/python -m benchmarks.bench_fit
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule import optim, presets

try:
    from .common import interleaved, set_threads, torch_available
except ImportError:  # run as a script
    from common import interleaved, set_threads, torch_available

EPOCHS = 10
PRESET = presets.PRESETS["mlp"]
LR, BATCH = PRESET["lr"], PRESET["batch_size"]


def _digits():
    from chainrule.data import datasets

    bundle = datasets.load("digits")
    return (
        np.ascontiguousarray(bundle.X_train, dtype=np.float32),
        bundle.y_train.astype(np.int64),
        tuple(bundle.input_shape),
        bundle.num_classes,
    )


def _plain_loop_step(model, opt, X, y, generator):
    """One epoch written out by hand (used when ``chainrule.train.fit`` is not available)."""
    model.train()
    order = generator.permutation(len(X))
    for start in range(0, len(X), BATCH):
        idx = order[start : start + BATCH]
        opt.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(X[idx])), y[idx])
        loss.backward()
        opt.step()


def chainrule_fit(epochs: int = EPOCHS):
    X, y, input_shape, classes = _digits()

    def run():
        cr.manual_seed(0)
        model = presets.build_preset("mlp", input_shape, classes)
        opt = optim.Adam(model.parameters(), lr=LR)
        try:
            from chainrule.train import fit
        except ImportError:
            fit = None
        if fit is not None:
            fit(
                model,
                (X, y),
                loss="cross_entropy",
                optimizer=opt,
                epochs=epochs,
                batch_size=BATCH,
                progress=False,
                verbose=0,
                generator=np.random.default_rng(0),
            )
        else:
            generator = np.random.default_rng(0)
            for _ in range(epochs):
                _plain_loop_step(model, opt, X, y, generator)

    return run


def _torch_copy_of_preset(input_shape, classes):
    """The same layer sequence as chainrule's mlp preset, in PyTorch."""
    import torch

    from chainrule import nn

    layers = []
    for module in presets.build_preset("mlp", input_shape, classes).modules():
        if isinstance(module, nn.Linear):
            layers.append(torch.nn.Linear(module.in_features, module.out_features))
        elif isinstance(module, nn.ReLU):
            layers.append(torch.nn.ReLU())
        elif isinstance(module, nn.Dropout):
            layers.append(torch.nn.Dropout(module.p))
        elif isinstance(module, nn.Flatten):
            layers.append(torch.nn.Flatten())
    return torch.nn.Sequential(*layers)


def torch_fit(epochs: int = EPOCHS):
    import torch

    X, y, input_shape, classes = _digits()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        torch.manual_seed(0)
        model = _torch_copy_of_preset(input_shape, classes)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        generator = torch.Generator().manual_seed(0)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(Xt), generator=generator)
            for start in range(0, len(Xt), BATCH):
                idx = order[start : start + BATCH]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()

    return run


def samples_per_fit(epochs: int = EPOCHS) -> int:
    return epochs * len(_digits()[0])


def run(rounds=3, per_round=1) -> list[dict]:
    """One result row: seconds per whole fit, chainrule and (if installed) PyTorch."""
    candidates = {"chainrule": chainrule_fit()}
    if torch_available():
        candidates["torch"] = torch_fit()
    timings = interleaved(candidates, rounds=rounds, per_round=per_round, warmup=1)
    return [
        {"workload": "fit_digits_mlp", "samples_per_step": samples_per_fit(), "timings": timings}
    ]


if __name__ == "__main__":
    limiter = set_threads(2)
    for row in run():
        t = row["timings"]
        line = f"{row['workload']:16s} chainrule {t['chainrule']['median_s']:7.3f} s"
        if "torch" in t:
            ratio = t["torch"]["median_s"] / t["chainrule"]["median_s"]
            line += f"  torch {t['torch']['median_s']:7.3f} s  ratio {ratio:.2f}"
        print(line)
