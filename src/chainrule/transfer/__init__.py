"""Adapt a trained network: freezing, fine-tuning, online learning and continual learning.

- Freezing lives on every module: ``model.freeze()``, ``model.freeze(up_to="2")``,
  ``model.unfreeze()`` (a frozen module gets no gradients, no optimizer state and no updates,
  and a frozen BatchNorm normalises with its running statistics, which it keeps, even in
  ``train()`` mode).
- :func:`replace_head`, :func:`param_groups` and :func:`fine_tune`: a new head, a smaller
  learning rate for the backbone, and the staged schedule (head first, then everything).
- :class:`EWC` and :func:`fisher_information`: elastic weight consolidation, a regulariser for
  :func:`chainrule.train.fit` that keeps what earlier tasks needed; :func:`backward_transfer`
  and :func:`forgetting` measure how much was kept.
- :class:`ADWIN` and :class:`DriftCallback`: detect a change in a stream (a loss, an error
  rate) and act on it during online training (see also :func:`chainrule.train.progressive_score`).
"""

from .continual import backward_transfer, forgetting
from .drift import ADWIN, DriftCallback
from .ewc import EWC, fisher_information
from .finetune import find_head, fine_tune, load_pretrained, param_groups, replace_head

__all__ = [
    "ADWIN",
    "EWC",
    "DriftCallback",
    "backward_transfer",
    "find_head",
    "fine_tune",
    "fisher_information",
    "forgetting",
    "load_pretrained",
    "param_groups",
    "replace_head",
]
