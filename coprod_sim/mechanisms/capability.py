"""Improvement capability and the capability trap.

Source: Repenning & Sterman (2001, "Nobody ever gets credit for fixing problems that
never happened", *Calif Manage Rev* 43(4):64). Two loops compete for a team's time:
"working harder" raises output now, "working smarter" (time spent on improvement)
builds capability, but only after a delay. Under pressure people cut corners, which
frees time now and slowly erodes capability, which raises the pressure further: the
capability trap. The paper gives no numbers; the time scales are assumptions (capability
built over months of successful cycles, eroded over one to two years without them).

Each site's team has a capability C in [0, 1]. A PDSA cycle of an idea of design
quality d succeeds with probability (see ``pdsa``)

    P(success) = d · (1 − ρ·(1 − C))

with ρ the ``capability_reliance``: a capable team runs its tests well. Each success
builds capability, and every week capability erodes, faster under pressure:

    success:    C ← C + κ·(1 − C)
    each week:  C ← C · (1 − ε·(1 + pressure))

with κ the ``capability_learning``, ε the ``capability_decay`` and ``pressure`` the
crisis pressure while a site is in crisis (0 otherwise). Tests pause and meetings stop in
a crisis: time for improvement goes to care. So a long crisis erodes capability, fewer
tests then succeed, fewer successes rebuild it, and a site can stay low: the trap is a
possible outcome, not a rule.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def success_scale(capability: ArrayLike, reliance: float) -> NDArray:
    """1 − ρ·(1 − C): how much of an idea's design quality a team's tests realise (a
    float for a float ``capability``: the same IEEE arithmetic)."""
    if type(capability) is float:
        return 1.0 - reliance * (1.0 - capability)
    return 1.0 - reliance * (1.0 - np.asarray(capability))


def build(capability: float, learning: float) -> float:
    """C + κ·(1 − C): capability after one successful cycle."""
    return capability + learning * (1.0 - capability)


def erode(capability: NDArray, decay: float, pressure: ArrayLike) -> NDArray:
    """C·(1 − ε·(1 + pressure)), floored at 0: capability after one week."""
    return np.asarray(capability) * np.clip(1.0 - decay * (1.0 + np.asarray(pressure)), 0.0, 1.0)
