"""The HIV care cascade after retention: treatment, adherence, viral load and its monitoring.

Sources. CaReQIC's drivers of viral suppression were return to care, retention,
adherence and lab monitoring (Bluemer-Miroite et al. 2022). Medical mistrust lowers
adherence (Bogart et al. 2010: OR 0.60 for ≥95% adherence per point of treatment
conspiracy beliefs; Dale et al. 2016), and so does stigma (Turan et al. 2019: AOR 0.61
for optimal adherence; Katz et al. 2013's review of 75 studies). On adherent treatment
most people are suppressed within 1-3 months (Walmsley et al. 2013: median 28 days on
dolutegravir, 84 on efavirenz); off it, the virus rebounds within weeks (Li et al. 2022:
median 22 days). After a test finds the virus unsuppressed, enhanced adherence
counselling re-suppresses 46% (Ford et al. 2019 meta-analysis of 58 studies). WHO (2016)
recommends a routine viral-load test every year once a patient is stable.

Per patient on treatment, each week (T = ``mistrust_effect``, S = ``stigma_effect``; see
``effects``; ``trust``, ``stigma`` as in ``retention``):

    an adherent patient stops adhering   with hazard  h = lapse_rate · T^(½−trust) · S^(stigma−½)
    a patient not adhering resumes       at a visit   with P = adherence_counselling · q_adherence,
                                         or P = enhanced_counselling if a test there finds
                                         their virus unsuppressed
    adherent and not suppressed          becomes suppressed with P = suppression_rate
    suppressed and not adherent          rebounds with P = rebound_rate

and at each visit attended:

    not on treatment                     starts with P = treatment_start
    due a viral-load test (none in the   is tested with P = q_lab
    last viral_load_interval weeks)

Only patients on treatment are tested, and a patient who starts treatment starts adherent
(an assumption). With q_adherence and q_lab the quality of the adherence-support and lab-monitoring
aspects of care the patient's provider gives. A patient who leaves care stops treatment
and, off it, is counted as not suppressed: the cascade keeps suppressed ⊆ on treatment ⊆
in care.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coprod_sim.mechanisms.effects import event_probability, factor

#: ``last_test`` of a patient never tested.
NEVER = np.iinfo(np.int32).min // 2


def lapse_probability(
    trust: ArrayLike, stigma: ArrayLike, rate: float, mistrust_effect: float, stigma_effect: float
) -> NDArray:
    """Weekly chance an adherent patient stops adhering: 1 − exp(−rate·T^(½−trust)·S^(stigma−½))."""
    return lapse_probability_from_factors(
        stigma_lapse_hazard(stigma, rate, stigma_effect), factor(mistrust_effect, trust)
    )


def stigma_lapse_hazard(stigma: ArrayLike, rate: float, stigma_effect: float) -> NDArray:
    """rate·S^(stigma−½): the lapse hazard at neutral trust. It depends on the provider's
    stigma toward the group only, so it can be computed per (provider, group) and gathered."""
    return rate * factor(stigma_effect, stigma)


def lapse_probability_from_factors(stigma_hazard: ArrayLike, mistrust: ArrayLike) -> NDArray:
    """:func:`lapse_probability` from :func:`stigma_lapse_hazard` and ``mistrust`` =
    T^(trust−½): 1 − exp(−stigma_hazard / mistrust), the same arithmetic."""
    return event_probability(lapse_hazard(stigma_hazard, mistrust))


def lapse_hazard(stigma_hazard: ArrayLike, mistrust: ArrayLike) -> NDArray:
    """The weekly hazard of lapsing, stigma_hazard / mistrust (see
    :func:`lapse_probability_from_factors`)."""
    return np.asarray(stigma_hazard) / np.asarray(mistrust)


def resume_probability(
    adherence_quality: ArrayLike,
    found_unsuppressed: ArrayLike,
    counselling: float,
    enhanced_counselling: float,
) -> NDArray:
    """Chance a patient not adhering resumes at a visit: enhanced counselling after a test
    that found the virus unsuppressed, otherwise counselling scaled by its quality."""
    routine = counselling * np.asarray(adherence_quality)
    return np.where(np.asarray(found_unsuppressed, dtype=bool), enhanced_counselling, routine)


def test_due(last_test: ArrayLike, week: int, interval: int) -> NDArray[np.bool_]:
    """Whether a patient is due a viral-load test: none in the last ``interval`` weeks."""
    return week - np.asarray(last_test) >= interval


def next_viral_state(
    suppressed: NDArray[np.bool_],
    adherent: NDArray[np.bool_],
    draw: NDArray,
    up: float,
    down: float,
) -> NDArray[np.bool_]:
    """Suppression after a week: adherent patients become suppressed with probability
    ``up``, suppressed ones who do not adhere rebound with probability ``down``."""
    # Adherent: suppressed already, or becoming so. Not adherent: suppressed unless
    # rebounding. (Boolean operators: np.where is slow on booleans.)
    becomes = adherent & (draw < up)
    rebounds = ~adherent & (draw < down)
    return (suppressed & ~rebounds) | becomes
