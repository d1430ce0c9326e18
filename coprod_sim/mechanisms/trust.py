"""Trust as beta reputation, with a base rate, a negativity bias and forgetting.

Equation (Jøsang & Ismail 2002, "The beta reputation system"; the base rate
as in Jøsang's subjective logic): after ``r`` good and ``s`` bad experiences,
expected trust is

    E = (r + 2a) / (r + s + 2)

where ``a`` is the base rate: what a person expects before any evidence of
their own. For patients it is their group's trust in health care before the
collaborative (marginalised groups have lost trust, BMA 2022); for providers,
their initial regard for patients. Each week the evidence is discounted and
the new experiences added:

    r ← φ·r + g            s ← φ·s + λ·b

with ``g`` and ``b`` the good and bad experiences of the week (counts, or a
fractional rating g + b = 1), ``φ`` the memory (Jøsang & Ismail's forgetting
factor) and ``λ ≥ 1`` the negativity bias: trust is much easier to destroy
than to create (Slovic 1993, "Perceived risk, trust, and democracy"). With
no new experiences, forgetting takes trust back toward the base rate, not
toward ½: history is not forgotten, only recent experience.

History. The base rate is not fixed: experience slowly becomes history. Each week a
person's base rate moves toward their current trust with a time constant of H weeks
(``history_weeks``):

    a ← a + (E − a)/H

so what recent experience teaches fades with the memory φ (a half-life of 69 weeks at
φ = 0.99), and what it leaves behind in the base rate takes years to undo. The time
scale is an assumption anchored on Alsan & Wanamaker (2018, *Q J Econ* 133:407): the
mistrust that followed the 1972 disclosure of the Tuskegee study had not recovered eight
years later.

Canonical reduction: with a = ½, φ = 1, λ = 1 and no history (H → ∞) this is exactly the
beta reputation system, E = (r + 1)/(r + s + 2).

The same functions serve both directions of trust: patients' trust in
providers, and providers' regard for patients.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coprod_sim.mechanisms.effects import overwrite


def expected_trust(good: ArrayLike, bad: ArrayLike, base_rate: ArrayLike = 0.5) -> NDArray:
    """E = (r + 2a) / (r + s + 2); with a = ½, (r + 1)/(r + s + 2)."""
    good = np.asarray(good)
    prior = 2 * np.asarray(base_rate, dtype=good.dtype if good.dtype.kind == "f" else float)
    denominator = good + np.asarray(bad) + 2
    return overwrite(np.divide, good + prior, denominator)


def update_evidence(
    good: NDArray,
    bad: NDArray,
    new_good: ArrayLike,
    new_bad: ArrayLike,
    memory: float,
    negativity_bias: float,
) -> None:
    """r ← φ·r + g and s ← φ·s + λ·b, in place."""
    if memory != 1.0:
        good *= memory
        bad *= memory
    np.add(good, new_good, out=good, casting="unsafe")
    if negativity_bias == 1.0:
        np.add(bad, new_bad, out=bad, casting="unsafe")
    else:
        np.add(bad, np.multiply(new_bad, negativity_bias, dtype=bad.dtype), out=bad)


def drift_base_rate(base_rate: NDArray, trust: ArrayLike, history_weeks: float) -> None:
    """a ← a + (E − a)/H, in place: a week's experience becoming history."""
    step = np.subtract(np.asarray(trust, dtype=base_rate.dtype), base_rate)
    step *= np.asarray(1.0 / history_weeks, dtype=base_rate.dtype)
    base_rate += step


def evidence_for(
    trust: ArrayLike, strength: float, base_rate: ArrayLike = 0.5
) -> tuple[NDArray, NDArray]:
    """Good and bad evidence (r, s) with r + s = ``strength`` whose expected trust is ``trust``.

    From E = (r + 2a)/(r + s + 2): r = E·(k + 2) − 2a, s = k − r, with ``trust``
    clipped to the range such evidence can express, [2a/(k+2), (k+2a)/(k+2)].
    """
    k = float(strength)
    a = np.asarray(base_rate, dtype=float)
    t = np.clip(np.asarray(trust, dtype=float), 2 * a / (k + 2), (k + 2 * a) / (k + 2))
    good = t * (k + 2) - 2 * a
    return good, k - good
