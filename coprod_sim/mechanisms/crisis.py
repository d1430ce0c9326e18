"""A crisis that switches sites to command-and-control, and the recovery after it.

Sources: Serrao et al. (IHI 2020, "Co-producing COVID-19 recovery"): in
crisis, command-and-control takes over; the recovery itself can be
co-produced. BMA patient liaison group (2022): after COVID-19, commitment to
co-production declined. Repenning & Sterman (2001) on pressure eroding
improvement capability.

From ``crisis_week`` for ``crisis_duration`` weeks the sites it hits
(``crisis_sites``: site or region names; all sites when empty) are in crisis:

* decisions fall to the bottom rung (``power.COMMAND_AND_CONTROL``) and the
  improvement team does not meet, so no one is heard and no change is tested;
* visits are strained: P(good) is multiplied by (1 − crisis_strain);
* external support is suspended (it resumes afterwards if the support period
  has not ended), management stops pushing changes (the Bass p is 0 there;
  threshold uptake, purely social, goes on), and changes erode faster: their
  abandonment hazard is multiplied by (1 + crisis_pressure).

Afterwards the site recovers. A ``coproduced`` recovery returns to the
scenario's rung; a ``top_down`` one stays at ``power.TOP_DOWN`` (informing),
with managers deciding and patients told. Recovery speed and any lasting
damage (hysteresis) are not set here: they come out of trust, drop-out and
erosion.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coprod_sim.mechanisms import power


class Phase(IntEnum):
    BEFORE = 0
    CRISIS = 1
    RECOVERY = 2


def phase(week: int, crisis_week: int | None, duration: int) -> Phase:
    """Where a site is relative to the crisis in a given week."""
    if crisis_week is None or week < crisis_week:
        return Phase.BEFORE
    if week < crisis_week + duration:
        return Phase.CRISIS
    return Phase.RECOVERY


def site_phases(week: int, crisis_week: int | None, duration: int, hit: ArrayLike) -> NDArray:
    """The phase of every site: the crisis phase where ``hit``, BEFORE elsewhere."""
    return np.where(np.asarray(hit, dtype=bool), phase(week, crisis_week, duration), Phase.BEFORE)


def effective_rung(rung: int, phases: ArrayLike, recovery: str) -> NDArray:
    """The rung decisions are actually taken at, per site."""
    phases = np.asarray(phases)
    after = min(rung, power.TOP_DOWN) if recovery == "top_down" else rung
    return np.select(
        [phases == Phase.CRISIS, phases == Phase.RECOVERY],
        [power.COMMAND_AND_CONTROL, after],
        default=rung,
    )
