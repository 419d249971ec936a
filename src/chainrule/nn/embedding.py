"""Embedding: a trainable lookup table of vectors indexed by integers."""

from __future__ import annotations

from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from . import init
from .linear import check_positive_int, resolve_dtype
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim`` (PyTorch's ``nn.Embedding``).

    Shapes: integer input (*) → output (*, embedding_dim); ``weight`` is
    (num_embeddings, embedding_dim).

    Initialisation (PyTorch's default): weight ~ N(0, 1), and the
    ``padding_idx`` row (if given) set to zeros. That row receives no gradient,
    so it stays as it is during training. A negative ``padding_idx`` counts from
    the end.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=None, generator=None):
        super().__init__()
        self.num_embeddings = check_positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
                raise TypeError(
                    "Embedding: padding_idx must be an int or None, received "
                    f"{type(padding_idx).__name__}"
                )
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be in [{-self.num_embeddings}, "
                    f"{self.num_embeddings}), "
                    f"received {padding_idx}"
                )
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        dtype = resolve_dtype("Embedding", dtype)
        self.weight = Parameter(
            xp.empty((self.num_embeddings, self.embedding_dim), dtype=dtype), dtype=dtype
        )
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight, 0.0, 1.0, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input) -> Tensor:
        indices = input.data if isinstance(input, Tensor) else xp.asarray(input)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: expected integer indices, received dtype {indices.dtype}")
        if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= self.num_embeddings):
            bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
            raise ValueError(
                f"{self!r}: expected indices in [0, {self.num_embeddings}), received index {bad}"
            )
        return F.embedding(indices, self.weight, padding_idx=self.padding_idx)

    def get_config(self) -> dict:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx}

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
