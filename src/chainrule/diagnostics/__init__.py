"""Look inside training: what to check when a network does not learn.

- :class:`TrainingHealth`: a callback recording per-layer gradient norms, update ratios,
  activations, dead and saturated units, with plain-language warnings.
- :func:`explain`: the tutorial's chain rule, layer by layer, on your own network, with each
  gradient checked against finite differences.
- :func:`draw_graph`: the graph autograd recorded, as Graphviz DOT (SVG/PNG with Graphviz).
- :func:`lr_find`: the learning-rate range test, with a suggested rate and a plot.
- :func:`check_initial_loss` and :func:`overfit_one_batch`: two quick checks with a verdict.
"""

from .chain_rule import ChainRuleReport, explain
from .graph import draw_graph, graph_nodes
from .health import THRESHOLDS, TrainingHealth
from .lr_find import LRFinderResult, lr_find
from .recipes import Verdict, check_initial_loss, overfit_one_batch

__all__ = [
    "ChainRuleReport",
    "LRFinderResult",
    "THRESHOLDS",
    "TrainingHealth",
    "Verdict",
    "check_initial_loss",
    "draw_graph",
    "explain",
    "graph_nodes",
    "lr_find",
    "overfit_one_batch",
]
