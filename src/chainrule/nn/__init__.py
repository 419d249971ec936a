"""Neural-network modules with PyTorch's names, shapes and parameter layouts.

Each submodule lists its public layers in ``__all__``; they are gathered here.
"""

from . import init
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .module import Module, Parameter
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
