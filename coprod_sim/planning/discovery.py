"""Scenario discovery: where in the uncertain context a design fails its targets.

PRIM, the patient rule induction method (Friedman & Fisher 1999), as scenario discovery uses
it (Bryant & Lempert 2010), through EMA Workbench's maintained implementation
(``ema_workbench.analysis.prim``; Kwakkel 2017). PRIM peels the futures' box of context
values, a little at a time, toward the futures where the design fails, and traces the
trade-off between

* **coverage**: the share of all failing futures that lie inside the box, and
* **density**: the share of the futures inside the box that fail.

Of the boxes on that trajectory this module takes the one with the largest coverage among
those of density at least ``density`` (0.8 unless told, EMA Workbench's former default
threshold; the densest box when none reaches it), and says in words which context fields
it restricts, e.g. "when initial_trust is below 0.41 and groups.sex_workers.reachability is
below 0.33".
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The smallest density of a box that is reported as where a design fails.
DENSITY = 0.8


@dataclass(frozen=True)
class FailureBox:
    """A box of the context where a design fails, with its coverage and density."""

    design: str
    # The restricted fields only: (low, high), None for an end PRIM did not move.
    limits: dict[str, tuple[float | None, float | None]]
    coverage: float
    density: float
    failures: int  # failing futures in all
    futures: int
    trajectory: pd.DataFrame  # PRIM's peeling trajectory (coverage, density, mass, ...)

    def conditions(self, words=str, number: str = "{:.3g}") -> list[str]:
        """Each restriction in words, e.g. "initial_trust is below 0.569"; ``words`` names a
        field (``str``: as is), ``number`` formats a bound."""
        parts = []
        for name, (low, high) in self.limits.items():
            what = words(name)
            if low is not None and high is not None:
                parts.append(f"{what} is between {number.format(low)} and {number.format(high)}")
            elif high is not None:
                parts.append(f"{what} is below {number.format(high)}")
            else:
                parts.append(f"{what} is above {number.format(low)}")
        return parts

    def describe(self) -> str:
        """The box in words."""
        if not self.limits:
            return "no part of the context stands out: the failures are spread across it"
        parts = self.conditions()
        return (
            f"fails mostly when {' and '.join(parts)} (coverage {self.coverage:.0%}: that "
            f"share of its {self.failures} failing futures lie there; density "
            f"{self.density:.0%}: that share of the futures there fail)"
        )


def failure_box(
    design: str, context: pd.DataFrame, fails: np.ndarray, density: float = DENSITY
) -> FailureBox | None:
    """PRIM's box of the futures where ``design`` fails, or None when it fails in none of
    them or in all (there is nothing to tell apart)."""
    fails = np.asarray(fails, dtype=bool)
    if not 0 < fails.sum() < len(fails):
        return None
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(context.reset_index(drop=True).astype(float), fails)
        box = finder.find_box()
    trajectory = box.peeling_trajectory.copy()
    dense = trajectory[trajectory["density"] >= density]
    chosen = (
        int(dense["coverage"].idxmax()) if not dense.empty else int(trajectory["density"].idxmax())
    )
    limits = box.box_lims[chosen]
    full = box.box_lims[0]  # the futures' own extremes: no restriction
    restricted = {}
    for name in context.columns:
        ends = [
            None if np.isclose(limits[name].iloc[k], full[name].iloc[k]) else limits[name].iloc[k]
            for k in (0, 1)
        ]
        ends = [None if end is None else float(end) for end in ends]
        if ends != [None, None]:
            restricted[name] = (ends[0], ends[1])
    row = trajectory.loc[chosen]
    return FailureBox(
        design=design,
        limits=restricted,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        failures=int(fails.sum()),
        futures=len(fails),
        trajectory=trajectory,
    )


def _prim_module():
    """EMA Workbench's PRIM, imported quietly: the package warns at import about optional
    parallel back ends (ipyparallel) a plan does not use, and logs each peel at INFO."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    logging.getLogger("EMA.analysis.prim").setLevel(logging.WARNING)
    return prim
