"""Neural-network modules with PyTorch's names, shapes and parameter layouts."""

from . import init
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "init"]
