"""MLP 784-256-256-10, batch 128: training steps (SGD, Adam) and no_grad inference, vs PyTorch."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim

try:
    from .common import interleaved, peak_rss_mb, set_threads, torch_available
except ImportError:  # run as a script
    from common import interleaved, peak_rss_mb, set_threads, torch_available

SIZES = (784, 256, 256, 10)
BATCH = 128


def mlp_flops_per_step(batch: int = BATCH, sizes=SIZES) -> float:
    """FLOPs of the matrix products of one training step: forward 2·N·in·out per layer, backward
    2× that (dW for every layer, dX for all but the first)."""
    total = 0.0
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        forward = 2 * batch * n_in * n_out
        total += forward + forward + (forward if i > 0 else 0)
    return total


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    return X, y


def chainrule_mlp(seed=0):
    cr.manual_seed(seed)
    layers = []
    for n_in, n_out in pairwise(SIZES):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def torch_mlp(seed=0):
    import torch

    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in pairwise(SIZES):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def chainrule_step(optimizer_name="sgd"):
    X, y = _data()
    model = chainrule_mlp()
    opt = (
        optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if optimizer_name == "sgd"
        else optim.Adam(model.parameters(), lr=1e-3)
    )
    Xt = cr.tensor(X)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(Xt), y)
        loss.backward()
        opt.step()

    return step


def torch_step(optimizer_name="sgd"):
    import torch

    X, y = _data()
    model = torch_mlp()
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if optimizer_name == "sgd"
        else torch.optim.Adam(model.parameters(), lr=1e-3)
    )
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()

    return step


def chainrule_infer():
    X, _ = _data()
    model = chainrule_mlp().eval()
    Xt = cr.tensor(X)

    def run():
        with cr.no_grad():
            model(Xt)

    return run


def torch_infer():
    import torch

    X, _ = _data()
    model = torch_mlp().eval()
    Xt = torch.from_numpy(X)

    def run():
        with torch.no_grad():
            model(Xt)

    return run


def run(rounds=5, per_round=20) -> list[dict]:
    """Return one result row per workload: chainrule and (if installed) PyTorch timings."""
    rows = []
    workloads = {
        "mlp_train_sgd": (lambda: chainrule_step("sgd"), lambda: torch_step("sgd"), BATCH),
        "mlp_train_adam": (lambda: chainrule_step("adam"), lambda: torch_step("adam"), BATCH),
        "mlp_inference": (chainrule_infer, torch_infer, BATCH),
    }
    for name, (make_cr, make_torch, samples) in workloads.items():
        candidates = {"chainrule": make_cr()}
        if torch_available():
            candidates["torch"] = make_torch()
        timings = interleaved(candidates, rounds=rounds, per_round=per_round)
        row = {
            "workload": name,
            "samples_per_step": samples,
            "timings": timings,
            "peak_rss_mb": peak_rss_mb(),
        }
        if name.startswith("mlp_train"):
            row["flops_per_step"] = mlp_flops_per_step()
        rows.append(row)
    return rows


if __name__ == "__main__":
    limiter = set_threads(2)
    for row in run():
        t = row["timings"]
        line = f"{row['workload']:16s} chainrule {t['chainrule']['median_s'] * 1e3:7.2f} ms"
        if "torch" in t:
            ratio = t["torch"]["median_s"] / t["chainrule"]["median_s"]
            line += f"  torch {t['torch']['median_s'] * 1e3:7.2f} ms  ratio {ratio:.2f}"
        print(line)
