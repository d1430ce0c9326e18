"""Checks: one claim, one measured number with its 95% interval, one verdict.

Every claim declares, in its spec and before running (``[claims.<id>]``), the smallest
effect that would matter, m, in the outcome's own units. On the claimed side (a claim that
b is higher than a, or lower), a claim

* **holds** when its 95% interval lies wholly beyond the margin (low > m);
* shows **no important difference** when its interval lies within ±m;
* **does not hold** when its interval lies wholly short of the margin (high < m) but not
  within ±m (an effect of the wrong sign, or one that may be);
* is **not shown** otherwise: the interval contains m, and more replications could tell.

With m = 0 these are the plain directional verdicts. A reduction holds when the largest
deviation from the published result is within its stated tolerance. The verdict is computed,
never written in.

Multiple comparisons. The study tests many claims, so it adjusts for them (:func:`holm`):
each claim's one-sided p-values (beyond the margin, within ±m, short of it) from its t
interval are adjusted by Holm's step-down procedure over all the study's claims, one family
per kind of conclusion, and a verdict needs its adjusted p-value below 0.025 (the one-sided
level of a 95% interval). The intervals shown stay the unadjusted 95% intervals.

Kinds. A claim is a *fact* when its verdict emerges from several mechanisms together, and a
*mechanism* check when it follows from one mechanism's rule alone (its ``rule`` says which);
the report labels them apart. A *plausibility* pattern sets a model figure beside a published
one and has no verdict (``reported``).

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
NO_IMPORTANT = "no important difference"
REPORTED = "reported"  # a plausibility pattern: a figure set beside a published one
#: Every verdict a check can reach.
VERDICTS = (HOLDS, NO_IMPORTANT, FAILS, NOT_SHOWN, REPORTED)
Direction = Literal["above", "below"]
Kind = Literal["fact", "mechanism", "reduction", "plausibility"]
#: One-sided level of each conclusion: that of a two-sided 95% interval.
ALPHA = 0.025


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
    margin: float = float("nan")  # the minimum important effect, declared in the spec
    unit: str = ""  # the margin's unit, in plain words
    kind: str = "fact"  # fact, mechanism, reduction or plausibility (see the docstring)
    rule: str = ""  # for a mechanism check: the rule its verdict follows from
    direction: str = ""  # "above" or "below": the claimed side
    df: float = float("nan")  # degrees of freedom of the interval (inf: a normal bootstrap)
    p_adjusted: float = float("nan")  # Holm-adjusted p-value of the verdict reached

    def row(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def measured(
        cls,
        subject: str,
        claim: str,
        measure: str,
        interval: Interval,
        criterion: str,
        verdict: str,
        note: str = "",
        **details: Any,
    ) -> Check:
        """A check on an interval: its mean and bounds as the estimate and the 95% interval."""
        mean, low, high = float(interval.mean), float(interval.low), float(interval.high)
        return cls(subject, claim, measure, mean, low, high, criterion, verdict, note, **details)


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


def margin_verdict(low: float, high: float, direction: str, margin: float) -> str:
    """The verdict of a claim from its (unadjusted) 95% interval and its margin m, on the
    claimed side: holds beyond m, no important difference within ±m, does not hold short of
    m otherwise, not shown when the interval contains m (or there is none)."""
    if np.isnan(low) or np.isnan(high):
        return NOT_SHOWN
    if direction == "below":
        low, high = -high, -low
    if low > margin:
        return HOLDS
    if margin > 0 and -margin < low and high < margin:
        return NO_IMPORTANT
    if high < margin:
        return FAILS
    return NOT_SHOWN


def claim(
    subject: str,
    claim: str,
    measure: str,
    interval: Interval,
    direction: Direction,
    margin: tuple[float, str],
    *,
    kind: Kind = "fact",
    rule: str = "",
    note: str = "",
    bootstrap: bool = False,
) -> Check:
    """A claim that a difference, change or level lies beyond its minimum important effect
    on the claimed side. ``margin`` is (m, its unit) as the spec declares it; ``rule`` names
    the mechanism a ``mechanism`` check follows from; a ``bootstrap`` interval has no t."""
    m, unit = margin
    sign = ">" if direction == "above" else "<"
    bound = f"{'' if direction == 'above' else '−'}{m:g}"
    return Check.measured(
        subject,
        claim,
        measure,
        interval,
        f"95% interval {sign} {bound} {unit}".rstrip() + f" ({interval.n} replications)",
        margin_verdict(float(interval.low), float(interval.high), direction, m),
        note,
        margin=float(m),
        unit=unit,
        kind=kind,
        rule=rule,
        direction=direction,
        df=float("inf") if bootstrap else float(max(interval.n - 1, 0)),
    )


def plausibility(
    subject: str, claim: str, measure: str, interval: Interval, published: str
) -> Check:
    """A model figure set beside a published one, with no verdict: a pattern to read, not a
    target to tune."""
    return Check.measured(
        subject,
        claim,
        measure,
        interval,
        f"beside the published figure: {published}",
        REPORTED,
        kind="plausibility",
    )


def holm(checks: Sequence[Check], alpha: float = ALPHA) -> list[Check]:
    """The checks with their verdicts adjusted for multiple comparisons (see the module
    docstring): Holm's step-down over every claim with a margin, one family per conclusion.
    Other checks (reductions, plausibility patterns) are returned unchanged."""
    from dataclasses import replace

    from scipy import stats

    family = [
        i
        for i, c in enumerate(checks)
        if c.kind in ("fact", "mechanism") and not np.isnan(c.margin) and c.df > 0
    ]
    if not family:
        return list(checks)
    p = np.ones((len(family), 3))  # beyond the margin, within ±m, short of it
    for row, i in enumerate(family):
        c = checks[i]
        if np.isnan(c.low) or np.isnan(c.high) or c.high <= c.low:
            continue
        quantile = stats.t.ppf(0.975, c.df) if np.isfinite(c.df) else stats.norm.ppf(0.975)
        se = (c.high - c.low) / (2 * quantile)
        x = -c.estimate if c.direction == "below" else c.estimate
        cdf = stats.t.cdf if np.isfinite(c.df) else (lambda z, _df: stats.norm.cdf(z))
        short = cdf((x - c.margin) / se, c.df)
        within = max(short, 1 - cdf((x + c.margin) / se, c.df)) if c.margin > 0 else 1.0
        if c.direction:
            beyond = 1 - cdf((x - c.margin) / se, c.df)
        else:  # a claim of no difference: it "holds" within ±m, and fails beyond it either way
            beyond, within = within, 1.0
            short = min(1 - cdf((x - c.margin) / se, c.df), cdf((x + c.margin) / se, c.df))
        p[row] = beyond, within, short
    adjusted = np.column_stack([_holm_adjust(p[:, k]) for k in range(3)])
    out = list(checks)
    for row, i in enumerate(family):
        beyond, within, short = adjusted[row]
        if beyond < alpha:
            verdict, p_value = HOLDS, beyond
        elif within < alpha:
            verdict, p_value = NO_IMPORTANT, within
        elif short < alpha:
            verdict, p_value = FAILS, short
        else:
            verdict, p_value = NOT_SHOWN, min(beyond, within, short)
        out[i] = replace(checks[i], verdict=verdict, p_adjusted=float(p_value))
    return out


def _holm_adjust(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values: sorted ascending, p_(i)·(k − i + 1), made
    monotone and capped at 1 (Holm 1979)."""
    k = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, np.maximum.accumulate(p[order] * (k - np.arange(k))))
    adjusted = np.empty(k)
    adjusted[order] = scaled
    return adjusted


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
    return Check.measured(
        subject,
        claim,
        measure,
        interval,
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
    return Check.measured(
        subject,
        claim,
        measure,
        interval,
        f"95% interval within ±{margin:g} ({interval.n} replications)",
        verdict,
        note,
        margin=float(margin),
        df=float(max(interval.n - 1, 0)),
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
    margin: float = 0.0,
) -> pd.DataFrame:
    """Apply a paired measure in each cell of the moderators ``by``, with its verdict
    against the claim's margin beyond ``reference`` (unadjusted: a map to explore, not a
    family of claims).

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
                "verdict": margin_verdict(
                    float(interval.low) - reference,
                    float(interval.high) - reference,
                    direction,
                    margin,
                ),
            }
        )
    return pd.DataFrame(rows)
