"""LeNet-like CNN on 28×28 inputs, batch 64: one SGD step, vs PyTorch CPU (float32, 2 threads).

conv(1→6, 5) + relu + maxpool 2, conv(6→16, 5) + relu + maxpool 2, flatten,
linear 256→120→84→10, cross-entropy, SGD step. Runs are interleaved and the
medians compared; ``ratio`` = torch time / chainrule time (chainrule's share of
PyTorch's throughput; 1.0 means as fast).

    /work/venv/bin/python -m benchmarks.bench_cnn
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim

try:
    from .common import interleaved, peak_rss_mb, report, set_threads, torch_available
except ImportError:  # run as a script
    from common import interleaved, peak_rss_mb, report, set_threads, torch_available

BATCH = 64


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=BATCH)
    return X, y


def chainrule_lenet(seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, generator=g),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, generator=g),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120, generator=g),
        nn.ReLU(),
        nn.Linear(120, 84, generator=g),
        nn.ReLU(),
        nn.Linear(84, 10, generator=g),
    )


def torch_lenet(seed=0):
    import torch

    torch.manual_seed(seed)
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(256, 120),
        tnn.ReLU(),
        tnn.Linear(120, 84),
        tnn.ReLU(),
        tnn.Linear(84, 10),
    )


def chainrule_step():
    X, y = _data()
    model = chainrule_lenet()
    opt = optim.SGD(model.parameters(), lr=0.01)
    Xt = cr.tensor(X)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(Xt), y)
        loss.backward()
        opt.step()

    return step


def torch_step():
    import torch

    X, y = _data()
    model = torch_lenet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()

    return step


def run(rounds=5, per_round=20) -> list[dict]:
    """One result row: per-step timings of chainrule and (if installed) PyTorch."""
    candidates = {"chainrule": chainrule_step()}
    if torch_available():
        candidates["torch"] = torch_step()
    timings = interleaved(candidates, rounds=rounds, per_round=per_round)
    return [
        {
            "workload": "cnn_lenet_train_sgd",
            "samples_per_step": BATCH,
            "timings": timings,
            "peak_rss_mb": peak_rss_mb(),
        }
    ]


if __name__ == "__main__":
    set_threads(2)
    report(run())
