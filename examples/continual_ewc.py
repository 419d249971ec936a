"""Continual learning on permuted digits: plain fine-tuning forgets task A, EWC forgets less.

Task A is scikit-learn's 8×8 digits; task B is the same digits with the 64 pixels shuffled by a
fixed permutation (a new input distribution, the same ten classes). One MLP learns A, then B,
either plainly or with the EWC penalty of task A. For each of several seeds it prints the
accuracy on A before and after learning B and on B at the end, and the forgetting.

    python examples/continual_ewc.py            # 5 seeds, about a minute on 2 cores
"""

from __future__ import annotations

import argparse

import numpy as np

from chainrule import nn, optim
from chainrule.data import datasets
from chainrule.train import evaluate, fit
from chainrule.transfer import EWC, backward_transfer, forgetting


def make_tasks(seed: int):
    bundle = datasets.load("digits")
    X = np.concatenate([bundle.X_train, bundle.X_test]).astype(np.float32)
    y = np.concatenate([bundle.y_train, bundle.y_test])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    split = int(0.75 * len(X))
    permutation = rng.permutation(X.shape[1])
    task_a = (X[:split], y[:split]), (X[split:], y[split:])
    task_b = (X[:split][:, permutation], y[:split]), (X[split:][:, permutation], y[split:])
    return task_a, task_b


def run(seed: int, strength: float, epochs: int = 15):
    (train_a, test_a), (train_b, test_b) = make_tasks(seed)
    generator = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(64, 100, generator=generator), nn.ReLU(), nn.Linear(100, 10, generator=generator)
    )

    def accuracy(data):
        return evaluate(model, data, loss="cross_entropy", metrics=["accuracy"])["accuracy"]

    def train(data, callbacks=()):
        opt = optim.Adam(model.parameters(), lr=1e-3)
        fit(
            model,
            data,
            loss="cross_entropy",
            optimizer=opt,
            epochs=epochs,
            batch_size=32,
            generator=seed,
            callbacks=list(callbacks),
            progress=False,
            verbose=0,
        )

    train(train_a)
    R = np.zeros((2, 2))
    R[0] = accuracy(test_a), accuracy(test_b)
    callbacks = [EWC(model, train_a, strength=strength)] if strength > 0 else []
    train(train_b, callbacks)
    R[1] = accuracy(test_a), accuracy(test_b)
    return R


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--strength", type=float, default=100.0)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args(argv)
    rows = {"fine-tuning": [], f"EWC (λ={args.strength:g})": []}
    for seed in range(args.seeds):
        for label, strength in zip(rows, (0.0, args.strength), strict=True):
            R = run(seed, strength, args.epochs)
            rows[label].append((R[0, 0], R[1, 0], R[1, 1], forgetting(R), backward_transfer(R)))
    print("| method | A after A | A after B | B after B | forgetting |")
    print("|---|---|---|---|---|")
    for label, values in rows.items():
        v = np.array(values)
        means, stds = v.mean(axis=0)[:4], v.std(axis=0)[:4]
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(means, stds, strict=True)]
        print(f"| {label} | " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    main()
