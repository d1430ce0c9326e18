"""The summaries a calibration target compares: one number from one run's tables.

Each statistic turns a run of ``steps`` weeks into the number its target observed:

* ``final``: the collaborative's value of ``output`` in the last week,
  :math:`y = x_T`;
* ``change``: its change over the run, :math:`y = x_T - x_0`;
* ``site_max_change``: the largest change at any one site,
  :math:`y = \\max_s (x_{s,T} - x_{s,0})` (JaQIC reported "up to 34 points" across its sites);
* ``site_share_improved``: the share of sites where at least one of the outputs improved by
  ``threshold`` or more, :math:`y = \\frac{1}{S}\\sum_s \\mathbb{1}[\\max_k (x_{k,s,T} -
  x_{k,s,0}) \\ge \\delta]` (Wells et al. 2018 counted the studies that improved at least one
  primary measure).

Outputs are read from the collaborative table (``final``, ``change``) or the site table (the
``site_`` statistics), as ``coprod run`` writes them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Statistic = Literal["final", "change", "site_max_change", "site_share_improved"]
STATISTICS: tuple[str, ...] = ("final", "change", "site_max_change", "site_share_improved")
#: The table each statistic reads.
TABLE = {
    "final": "collaborative",
    "change": "collaborative",
    "site_max_change": "sites",
    "site_share_improved": "sites",
}


def summarise(
    statistic: str,
    outputs: tuple[str, ...],
    collaborative: pd.DataFrame,
    sites: pd.DataFrame | None,
    threshold: float | None = None,
) -> float:
    """The value of ``statistic`` over ``outputs`` for one run (see the module docstring)."""
    if statistic == "final":
        return float(collaborative[outputs[0]].iat[-1])
    if statistic == "change":
        column = collaborative[outputs[0]]
        return float(column.iat[-1] - column.iat[0])
    if sites is None:
        raise ValueError(f"{statistic} needs the site table")
    changes = site_changes(sites, outputs)
    if statistic == "site_max_change":
        return float(changes[:, 0].max())
    if statistic == "site_share_improved":
        if threshold is None:
            raise ValueError("site_share_improved needs a threshold")
        return float(np.mean(changes.max(axis=1) >= threshold))
    raise ValueError(f"unknown statistic {statistic!r}; one of {', '.join(STATISTICS)}")


def site_changes(sites: pd.DataFrame, outputs: tuple[str, ...]) -> np.ndarray:
    """Each site's change in each output from the first week to the last: (sites, outputs)."""
    first, last = sites["step"].min(), sites["step"].max()
    start = sites[sites["step"] == first].set_index("site")[list(outputs)]
    end = sites[sites["step"] == last].set_index("site")[list(outputs)]
    return (end - start.loc[end.index]).to_numpy(dtype=float)
