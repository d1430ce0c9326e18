"""Confidence intervals across replications, for outcomes and paired differences.

Replications are independent draws, so the mean of ``n`` replications has the
Student-t interval ``mean ± t(1 - α/2, n - 1) · sd / √n``. For two scenarios
run with common random numbers, replication ``r`` of each shares its random
stream, so the interval is taken on the per-replication differences
``b_r - a_r`` (a paired t interval), which is narrower than the unpaired one
whenever the two scenarios' outcomes are positively correlated.

Whether an interval lies wholly above or below a reference value (zero, for a
difference) is decided in one place, :func:`side`, which the analysis tables,
the validation checks and the app's sentences all use for their verdicts.
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats


class Interval(NamedTuple):
    """A mean with its confidence interval (arrays when the input had more axes)."""

    mean: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    n: int

    def side(self, reference: float = 0.0) -> Side:
        """Where this (scalar) interval lies with respect to ``reference``; see :func:`side`."""
        return side(self.low, self.high, reference)


class Side(enum.Enum):
    """Where an interval lies with respect to a reference value.

    The values are the words the validation checks use for a claimed direction.
    """

    ABOVE = "above"  # the whole interval is above the reference
    BELOW = "below"  # the whole interval is below it
    ACROSS = "across"  # the interval contains the reference
    UNKNOWN = "unknown"  # no interval (one replication: NaN bounds)

    @property
    def clear(self) -> bool:
        """Whether the interval excludes the reference, on either side."""
        return self in (Side.ABOVE, Side.BELOW)


def side(low: float, high: float, reference: float = 0.0) -> Side:
    """Where the interval ``[low, high]`` lies with respect to ``reference``.

    A bound equal to the reference counts as containing it (strict inequalities), and
    a NaN bound (one replication) gives :attr:`Side.UNKNOWN`.
    """
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high):
        return Side.UNKNOWN
    if low > reference:
        return Side.ABOVE
    if high < reference:
        return Side.BELOW
    return Side.ACROSS


def mean_interval(samples: ArrayLike, level: float = 0.95) -> Interval:
    """Mean of ``samples`` over axis 0 (replications) with its t interval.

    With one replication the interval is the mean itself's unknown spread, so
    ``low`` and ``high`` are NaN.
    """
    if not 0 < level < 1:
        raise ValueError(f"level = {level}: must be between 0 and 1")
    values = np.asarray(samples, dtype=float)
    n = values.shape[0]
    if n == 0:
        raise ValueError("samples: need at least one replication")
    mean = values.mean(axis=0)
    if n == 1:
        nan = np.full_like(mean, np.nan)
        return Interval(mean, nan, nan, 1)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def paired_difference(a: ArrayLike, b: ArrayLike, level: float = 0.95) -> Interval:
    """The mean of ``b - a`` with its paired t interval; rows are replications."""
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if first.shape != second.shape:
        raise ValueError(
            f"paired samples need equal shapes (replications first): {first.shape} vs "
            f"{second.shape}"
        )
    return mean_interval(second - first, level)


#: The verdicts of a decision (see :func:`decision_verdict`), in plain words.
BETTER, WORSE, NO_IMPORTANT, UNCLEAR = (
    "better by at least",
    "worse by at least",
    "no important difference",
    "unclear",
)


def decision_verdict(low: float, high: float, minimum: float, better: int = 1) -> str:
    """What a difference's interval says to someone deciding, given the smallest difference
    that matters (``minimum``, in the outcome's units; ``better`` = +1 when more is better,
    -1 when less is).

    Better (or worse) by at least ``minimum`` when the whole interval lies beyond it; no
    important difference when it lies within ±``minimum``; unclear otherwise, or when there is
    no interval. This is the two-sided form of the validation study's margin verdicts
    (``validation.checks.margin_verdict``): a planner has no claimed direction.
    """
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high):
        return UNCLEAR
    if better < 0:
        low, high = -high, -low
    if low >= minimum and low > 0:
        return BETTER
    if high <= -minimum and high < 0:
        return WORSE
    if minimum > 0 and -minimum < low and high < minimum:
        return NO_IMPORTANT
    return UNCLEAR


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (Wilson 1927): good near 0 and 1, where the
    normal approximation leaves [0, 1]."""
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At p = 0 or 1 the bound is p itself, up to rounding: keep p inside its interval.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
