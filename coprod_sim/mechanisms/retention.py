"""Engagement and retention in care.

Sources: CaReQIC worked on four drivers of viral suppression: return to
care, retention, adherence and lab monitoring (Bluemer-Miroite et al. 2022);
marginalised groups have lost trust in health systems (BMA 2022), and in one
US sample 14.1% of people in HIV care reported discrimination in health care.

The functional forms are an assumption, linear in trust so that at neutral
trust (½) each hazard equals its base rate:

    attendance (engagement)     P(attend a scheduled visit) = ½ + ½·trust
    leaving care, per week      h_out = 2·dropout_rate·(1 − trust)
    returning to care, per week h_back = 2·return_rate·trust

Felt stigma acts through trust: stigmatising visits are bad experiences.

Representatives leave their seat on the team (the domain brief, after Ocloo
& Matthews 2016: ignored input erodes trust and representatives drop out)
with a chance per meeting that
grows as their trust runs out, an assumed quadratic form that keeps
representatives who trust the team:

    P(leave the team) = representative_leave_rate · (1 − trust)²

A representative who leaves care also leaves the team.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def attendance_probability(trust: ArrayLike) -> NDArray:
    """P(attend) = ½ + ½·trust."""
    return 0.5 + 0.5 * np.asarray(trust)


def dropout_hazard(trust: ArrayLike, rate: float) -> NDArray:
    """h_out = 2·rate·(1 − trust)."""
    return 2.0 * rate * (1.0 - np.asarray(trust))


def return_hazard(trust: ArrayLike, rate: float) -> NDArray:
    """h_back = 2·rate·trust."""
    return 2.0 * rate * np.asarray(trust)


def leave_team_probability(trust: ArrayLike, rate: float) -> NDArray:
    """P(leave the team at a meeting) = rate·(1 − trust)²."""
    return rate * (1.0 - np.asarray(trust)) ** 2
