"""Trust as beta reputation, with a negativity bias and forgetting.

Equation (Jøsang & Ismail 2002, "The beta reputation system"): after ``r``
good and ``s`` bad experiences, expected trust is

    E = (r + 1) / (r + s + 2)

Each week the evidence is discounted and the new experiences added:

    r ← φ·r + g            s ← φ·s + λ·b

with ``g`` and ``b`` the good and bad experiences of the week (counts, or a
fractional rating g + b = 1), ``φ`` the memory (Jøsang & Ismail's forgetting
factor) and ``λ ≥ 1`` the negativity bias: trust is much easier to destroy
than to create (Slovic 1993, "Perceived risk, trust, and democracy").

Canonical reduction: with φ = 1 and λ = 1 this is exactly the beta
reputation system.

The same function serves both directions of trust: patients' trust in
providers, and providers' regard for patients.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def expected_trust(good: ArrayLike, bad: ArrayLike) -> NDArray:
    """E = (r + 1) / (r + s + 2)."""
    good = np.asarray(good)
    return (good + 1) / (good + np.asarray(bad) + 2)


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


def evidence_for(trust: ArrayLike, strength: float) -> tuple[NDArray, NDArray]:
    """Good and bad evidence (r, s) with r + s = ``strength`` whose expected trust is ``trust``.

    From E = (r + 1)/(r + s + 2): r = E·(k + 2) − 1, s = k − r, with ``trust``
    clipped to the range such evidence can express, [1/(k+2), (k+1)/(k+2)].
    """
    k = float(strength)
    t = np.clip(np.asarray(trust, dtype=float), 1 / (k + 2), (k + 1) / (k + 2))
    good = t * (k + 2) - 1
    return good, k - good
