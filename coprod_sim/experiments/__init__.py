"""The experiment layer: specs, designs, execution, storage and analysis.

Kept apart from the model (it uses only :class:`coprod_sim.CoproductionModel`'s
public API), in the split EMA Workbench and SALib use: what to run (``spec``,
``design``), how to run it (``engine``; ``store``, with ``parts`` and ``record``),
and what it means (``analysis``, ``report``).
"""

from coprod_sim.experiments.seeds import replication_seed
from coprod_sim.experiments.stats import Interval, Side, mean_interval, paired_difference, side

__all__ = ["Interval", "Side", "mean_interval", "paired_difference", "replication_seed", "side"]
