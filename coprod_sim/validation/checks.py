"""Checks: one claim, one measured number with its 95% interval, one verdict.

A directional claim ("b is higher than a") *holds* when the 95% interval of
the paired difference lies wholly on the claimed side, *does not hold* when it
lies wholly on the other side, and is *not shown* when it contains zero. A claim of
*no* practical difference holds when the interval lies within a stated margin. A
reduction holds when the largest deviation from the published result is within
its stated tolerance. The verdict is computed, never written in.

Paired differences use common random numbers: replication ``r`` of every cell
of a sweep shares its random stream, so ``b_r - a_r`` is paired on
``replication`` (see :mod:`coprod_sim.experiments.stats`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coprod_sim.experiments.stats import Interval, mean_interval, paired_difference

HOLDS, FAILS, NOT_SHOWN = "holds", "does not hold", "not shown"
#: Every verdict a check can reach.
VERDICTS = (HOLDS, FAILS, NOT_SHOWN)
Direction = Literal["above", "below"]


@dataclass(frozen=True)
class Check:
    """A claim, what was measured for it, and whether it held."""

    subject: str  # "Fact 1", "Reduction: Bass", ...
    claim: str  # the claim in plain words
    measure: str  # what the number is
    estimate: float
    low: float  # 95% interval (NaN for a deterministic comparison)
    high: float
    criterion: str  # what would make it hold
    verdict: str
    # Why, in the model's mechanisms, a check may fail: shown only when it does not hold.
    note: str = ""

    def row(self) -> dict[str, Any]:
        return asdict(self)


def select(table: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list means any of them)."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in where.items():
        if column not in table.columns:
            raise KeyError(f"{column!r}: not a column of the results ({list(table.columns)})")
        allowed = value if isinstance(value, list | tuple) else [value]
        mask &= table[column].isin(allowed).to_numpy()
    return table[mask]


def per_replication(table: pd.DataFrame, where: Mapping[str, Any], outcome: str) -> pd.Series:
    """``outcome`` per replication over the selected rows (averaged if several cells)."""
    rows = select(table, where)
    if rows.empty:
        raise ValueError(f"no runs where {dict(where)}")
    return rows.groupby("replication")[outcome].mean()


def change(series: pd.DataFrame, where: Mapping[str, Any], outcome: str, start: int, end: int):
    """Per replication, ``outcome`` in week ``end`` minus week ``start``."""
    return per_replication(series, {**where, "step": end}, outcome) - per_replication(
        series, {**where, "step": start}, outcome
    )


def paired(a: pd.Series, b: pd.Series) -> Interval:
    """Mean of ``b - a`` over the replications both have, with its paired t interval."""
    both = pd.concat({"a": a, "b": b}, axis=1).dropna()
    if both.empty:
        raise ValueError("no replication in common to pair")
    return paired_difference(both["a"].to_numpy(), both["b"].to_numpy())


def level(values: pd.Series) -> Interval:
    """Mean over replications with its t interval."""
    return mean_interval(values.to_numpy())


def bootstrap(
    values: NDArray[np.float64],
    statistic: Callable[[NDArray[np.float64]], float],
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """``statistic`` of a (replications × conditions) array with a percentile bootstrap 95%
    interval, resampling whole replications (common random numbers keep a row together).

    For statistics of several conditions' means, such as the steepest step of a response
    curve, that no t interval covers. The seed is fixed: the same data give the same interval.

    Why not ``scipy.stats.bootstrap`` (tried with scipy 1.18, resampling row indices with the
    same generator): its resamples are the same, but its interval is not, bit for bit. It
    takes the quantiles at ``(1 - 0.95) / 2 = 0.025000000000000022``, not at 2.5%, so the
    bounds move in their last digits (an upper bound of 2.9863217725980573 becomes
    2.9863217725980578), and one NaN draw makes its interval NaN, where this one still bounds
    a statistic that is undefined in at most 5% of the draws (a ratio whose denominator can
    be zero). The validation's published numbers would change, so it stays written out.
    """
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    draws = np.array([statistic(values[rng.integers(0, n, n)]) for _ in range(resamples)])
    if np.isnan(draws).mean() > 0.05:  # the statistic is undefined too often to bound
        return Interval(np.float64(statistic(values)), np.float64(np.nan), np.float64(np.nan), n)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return Interval(np.float64(statistic(values)), np.float64(low), np.float64(high), n)


def directional_verdict(interval: Interval, direction: Direction, reference: float = 0.0) -> str:
    """Holds when the interval lies wholly on the claimed side of ``reference``, does not
    hold when wholly on the other side, and is not shown otherwise (or with no interval)."""
    where = interval.side(reference)
    if where.value == direction:  # Side's values are the directions' words
        return HOLDS
    return FAILS if where.clear else NOT_SHOWN


def directional(
    subject: str,
    claim: str,
    measure: str,
    interval: Interval,
    direction: Direction,
    note: str = "",
    reference: float = 0.0,
) -> Check:
    """A claim that a difference, change or level is above or below ``reference`` (zero)."""
    return Check(
        subject,
        claim,
        measure,
        float(interval.mean),
        float(interval.low),
        float(interval.high),
        f"95% interval {direction} {reference:g} ({interval.n} replications)",
        directional_verdict(interval, direction, reference),
        note,
    )


def equivalent(
    subject: str, claim: str, measure: str, interval: Interval, margin: float, note: str = ""
) -> Check:
    """A claim of no practical difference: holds when the 95% interval lies within ±margin,
    does not hold when it lies wholly outside, and is not shown otherwise."""
    low, high = float(interval.low), float(interval.high)
    if np.isnan(low):
        verdict = NOT_SHOWN
    elif -margin <= low and high <= margin:
        verdict = HOLDS
    elif high < -margin or low > margin:
        verdict = FAILS
    else:
        verdict = NOT_SHOWN
    return Check(
        subject,
        claim,
        measure,
        float(interval.mean),
        low,
        high,
        f"95% interval within ±{margin:g} ({interval.n} replications)",
        verdict,
        note,
    )


def within(subject: str, claim: str, measure: str, error: float, tolerance: float) -> Check:
    """A deterministic or averaged comparison: holds when ``error <= tolerance``."""
    return Check(
        subject,
        claim,
        measure,
        float(error),
        float("nan"),
        float("nan"),
        f"≤ {tolerance:g}",
        HOLDS if error <= tolerance else FAILS,
    )


def region(
    table: pd.DataFrame,
    by: Sequence[str],
    measure: Callable[[pd.DataFrame], Interval],
    direction: Direction,
    reference: float = 0.0,
) -> pd.DataFrame:
    """Apply a paired measure in each cell of the moderators ``by``, with its verdict.

    This is how a fact's failure region is found: the same contrast, cell by
    cell, across a sweep of the conditions it might depend on.
    """
    rows = []
    for keys, cell in table.groupby(list(by), sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        interval = measure(cell)
        rows.append(
            {
                **dict(zip(by, keys, strict=True)),
                "estimate": float(interval.mean),
                "low": float(interval.low),
                "high": float(interval.high),
                "n": interval.n,
                "verdict": directional_verdict(interval, direction, reference),
            }
        )
    return pd.DataFrame(rows)
