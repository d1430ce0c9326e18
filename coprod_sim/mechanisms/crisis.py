"""A crisis that switches sites to command-and-control, and the recovery after it.

Sources: Serrao et al. (IHI 2020, "Co-producing COVID-19 recovery"): in
crisis, command-and-control takes over; the recovery itself can be
co-produced. BMA patient liaison group (2022): after COVID-19, commitment to
co-production declined. Repenning & Sterman (2001) on pressure eroding
improvement capability.

From ``crisis_week`` for ``crisis_duration`` weeks a site is in crisis:

* decisions fall to the bottom rung (``power.COMMAND_AND_CONTROL``) and the
  improvement team does not meet, so no one is heard and no change is tested;
* visits are strained: P(good) is multiplied by (1 − crisis_strain);
* external support stops and changes erode faster: their abandonment hazard is
  multiplied by (1 + crisis_pressure).

Afterwards the site recovers. A ``coproduced`` recovery returns to the
scenario's rung; a ``top_down`` one stays at ``power.TOP_DOWN`` (informing),
with managers deciding and patients told. Recovery speed and any lasting
damage (hysteresis) are not set here: they come out of trust, drop-out and
erosion.
"""

from __future__ import annotations

from enum import StrEnum

from coprod_sim.mechanisms import power


class Phase(StrEnum):
    BEFORE = "before"
    CRISIS = "crisis"
    RECOVERY = "recovery"


def phase(week: int, crisis_week: int | None, duration: int) -> Phase:
    """Where a site is relative to the crisis in a given week."""
    if crisis_week is None or week < crisis_week:
        return Phase.BEFORE
    if week < crisis_week + duration:
        return Phase.CRISIS
    return Phase.RECOVERY


def effective_rung(rung: int, current: Phase, recovery: str) -> int:
    """The rung decisions are actually taken at."""
    if current is Phase.CRISIS:
        return power.COMMAND_AND_CONTROL
    if current is Phase.RECOVERY and recovery == "top_down":
        return min(rung, power.TOP_DOWN)
    return rung
