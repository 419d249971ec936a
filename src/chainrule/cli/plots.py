"""The run folder's plots: loss and metric curves per epoch, and the test confusion matrix."""

from __future__ import annotations

import os

from ._common import xp


def save_plots(out, history, bundle, test_pred):
    """Write ``loss.png`` (and ``accuracy.png``, ``confusion_matrix.png`` for classifiers) to
    ``out``; return the file names written (none when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipping plots (pip install matplotlib)")
        return []
    written = []
    epochs = [e + 1 for e in history.epoch]
    pairs = [("loss", "loss.png")]
    if "accuracy" in history:
        pairs.append(("accuracy", "accuracy.png"))
    for key, filename in pairs:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(epochs, history[key], label=f"train {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(f"{bundle.name}: {key}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, filename), dpi=100)
        plt.close(fig)
        written.append(filename)
    if bundle.task == "classification" and test_pred is not None:
        from ..train.metrics import predicted_classes

        np_ = xp()
        k = int(bundle.num_classes)
        matrix = np_.zeros((k, k), dtype=np_.int64)
        np_.add.at(matrix, (bundle.y_test.astype(np_.int64),
                            predicted_classes(test_pred).astype(np_.int64)), 1)
        fig, ax = plt.subplots(figsize=(4.5 + 0.15 * k, 4 + 0.15 * k))
        image = ax.imshow(matrix, cmap="Blues")
        fig.colorbar(image, ax=ax)
        names = bundle.class_names or [str(i) for i in range(k)]
        ax.set_xticks(range(k), names, rotation=90 if k > 10 else 0)
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{bundle.name}: confusion matrix (test)")
        if k <= 12:
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] > matrix.max() / 2 else "black")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "confusion_matrix.png"), dpi=100)
        plt.close(fig)
        written.append("confusion_matrix.png")
    return written
