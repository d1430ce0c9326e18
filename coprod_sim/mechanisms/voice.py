"""Voice: psychological safety, who is willing to speak, and who gets airtime.

Sources: Edmondson (1999, *Adm Sci Q* 44:350) on psychological safety in
teams; the domain brief: whether a person speaks depends on trust, felt stigma and
psychological safety, which depends on power sharing and staff openness;
Fay, Garrod & Carletta (2000, *Psychol Sci* 11:481): 5-person groups talk
as dialogue, 10-person groups as serial monologue dominated by a few; groups
of about 5-6 hear the most voices (Oxehealth). Status characteristics theory
(Berger et al. 1972) for who takes the floor first.

Equations.

Psychological safety of a meeting (an assumed weighting of its three sources):

    safety = 0.4·status_equality + 0.2·ground_rules + 0.4·staff_regard

A representative is willing to speak with probability

    P(speak) = σ(β₀ + β_t·(trust − ½) + β_s·(safety − ½) − β_f·(felt_stigma − ½))

with σ the logistic function, so β₀ is the log-odds at neutral trust,
safety and felt stigma (all ½). A meeting has ``speaking_turns`` turns. The
willing take the floor in order of dominance, staff first by a margin that
shrinks with status equality: dominance = 3·(1 − status_equality) for staff,
0 for representatives, plus standard Gumbel noise. The first ``turns`` are
heard. In a small team everyone willing is heard (dialogue); in a large one
the floor goes to a few (monologue), which emerges from the fixed airtime.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

STATUS_MARGIN = 3.0


def psychological_safety(status_equality: float, ground_rules: bool, staff_regard: float) -> float:
    """Weighted mix of equal status, ground rules and staff openness, in [0, 1]."""
    return 0.4 * status_equality + 0.2 * float(ground_rules) + 0.4 * staff_regard


def speak_probability(
    trust: ArrayLike,
    felt_stigma: ArrayLike,
    safety: float,
    base: float,
    by_trust: float,
    by_safety: float,
    by_stigma: float,
) -> NDArray:
    """σ(β₀ + β_t·(trust − ½) + β_s·(safety − ½) − β_f·(felt_stigma − ½))."""
    logit = (
        base
        + by_trust * (np.asarray(trust, dtype=float) - 0.5)
        + by_safety * (safety - 0.5)
        - by_stigma * (np.asarray(felt_stigma, dtype=float) - 0.5)
    )
    return 1.0 / (1.0 + np.exp(-logit))


def allocate_turns(
    willing: ArrayLike,
    is_staff: ArrayLike,
    status_equality: float,
    turns: int,
    rng: np.random.Generator,
) -> NDArray:
    """Who is heard: the first ``turns`` willing members in order of dominance.

    ``willing`` is (members,) for one meeting or (meetings, members) for many.
    """
    willing = np.asarray(willing, dtype=bool)
    dominance = STATUS_MARGIN * (1.0 - status_equality) * np.asarray(is_staff, dtype=float)
    dominance = np.where(willing, dominance + rng.gumbel(size=willing.shape), -np.inf)
    first = np.argsort(-dominance, axis=-1, kind="stable")[..., :turns]
    heard = np.zeros_like(willing)
    np.put_along_axis(heard, first, True, axis=-1)
    return heard & willing
