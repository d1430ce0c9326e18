"""Running two designs side by side with common random numbers, and saying what differed.

Replication ``r`` of both designs starts from the same seed,
``coprod_sim.experiments.replication_seed(root_seed, r)``, so the two runs of a
replication share their random stream as far as the designs allow, and the
difference between designs is taken replication by replication (a paired t
interval, ``coprod_sim.experiments.paired_difference``). The interval is valid
either way; it is narrower than an unpaired one where the two designs' runs stay
correlated (trust and stigma, typically), and no narrower where the designs'
different choices soon send the shared stream apart. Each outcome is judged at
95% on its own, with no correction for judging several.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.state import OUTCOMES, Outcome
from coprod_sim import CoproductionModel, Scenario
from coprod_sim.experiments import (
    Interval,
    Side,
    mean_interval,
    paired_difference,
    replication_seed,
    side,
)

Progress = Callable[[float], None]


@dataclass
class PairResult:
    """Both designs' frames for every replication, and their outcome series."""

    names: tuple[str, str]
    scenarios: tuple[Scenario, Scenario]
    weeks: np.ndarray
    root_seed: int
    collaborative: tuple[list[pd.DataFrame], list[pd.DataFrame]]
    groups: tuple[list[pd.DataFrame], list[pd.DataFrame]]
    descriptions: tuple[str, str] = ("", "")

    @property
    def replications(self) -> int:
        return len(self.collaborative[0])

    def series(self, outcome: Outcome, design: int) -> np.ndarray:
        """(replications, weeks) array of one outcome for design 0 (A) or 1 (B)."""
        scenario = self.scenarios[design]
        return np.stack([outcome.series(f, scenario) for f in self.collaborative[design]])

    def column(self, name: str, design: int) -> np.ndarray:
        """(replications, weeks) array of a collaborative column."""
        return np.stack([f[name].to_numpy(dtype=float) for f in self.collaborative[design]])

    def difference(self, outcome: Outcome) -> Interval:
        """B − A per week with its paired interval."""
        return paired_difference(self.series(outcome, 0), self.series(outcome, 1))

    def band(self, outcome: Outcome, design: int) -> Interval:
        """One design's mean per week over replications with its t interval."""
        return mean_interval(self.series(outcome, design))


def run_pair(
    a: Scenario,
    b: Scenario,
    *,
    names: tuple[str, str] = ("A", "B"),
    descriptions: tuple[str, str] = ("", ""),
    replications: int = 5,
    weeks: int = 78,
    root_seed: int = 1,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PairResult:
    """Run ``replications`` paired replications of both designs for ``weeks`` weeks."""
    if replications < 2:
        raise ValueError(f"replications = {replications}: need at least 2 for an interval")
    if weeks < 1:
        raise ValueError(f"weeks = {weeks}: must be at least 1")
    frames: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
    groups: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
    total = 2 * replications
    for r in range(replications):
        seed = replication_seed(root_seed, r)
        for d, scenario in enumerate((a, b)):
            if cancelled is not None and cancelled():
                raise InterruptedError("cancelled")
            # Only the outputs are read: no per-person Mesa agents (the same results).
            model = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False)
            model.run_for(weeks)
            frames[d].append(model.outputs.collaborative())
            groups[d].append(model.outputs.groups())
            if progress is not None:
                progress((2 * r + d + 1) / total)
    return PairResult(
        names=names,
        scenarios=(a, b),
        weeks=frames[0][0]["week"].to_numpy(),
        root_seed=root_seed,
        collaborative=frames,
        groups=groups,
        descriptions=descriptions,
    )


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def verdict(result: PairResult, outcome: Outcome) -> str:
    """One plain sentence on an outcome at the last week: which design did better, by how
    much, and how sure that is (from the paired 95% interval)."""
    diff = result.difference(outcome)
    mean, low, high = (float(np.asarray(v)[-1]) for v in (diff.mean, diff.low, diff.high))
    ends = [float(result.band(outcome, d).mean[-1]) for d in (0, 1)]
    name_a, name_b = result.names
    d = outcome.digits
    weeks = int(result.weeks[-1])
    numbers = (
        f"{name_a} {_fmt(ends[0], d)}, {name_b} {_fmt(ends[1], d)} after {weeks} weeks; "
        f"{name_b} − {name_a} = {mean:+.{d}f}, 95% interval {low:+.{d}f} to {high:+.{d}f} "
        f"over {diff.n} paired replications"
    )
    where = side(low, high)
    if not where.clear:
        return (
            f"{outcome.label}: no clear difference ({numbers}; the interval includes 0, so "
            f"either design could be ahead)."
        )
    better = name_b if (where is Side.ABOVE) == (outcome.better == "higher") else name_a
    return (
        f"{outcome.label}: {better} did better ({numbers}; the whole interval is on one side "
        f"of 0, so the direction is clear)."
    )


def summary(result: PairResult, outcomes: tuple[Outcome, ...] = OUTCOMES) -> list[str]:
    """One verdict per outcome."""
    return [verdict(result, o) for o in outcomes]
