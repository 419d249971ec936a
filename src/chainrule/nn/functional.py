"""``chainrule.nn.functional``: :mod:`chainrule.functional` under PyTorch's name, so
``import chainrule.nn.functional as F`` works as ``import torch.nn.functional as F``."""

from ..functional import *  # noqa: F403  (the same functions, re-exported)
from ..functional import __all__  # noqa: F401
