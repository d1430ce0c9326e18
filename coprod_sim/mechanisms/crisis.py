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
  threshold uptake, purely social, goes on), and changes erode faster: the
  abandonment hazard of practice changes and the reversal hazard of organisational
  ones are multiplied by (1 + crisis_pressure), and so is the erosion of the teams'
  improvement capability (``capability``).

Afterwards the site recovers, and the two ways of recovering differ in what
they do, after the conditions Serrao et al. (2020) give for a coproduced
recovery (open and honest conversations, people with lived experience as
equal partners from the start, their voices amplified) and the paternalism
they contrast it with ("senior clinicians and managers know best"):

* a ``coproduced`` recovery returns to the scenario's rung and reports back on
  input as before (``feedback_loop``);
* a ``top_down`` one stays at ``power.TOP_DOWN`` (informing): managers decide
  and tell patients what was decided, a one-way flow (Arnstein 1969) with no
  report on what became of their input: the chance of reporting back is 0.

Capability lost in the crisis is rebuilt the same way in both, by successful
cycles (``capability``). Recovery speed and any lasting damage (hysteresis) are
not set here: they come out of trust, drop-out, capability and erosion.
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


def reporting_back(feedback_loop: float, phases: ArrayLike, recovery: str) -> NDArray:
    """Each site's chance of reporting back on input: ``feedback_loop``, except 0 in a
    top-down recovery (managers decide and inform)."""
    top_down = (np.asarray(phases) == Phase.RECOVERY) & (recovery == "top_down")
    return np.where(top_down, 0.0, feedback_loop)
