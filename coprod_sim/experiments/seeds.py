"""Seeds for replications: common random numbers across scenarios.

Replication ``r`` of an experiment with root seed ``root`` gets the seed drawn
from ``numpy.random.SeedSequence(root, spawn_key=(r,))``. The stream depends on
the replication only, never on the scenario or on the order in which runs
finish, so replication ``r`` of every scenario starts from the same random
state and differences between scenarios are paired (common random numbers;
Law 2015, *Simulation Modeling and Analysis*, §11.2).
"""

from __future__ import annotations

import numpy as np


def replication_seed(root_seed: int, replication: int) -> int:
    """The model seed of replication ``replication`` under ``root_seed`` (a 63-bit int)."""
    if root_seed < 0 or replication < 0:
        raise ValueError(f"root_seed = {root_seed}, replication = {replication}: both must be >= 0")
    sequence = np.random.SeedSequence(root_seed, spawn_key=(replication,))
    # 63 bits so that the seed fits a signed 64-bit Parquet column.
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
