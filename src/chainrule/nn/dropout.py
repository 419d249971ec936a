"""Inverted dropout: elementwise ``Dropout``, channel-wise ``Dropout1d`` and ``Dropout2d``."""

from __future__ import annotations

from .. import functional as F
from ..rng import get_generator
from ..tensor import Tensor
from .linear import as_input
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class Dropout(Module):
    """Zero each element with probability ``p`` during training and scale the rest by 1/(1 − p).

    The scaling ("inverted dropout") keeps the expected activation unchanged,
    so evaluation mode is the identity. Shapes: any → the same.

    Parameters
    ----------
    p : float in [0, 1]
        Probability of dropping an element (default 0.5).
    generator : numpy.random.Generator or int, optional
        Source of the masks; None uses the library default (``chainrule.manual_seed``).
    """

    def __init__(self, p: float = 0.5, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"Dropout: p must be a number, received {type(p).__name__}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], received {p}")
        self.p = float(p)
        self.generator = None if generator is None else get_generator(generator)

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        return F.dropout(as_input(input), self.p, training=self.training, generator=self.generator)

    def get_config(self) -> dict:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) inputs with probability ``p``, scale the rest by 1/(1 − p).

    Adjacent positions of a feature map are strongly correlated, so dropping single elements
    regularises little; dropping the channel does (Tompson et al., 2015). Identity in eval mode.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> y = nn.Dropout1d(0.5, generator=np.random.default_rng(0))(np.ones((2, 6, 4))).numpy()
    >>> bool((y.std(axis=2) == 0).all())
    True
    """

    def forward(self, input) -> Tensor:
        return F.dropout1d(
            as_input(input), self.p, training=self.training, generator=self.generator
        )


class Dropout2d(Dropout):
    """Zero whole channels (feature maps) of (N, C, H, W) inputs with probability ``p``;
    see :class:`Dropout1d`.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.Dropout2d(0.2).eval()(np.ones((1, 3, 2, 2))).shape
    (1, 3, 2, 2)
    """

    def forward(self, input) -> Tensor:
        return F.dropout2d(
            as_input(input), self.p, training=self.training, generator=self.generator
        )
