"""Pictures of training health: gradient norms, update ratios and dead units per layer."""

from __future__ import annotations

import math
import os

__all__ = ["plot_health"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _weights(health):
    return [name for name in health.grad_norms if not name.endswith("bias")]


def _log_lines(ax, steps, series, ylabel, title):
    for name, values in series.items():
        points = [(s, v) for s, v in zip(steps, values, strict=False) if math.isfinite(v) and v > 0]
        if points:
            xs, ys = zip(*points, strict=False)
            ax.plot(xs, ys, marker="o" if len(points) <= 30 else None, markersize=3, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if series:
        ax.legend(fontsize=8, ncol=2 if len(series) > 6 else 1)


def plot_health(health, folder) -> list:
    """Write gradient_norms.png, update_ratios.png and dead_units.png; return their paths."""
    plt = _pyplot()
    os.makedirs(folder, exist_ok=True)
    paths = []
    names = _weights(health)

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    _log_lines(
        ax,
        health.steps,
        {n: health.grad_norms[n] for n in names},
        "‖∂J/∂W‖ (log scale)",
        "Gradient norm per layer: a fan of lines far apart means vanishing or exploding",
    )
    fig.tight_layout()
    paths.append(os.path.join(folder, "gradient_norms.png"))
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    _log_lines(
        ax,
        health.steps,
        {n: health.update_ratios.get(n, []) for n in names},
        "‖ΔW‖ / ‖W‖ (log scale)",
        "Update-to-weight ratio per layer (healthy near 1e-3)",
    )
    ax.axhline(1e-3, color="black", linestyle="--", linewidth=1, label="1e-3")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(os.path.join(folder, "update_ratios.png"))
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    for name, fractions in health.dead_fraction.items():
        epochs = list(range(1, len(fractions) + 1))
        ax.plot(epochs, [100 * f for f in fractions], marker="o", label=f"layer {name} (ReLU)")
    if health.dead_fraction:
        ax.axhline(
            100 * health.thresholds["dead_fraction"],
            color="#d62728",
            linestyle="--",
            linewidth=1,
            label="warning threshold",
        )
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "this network has no ReLU layers",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=12,
            color="#555555",
        )
    ax.set_ylim(0, 100)
    ax.set_xlabel("epoch")
    ax.set_ylabel("dead units (% of the layer)")
    ax.set_title("ReLU units that were zero for every sample of the epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    paths.append(os.path.join(folder, "dead_units.png"))
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
