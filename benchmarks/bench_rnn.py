"""LSTM and GRU training steps (input 32, hidden 128, sequence 50, batch 64) vs PyTorch CPU.

One layer, time-major input (T, N, I), loss = cross-entropy of a linear head on the
last output, one SGD step. float32, 2 threads, interleaved runs, medians;
``ratio`` = torch time / chainrule time (1.0 means as fast).

    /work/venv/bin/python -m benchmarks.bench_rnn
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

INPUT, HIDDEN, SEQ, BATCH, CLASSES = 32, 128, 50, 64, 10


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, size=BATCH)
    return X, y


def chainrule_step(kind="LSTM"):
    X, y = _data()
    g = np.random.default_rng(0)
    rnn = getattr(nn, kind)(INPUT, HIDDEN, generator=g)
    head = nn.Linear(HIDDEN, CLASSES, generator=g)
    opt = optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.01)
    Xt = cr.tensor(X)

    def step():
        opt.zero_grad()
        output, _ = rnn(Xt)
        loss = F.cross_entropy(head(output[-1]), y)
        loss.backward()
        opt.step()

    return step


def torch_step(kind="LSTM"):
    import torch

    X, y = _data()
    torch.manual_seed(0)
    rnn = getattr(torch.nn, kind)(INPUT, HIDDEN)
    head = torch.nn.Linear(HIDDEN, CLASSES)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        output, _ = rnn(Xt)
        loss = torch.nn.functional.cross_entropy(head(output[-1]), yt)
        loss.backward()
        opt.step()

    return step


def run(rounds=5, per_round=10) -> list[dict]:
    """One result row per workload (LSTM, GRU): per-step timings of chainrule and PyTorch."""
    rows = []
    for kind in ("LSTM", "GRU"):
        candidates = {"chainrule": chainrule_step(kind)}
        if torch_available():
            candidates["torch"] = torch_step(kind)
        timings = interleaved(candidates, rounds=rounds, per_round=per_round)
        rows.append(
            {
                "workload": f"{kind.lower()}_train_sgd",
                "samples_per_step": BATCH,
                "timings": timings,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    return rows


if __name__ == "__main__":
    set_threads(2)
    report(run())
