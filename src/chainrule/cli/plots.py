"""The run folder's plots: loss and metric curves per epoch, the test confusion matrix
(classifiers) and predicted against true values (regressors)."""

from __future__ import annotations

import os

from ._common import xp

FEW_EPOCHS = 30
"""Curves with at most this many epochs get a marker on each epoch."""


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_plots(out, history, bundle, test_pred):
    """Write ``loss.png`` (and ``accuracy.png`` and ``confusion_matrix.png`` for classifiers,
    ``predicted_vs_true.png`` for regressors) to ``out``; return the file names written
    (none when matplotlib is missing)."""
    plt = _pyplot()
    if plt is None:
        print("note: matplotlib is not installed; skipping plots (pip install matplotlib)")
        return []
    written = [_curve(plt, out, history, bundle, "loss")]
    if "accuracy" in history:
        written.append(_curve(plt, out, history, bundle, "accuracy"))
    if test_pred is not None and bundle.task == "classification":
        written.append(_confusion(plt, out, bundle, test_pred))
    elif test_pred is not None:
        written.append(_predicted_vs_true(plt, out, bundle, test_pred))
    return written


def _curve(plt, out, history, bundle, key):
    from matplotlib.ticker import MaxNLocator

    epochs = [e + 1 for e in history.epoch]
    marker = "o" if len(epochs) <= FEW_EPOCHS else None
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(epochs, history[key], marker=marker, markersize=4, label=f"train {key}")
    if f"val_{key}" in history:
        ax.plot(epochs, history[f"val_{key}"], marker=marker, markersize=4,
                label=f"validation {key}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.set_title(f"{bundle.name}: {key}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    filename = f"{key}.png"
    fig.savefig(os.path.join(out, filename), dpi=100)
    plt.close(fig)
    return filename


def _confusion(plt, out, bundle, test_pred):
    from ..backend import scatter_add
    from ..train.metrics import predicted_classes

    np_ = xp()
    k = int(bundle.num_classes)
    matrix = np_.zeros((k, k), dtype=np_.int64)
    scatter_add(matrix, (bundle.y_test.astype(np_.int64),
                         predicted_classes(test_pred).astype(np_.int64)), 1)
    names = bundle.class_names or [str(i) for i in range(k)]
    longest = max(len(n) for n in names)
    rotate = k > 10 or longest * k > 40  # labels that would overlap side by side
    side = 3.5 + 0.35 * k + (0.07 * longest if rotate else 0.0)
    fig, ax = plt.subplots(figsize=(side + 1.0 + 0.07 * longest, side))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="test samples")
    ax.set_xticks(range(k), names, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np_.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"{bundle.name}: confusion matrix (test, accuracy {accuracy:.3f})")
    if k <= 15:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "confusion_matrix.png"), dpi=100)
    plt.close(fig)
    return "confusion_matrix.png"


def _predicted_vs_true(plt, out, bundle, test_pred):
    np_ = xp()
    true = np_.asarray(bundle.y_test, dtype=np_.float64).reshape(len(bundle.y_test), -1)[:, 0]
    pred = np_.asarray(test_pred, dtype=np_.float64).reshape(len(test_pred), -1)[:, 0]
    low, high = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.scatter(true, pred, s=12, alpha=0.6, label="test samples")
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="predicted = true")
    residual = pred - true
    r2 = 1 - float((residual ** 2).sum()) / max(float(((true - true.mean()) ** 2).sum()), 1e-12)
    target = bundle.target_name or "target"
    extra = " (first of several)" if np_.asarray(bundle.y_test).reshape(
        len(bundle.y_test), -1).shape[1] > 1 else ""
    ax.set_xlabel(f"true {target}{extra}")
    ax.set_ylabel(f"predicted {target}")
    ax.set_title(f"{bundle.name}: predicted vs true (test, R² {r2:.3f})")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "predicted_vs_true.png"), dpi=100)
    plt.close(fig)
    return "predicted_vs_true.png"
