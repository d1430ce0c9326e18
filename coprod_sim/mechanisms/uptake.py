"""Uptake of a scaled-up change across providers: Bass hazard or Granovetter threshold.

Bass (1969, *Manage Sci* 15:215). A provider not yet using a change adopts
in a week with hazard

    h = p + q·F

where F is the share of the provider's colleagues (network neighbours,
within the site and across sites through the collaborative) using it, p the
push from outside the network (management backing: p = external_influence ·
authority_support) and q imitation. In discrete weeks the adoption
probability is 1 − exp(−h). Canonical reduction: on a complete network of
many providers with no seeds and no decay, the share using the change follows

    F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t})

Granovetter (1978, *Am J Sociol* 83:1420). Threshold variant: a provider
adopts once F reaches their threshold θ ~ Normal(threshold_mean,
threshold_sd). Canonical reduction: on a complete network the adopting share
follows the cobweb F_{t+1} = P(θ ≤ F_t) to its first fixed point, and whether
the cascade spreads depends sharply on the spread of thresholds.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coprod_sim.mechanisms.effects import event_probability


def bass_hazard(p: ArrayLike, q: float, share: ArrayLike) -> NDArray:
    """h = p + q·F."""
    return np.asarray(p) + q * np.asarray(share)


def adoption_probability(hazard: ArrayLike, dt: float = 1.0) -> NDArray:
    """Chance of adopting within ``dt`` at a constant hazard: 1 − exp(−h·dt)."""
    return event_probability(hazard, dt)


def bass_share(t: ArrayLike, p: float, q: float, initial: float = 0.0) -> NDArray:
    """Bass's closed form F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t}).

    With ``initial`` = F(0) > 0 (seeded adopters), the solution of the same
    equation dF/dt = (p + qF)(1 − F) is F(t) = (1 − A·e^{−(p+q)t}) / (1 + (q/p)·A·e^{−(p+q)t})
    with A = (1 − F₀)/(1 + qF₀/p).
    """
    decay = np.exp(-(p + q) * np.asarray(t, dtype=float))
    a = (1 - initial) / (1 + q * initial / p)
    return (1 - a * decay) / (1 + (q / p) * a * decay)


def threshold_adopts(share: ArrayLike, threshold: ArrayLike) -> NDArray:
    """Granovetter: adopt once the share of colleagues adopting reaches the threshold."""
    return np.asarray(share) >= np.asarray(threshold)


def granovetter_equilibrium(
    mean: float, sd: float, start: float = 0.0, steps: int = 10_000
) -> float:
    """First fixed point of F ← P(θ ≤ F) for θ ~ Normal(mean, sd).

    The model clips thresholds to [0, 1]; that changes P(θ ≤ F) only at F = 1, which a
    cascade approaches but, with thresholds above 1 never met, does not reach.
    """
    share = start
    for _ in range(steps):
        new = _normal_cdf(share, mean, sd) if sd > 0 else float(share >= mean)
        if share == 1.0 or abs(new - share) < 1e-12:
            return new
        share = new
    return share


def _normal_cdf(x: float, mean: float, sd: float) -> float:
    return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))
