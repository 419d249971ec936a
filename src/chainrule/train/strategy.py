"""How the training loop spreads over processes: the :class:`Strategy` contract.

The loop (:func:`chainrule.train.fit`, the estimators) and the one
optimisation step (:func:`chainrule.train.step.train_step`) consult a strategy
at fixed moments; the single-process default, :class:`SingleProcess`, does
nothing at each of them. A data-parallel strategy implements the same methods
(see ``docs/design.md``)::

    setup(model, optimizer)              once, before the first epoch
    for each epoch, for each global batch (the same on every process):
        shard(batch)                     this process's slice of the batch
        forward, loss, backward
        reduce_gradients(params, local_size, global_size)
        on_after_backward → clip → on_before_optimizer_step → optimizer.step()
    reduce_metrics(sums)                 epoch totals summed over processes
    barrier(); teardown()                at the end of training

Only the main process (``is_main``) prints, shows progress and writes files.
"""

from __future__ import annotations

__all__ = ["SingleProcess", "Strategy", "get_strategy"]


class Strategy:
    """Base class: the single-process behaviour of every method.

    Attributes
    ----------
    rank : int
        This process's index, 0 ≤ rank < world_size.
    world_size : int
        The number of processes training together.
    """

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """True on the one process that prints, shows progress and writes files (rank 0)."""
        return self.rank == 0

    def setup(self, model, optimizer, *, generators=None, data_size=None) -> None:
        """Called once before training.

        Data-parallel: broadcast weights and RNG states from rank 0.

        ``generators`` are the run's random generators by name (``Trainer.generators()``),
        ``data_size`` the number of training samples (every process must have the same).
        """

    def shard(self, batch):
        """This process's part of a global batch ``(inputs, targets)``; the identity here."""
        return batch

    def reduce_gradients(self, parameters, local_size: int, global_size: int) -> None:
        """Make every ``p.grad`` the gradient of the global-batch mean loss (a no-op here).

        Called between ``backward()`` and gradient clipping. ``local_size`` is the
        number of samples this process saw, ``global_size`` the batch's total.
        """

    def reduce_metrics(self, sums: dict) -> dict:
        """Elementwise sum over processes of additive statistics (loss sums, counts).

        Identity here.
        """
        return dict(sums)

    def barrier(self) -> None:
        """Wait until every process gets here (nothing to wait for with one process)."""

    def teardown(self) -> None:
        """Called once after training, also when it ends by an exception."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank={self.rank}, world_size={self.world_size})"


class SingleProcess(Strategy):
    """The default strategy: one process, which is the main one.

    Examples
    --------
    >>> strategy = SingleProcess()
    >>> strategy.is_main, strategy.world_size, strategy.shard(([1, 2], [0, 1]))
    (True, 1, ([1, 2], [0, 1]))
    """


def get_strategy(strategy) -> Strategy:
    """``strategy`` itself, or :class:`SingleProcess` for None; TypeError for anything else."""
    if strategy is None:
        return SingleProcess()
    if not isinstance(strategy, Strategy):
        raise TypeError(
            "strategy: expected a chainrule.train.Strategy (e.g. SingleProcess()), "
            f"received {type(strategy).__name__}"
        )
    return strategy
