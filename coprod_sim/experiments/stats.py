"""Confidence intervals across replications, for outcomes and paired differences.

Replications are independent draws, so the mean of ``n`` replications has the
Student-t interval ``mean ± t(1 - α/2, n - 1) · sd / √n``. For two scenarios
run with common random numbers, replication ``r`` of each shares its random
stream, so the interval is taken on the per-replication differences
``b_r - a_r`` (a paired t interval), which is narrower than the unpaired one
whenever the two scenarios' outcomes are positively correlated.
"""

from __future__ import annotations

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
