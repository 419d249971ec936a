"""``Upsample``: resize feature maps by nearest-neighbour or (bi)linear interpolation."""

from __future__ import annotations

from .. import functional as F
from ..functional.resample import _MODES
from ..tensor import Tensor
from .linear import as_input
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) inputs (PyTorch's ``nn.Upsample``).

    Parameters
    ----------
    size : int or tuple of int, optional
    scale_factor : float or tuple of float, optional
        Exactly one of ``size`` and ``scale_factor``; output size ⌊in · scale_factor⌋.
    mode : 'nearest' (default), 'linear' (for (N, C, L)) or 'bilinear' (for (N, C, H, W))
    align_corners : bool, optional
        Linear modes only; see :func:`chainrule.functional.interpolate` for the coordinate rules.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.Upsample(scale_factor=2, mode="bilinear")(np.ones((1, 3, 4, 5))).shape
    (1, 3, 8, 10)
    """

    def __init__(
        self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None
    ):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        if mode not in _MODES:
            raise ValueError(
                f"Upsample: mode must be one of {', '.join(_MODES)}, received {mode!r}"
            )
        if mode == "nearest" and align_corners is not None:
            raise ValueError("Upsample: align_corners applies only to the linear modes")
        self.size = tuple(size) if isinstance(size, (list, tuple)) else size
        self.scale_factor = (
            tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else scale_factor
        )
        self.mode, self.align_corners = mode, align_corners

    def reset_parameters(self, generator=None) -> None:
        """No parameters to initialise."""

    def forward(self, input) -> Tensor:
        return F.interpolate(
            as_input(input, None), self.size, self.scale_factor, self.mode, self.align_corners
        )

    def get_config(self) -> dict:
        def listed(v):
            return list(v) if isinstance(v, tuple) else v

        return {
            "size": listed(self.size),
            "scale_factor": listed(self.scale_factor),
            "mode": self.mode,
            "align_corners": self.align_corners,
        }

    def extra_repr(self) -> str:
        which = (
            f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        )
        return f"{which}, mode={self.mode!r}"
