"""``nn.utils``: gradient clipping under PyTorch's ``torch.nn.utils`` names.

The implementations live in :mod:`chainrule.optim.clip`; these are the same functions.

Examples
--------
>>> import numpy as np, chainrule as cr, chainrule.nn as nn
>>> w = nn.Parameter(np.zeros(2))
>>> w.grad = np.array([3.0, 4.0], dtype=np.float32)
>>> float(nn.utils.clip_grad_norm_([w], max_norm=1.0))  # the norm before clipping
5.0
"""

from ..optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
