"""Engagement and retention in care: attending visits, leaving care and coming back.

Sources. CaReQIC worked on four drivers of viral suppression, two of them return to care
and retention (Bluemer-Miroite et al. 2022). Medical mistrust lowers engagement and
retention in HIV care (Bogart et al. 2010; Dale et al. 2016); so does stigma met in care
(Earnshaw & Chaudoir 2009; in the US CNICS cohort, aOR 0.93 per point of internalised
stigma for keeping the next visit); and what matters to a group decides whether its
members come and stay: 12% of those traced in Trinidad had missed care so as not to be
seen at the HIV clinic, and 30% of Jamaicans in the 2020 Stigma Index were slow to start
treatment for fear their status would become known. Fox & Rosen (2015) give retention on
treatment: 78% at 12 months. Tracing brings patients back: 10.0% of those lost returned
within a year without tracing and 13.3% with it in East Africa, and 68-85% of those
traced in Trinidad's programmes.

Each effect is a ratio around neutral ½ (see ``effects``): T = ``mistrust_effect``,
S = ``stigma_effect``, A = ``access_effect``, C = ``tracing_effect``. With ``trust`` the
patient's trust in providers, ``stigma`` their provider's stigma toward their group,
``value`` the quality of what matters to their group (``care``) and ``tracing`` the
quality of the retention aspect (reminders, tracing) their provider gives (the site's, while
tracing is an organisational change, as it is by default):

    what the clinic is like:      K = A^(value−½) · S^(½−stigma)      (``care_factor``)
    P(attend a scheduled visit):  odds = odds(attendance) · T^(trust−½) · K
    leaving care, per week:       h_out  = dropout_rate / (T^(trust−½) · K · C^(tracing−½))
    returning to care, per week:  h_back = return_rate · T^(trust−½) · C^(tracing−½)

The weekly chance of an event at hazard h is 1 − exp(−h) (``effects.event_probability``).

Representatives. A representative attends a team meeting with probability ½ + ½·trust,
and leaves their seat on the team (the domain brief, after Ocloo & Matthews 2016: ignored
input erodes trust and representatives drop out) with a chance per meeting that grows as
their trust runs out, an assumed quadratic form that keeps representatives who trust the
team, and is L = ``token_leave_ratio`` times higher for a representative who is the only
patient on the team (Kanter 1977: tokens in skewed groups are visible, isolated and leave):

    P(leave the team) = min(1, representative_leave_rate · (1 − trust)² · L^[alone])

A representative who leaves care also leaves the team.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coprod_sim.mechanisms.effects import factor, odds_to_probability, overwrite


def care_factor(
    value: ArrayLike, stigma: ArrayLike, access_effect: float, stigma_effect: float
) -> NDArray:
    """A^(value−½)·S^(½−stigma): how much what a patient meets at the clinic draws them in
    (it multiplies the odds of attending and divides the hazard of leaving)."""
    return factor(access_effect, value) / factor(stigma_effect, stigma)


def visit_attendance(
    trust: ArrayLike, care: ArrayLike, attendance: float, mistrust_effect: float
) -> NDArray:
    """P(attend) with odds(attendance)·T^(trust−½)·``care`` (a ``care_factor``)."""
    return odds_to_probability(attendance, factor(mistrust_effect, trust) * np.asarray(care))


def leave_hazard(
    trust: ArrayLike,
    care: ArrayLike,
    tracing: ArrayLike,
    rate: float,
    mistrust_effect: float,
    tracing_effect: float,
) -> NDArray:
    """h_out = rate / (T^(trust−½)·``care``·C^(tracing−½)), ``care`` a ``care_factor``."""
    return leave_hazard_from_factors(
        factor(mistrust_effect, trust), care, factor(tracing_effect, tracing), rate
    )


def leave_hazard_from_factors(
    mistrust: ArrayLike, care: ArrayLike, tracing: ArrayLike, rate: float
) -> NDArray:
    """:func:`leave_hazard` from the factors ``mistrust`` = T^(trust−½) and ``tracing`` =
    C^(tracing−½), computed once (per patient, or per provider and gathered)."""
    product = np.asarray(mistrust) * np.asarray(care)
    denominator = overwrite(np.multiply, product, np.asarray(tracing))
    return overwrite(np.divide, rate, denominator, on=1)


def return_hazard(
    trust: ArrayLike, tracing: ArrayLike, rate: float, mistrust_effect: float, tracing_effect: float
) -> NDArray:
    """h_back = rate·T^(trust−½)·C^(tracing−½)."""
    return return_hazard_from_factors(
        factor(mistrust_effect, trust), factor(tracing_effect, tracing), rate
    )


def return_hazard_from_factors(mistrust: ArrayLike, tracing: ArrayLike, rate: float) -> NDArray:
    """:func:`return_hazard` from the factors, as :func:`leave_hazard_from_factors`."""
    return rate * np.asarray(mistrust) * np.asarray(tracing)


def meeting_attendance_probability(trust: ArrayLike) -> NDArray:
    """P(a representative attends a team meeting) = ½ + ½·trust."""
    return 0.5 + 0.5 * np.asarray(trust)


def leave_team_probability(
    trust: ArrayLike, rate: float, alone: ArrayLike = False, token_ratio: float = 1.0
) -> NDArray:
    """P(leave the team at a meeting) = min(1, rate·(1 − trust)²·L^[alone]), L the token ratio."""
    ratio = np.where(np.asarray(alone, dtype=bool), token_ratio, 1.0)
    return np.minimum(1.0, rate * (1.0 - np.asarray(trust)) ** 2 * ratio)
