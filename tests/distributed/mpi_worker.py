"""Training runs that test_mpi.py starts under ``mpiexec -n P python -m mpi4py`` and in-process.

``run(config, strategy)`` trains one small float64 model with shuffling and
returns its final parameters and per-epoch validation accuracy; the same
call with one process is the reference. Run as a script, it does every
configuration under DataParallel and rank 0 writes the results to an .npz.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from chainrule import nn, optim
from chainrule.train import ModelCheckpoint, evaluate, fit

CONFIGS = ["mlp-sgd", "mlp-adam", "cnn-sgd", "cnn-adam"]
EPOCHS, BATCH = 3, 15


def data(seed=0, n=61, image=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1, 6, 6) if image else (n, 5))
    w = rng.normal(size=(X[0].size, 3))
    y = (X.reshape(n, -1) @ w).argmax(axis=1)
    return X, y


def model_for(config):
    # No bias before BatchNorm: its true gradient is 0, and Adam would turn rounding noise
    # (1e-17) into steps of lr * noise / eps, a parameter no two summation orders agree on.
    rng = np.random.default_rng(1)
    f64 = {"dtype": np.float64, "generator": rng}
    if config.startswith("mlp"):
        return nn.Sequential(nn.Linear(5, 8, **f64), nn.Tanh(), nn.Linear(8, 3, **f64))
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, bias=False, **f64), nn.BatchNorm2d(3, dtype=np.float64),
        nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 3, **f64),
    )


def optimizer_for(config, model):
    if config.endswith("sgd"):
        return optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return optim.Adam(model.parameters(), lr=0.01)


def run(config, strategy=None, *, epochs=EPOCHS, checkpoint=None, resume_from=None):
    """Train ``config``; return (parameters and buffers, val accuracies, test accuracy)."""
    image = config.startswith("cnn")
    X, y = data(0, image=image)
    X_val, y_val = data(1, n=23, image=image)
    model = model_for(config)
    callbacks = [ModelCheckpoint(checkpoint)] if checkpoint else []
    history = fit(model, (X, y), loss="cross_entropy", optimizer=optimizer_for(config, model),
                  epochs=epochs, batch_size=BATCH, validation_data=(X_val, y_val),
                  metrics=["accuracy"], generator=7, verbose=0, strategy=strategy,
                  callbacks=callbacks, resume_from=resume_from)
    test = evaluate(model, data(2, n=29, image=image), metrics=["accuracy"], batch_size=10,
                    strategy=strategy)
    state = {k: np.array(v) for k, v in model.state_dict().items()}
    return state, history.history["val_accuracy"], test["accuracy"]


def main(out):
    from chainrule.distributed import DataParallel

    strategy = DataParallel()
    results, accuracies = {}, {}
    for config in CONFIGS:
        state, val, test = run(config, strategy)
        results.update({f"{config}/{k}": v for k, v in state.items()})
        accuracies[config] = {"val": val, "test": test}
    # Resume: 2 epochs with a checkpoint written by rank 0, then continue to 4.
    path = os.path.join(out, "checkpoint.safetensors")
    whole, _, _ = run("cnn-adam", strategy, epochs=4)
    run("cnn-adam", strategy, epochs=2, checkpoint=path)
    resumed, _, _ = run("cnn-adam", strategy, epochs=4, resume_from=path)
    results.update({f"whole/{k}": v for k, v in whole.items()})
    results.update({f"resumed/{k}": v for k, v in resumed.items()})
    if strategy.is_main:
        np.savez(os.path.join(out, "results.npz"), **results)
        with open(os.path.join(out, "accuracy.json"), "w") as handle:
            json.dump({"world_size": strategy.world_size, **accuracies}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
