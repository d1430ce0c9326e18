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
    exponent = np.subtract(x, 0.5)
    exponent *= float(np.log(ratio))
    return overwrite(np.exp, exponent)


def odds_to_probability(base_probability: float, multiplier: ArrayLike) -> NDArray:
    """The probability whose odds are the base probability's odds times ``multiplier``."""
    multiplier = np.asarray(multiplier)
    if base_probability >= 1.0:
        return np.ones_like(multiplier, dtype=float)
    odds = base_probability / (1.0 - base_probability) * multiplier
    return overwrite(np.divide, odds, 1.0 + odds)


def event_probability(hazard: ArrayLike, dt: float = 1.0) -> NDArray:
    """The chance of an event within ``dt`` weeks at a constant hazard: 1 − exp(−h·dt)."""
    exponent = np.negative(hazard)
    # Multiplying a float by 1 is exact: skip it, unless it is what makes integers floats.
    if dt != 1.0 or exponent.dtype.kind != "f":
        exponent = exponent * dt
    probability = overwrite(np.expm1, exponent)
    return overwrite(np.negative, probability)


#: How far from the float64 probability the float32 estimate in :func:`event_occurs` is
#: taken to be, at most. The estimate errs by a few units in float32's last place (the
#: rounding of h to float32, float32 exp, the subtraction): under 1.3e-7 over hazards
#: from 1e-30 to 100. The margin leaves 75 times that.
ESTIMATE_MARGIN = 1e-5


def event_occurs(draw: NDArray, hazard: NDArray) -> NDArray[np.bool_]:
    """``draw < event_probability(hazard)``, element by element: the same booleans, for
    uniform draws (float32 or float64) and an array of hazards, three times as fast.

    The comparison needs the probability only where the draw is close to it. The
    probability is first estimated in float32, where NumPy's exp is vectorised (float64
    expm1 is not): a draw more than ``ESTIMATE_MARGIN`` below the estimate is below the
    exact probability, one at least that far above it is not. Only the draws in between,
    about 2·10⁻⁵ of them, are compared with the exact probability 1 − exp(−h) in float64.
    (A NaN hazard gives no event either way.)
    """
    # Hazards beyond float32's range become inf, and their estimate ±inf: no warnings.
    with np.errstate(over="ignore"):
        estimate = np.array(hazard, dtype=np.float32)
        np.negative(estimate, out=estimate)
        np.exp(estimate, out=estimate)
    np.subtract(np.float32(1.0), estimate, out=estimate)  # 1 − exp(−h), in float32
    estimate -= np.float32(ESTIMATE_MARGIN)
    occurs = draw < estimate
    estimate += np.float32(2 * ESTIMATE_MARGIN)
    unsure = draw < estimate
    unsure ^= occurs  # below the upper bound but not the lower (occurs ⊆ unsure)
    if unsure.any():
        close = np.flatnonzero(unsure)
        occurs[close] = draw[close] < event_probability(np.asarray(hazard)[close])
    return occurs


def overwrite(ufunc: np.ufunc, *operands: ArrayLike, on: int = 0) -> NDArray:
    """``ufunc(*operands)``, written over ``operands[on]`` when that is a large floating-point
    array of the result's shape and type. Only for an operand the caller made and no
    longer needs: the same values, one large allocation fewer (small ones cost nothing)."""
    target = operands[on]
    if (
        type(target) is np.ndarray
        and target.size >= _LARGE
        and target.dtype.kind == "f"
        and all(np.ndim(x) == 0 or np.shape(x) == target.shape for x in operands)
        and np.result_type(*operands) == target.dtype
    ):
        return ufunc(*operands, out=target)
    return ufunc(*operands)


#: Arrays from this many elements up are worth writing over: below, allocating one
#: costs less than the checks.
_LARGE = 1 << 14
