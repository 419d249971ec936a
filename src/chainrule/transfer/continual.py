"""Metrics of continual learning, from the accuracy matrix R.

R[i, j] is the score (say accuracy) on task j measured after training on tasks 0..i, for
T tasks trained in order. Lopez-Paz and Ranzato ("Gradient episodic memory for continual
learning", NeurIPS 2017) define

    backward transfer  BWT = 1/(T−1) Σ_{j<T−1} (R[T−1, j] − R[j, j])

(negative: training later tasks made earlier ones worse), and Chaudhry et al. ("Riemannian
walk for incremental learning", ECCV 2018) the average forgetting

    forgetting = 1/(T−1) Σ_{j<T−1} (max_{l<T−1} R[l, j] − R[T−1, j]).

Examples
--------
>>> from chainrule.transfer import backward_transfer, forgetting
>>> R = [[0.95, 0.10], [0.60, 0.97]]
>>> round(backward_transfer(R), 2), round(forgetting(R), 2)
(-0.35, 0.35)
"""

from __future__ import annotations

from ..backend import xp

__all__ = ["backward_transfer", "forgetting"]


def _matrix(R, name):
    R = xp.asarray(R, dtype=xp.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 2:
        raise ValueError(
            f"{name}: expected a square T×T accuracy matrix with T >= 2, received shape {R.shape}"
        )
    return R


def backward_transfer(R) -> float:
    """BWT: mean change of each earlier task's score between learning it and the end."""
    R = _matrix(R, "backward_transfer")
    T = R.shape[0]
    return float(xp.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


def forgetting(R) -> float:
    """Average forgetting: best score each earlier task ever had, minus its final score."""
    R = _matrix(R, "forgetting")
    T = R.shape[0]
    return float(xp.mean([R[: T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))
