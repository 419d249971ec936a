"""Data: datasets, mini-batch loading, preprocessing, and the dataset catalogue.

- :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :func:`random_split`;
- :class:`DataLoader` yields mini-batches of :class:`~chainrule.Tensor`;
- :func:`standardize`, :class:`StandardScaler`, :func:`one_hot`;
- :mod:`chainrule.data.datasets`: ``load(name_or_path)`` for the bundled,
  generated and file datasets (digits, iris, mnist1d, fashion-mnist, CSV, ...).
"""

from __future__ import annotations

from . import datasets
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .preprocessing import StandardScaler, check_finite, one_hot, standardize

__all__ = [
    "DataLoader",
    "Dataset",
    "StandardScaler",
    "Subset",
    "TensorDataset",
    "check_finite",
    "datasets",
    "default_collate",
    "one_hot",
    "random_split",
    "standardize",
]
