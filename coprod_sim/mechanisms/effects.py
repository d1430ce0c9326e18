"""Effects as ratios around a neutral reference: how trust, stigma and care move a rate.

Every behavioural effect in the care cascade is written the same way, as a log-linear
(multiplicative) effect, the form in which the epidemiological literature reports odds
and hazard ratios. A factor x in [0, 1] with effect ratio R multiplies a rate by

    R^(x − ½)

so at x = ½ (neutral trust, half the quality, middling stigma) the rate is its base rate,
and going from x = 0 to x = 1 multiplies it by R. A ratio of 1 means no effect. Several
factors multiply, so their logarithms add:

    rate = base · exp(Σ_k ln(R_k) · (x_k − ½))
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def factor(ratio: float, x: ArrayLike) -> NDArray:
    """R^(x − ½): the multiplier of a rate at factor level x (1 at x = ½)."""
    # A Python float keeps float32 inputs in float32 (NumPy 2 promotion rules).
    return np.exp(float(np.log(ratio)) * (np.asarray(x) - 0.5))


def odds_to_probability(base_probability: float, multiplier: ArrayLike) -> NDArray:
    """The probability whose odds are the base probability's odds times ``multiplier``."""
    multiplier = np.asarray(multiplier)
    if base_probability >= 1.0:
        return np.ones_like(multiplier, dtype=float)
    odds = base_probability / (1.0 - base_probability) * multiplier
    return odds / (1.0 + odds)


def event_probability(hazard: ArrayLike, dt: float = 1.0) -> NDArray:
    """The chance of an event within ``dt`` weeks at a constant hazard: 1 − exp(−h·dt)."""
    return -np.expm1(-np.asarray(hazard) * dt)
