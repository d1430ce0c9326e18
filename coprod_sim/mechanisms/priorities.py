"""What matters to patients versus what staff assume, and how a team chooses a change.

Sources: Serrao et al. (IHI 2020, "Co-producing COVID-19 recovery"): staff
in an NHS outpatient unit expected complaints about waits and staffing;
patients asked to know they were in the right place and to be told about
delays. Always Events start from "What matters to you?". Lee & Robson (IHI):
"fixing the wrong thing for the wrong reason" leaves problems recurring.
Arnstein (1969) for the weight of patient input (see ``power``).

Each person proposes ideas about the aspects of care that matter to them:
staff draw the aspect from the staff assumptions, a representative from
their group's ``what_matters``. The team's picture of what matters to
patients, v_p, is what its representatives have said so far:

    v_p ← (m·N_p·v_p + Σ_heard w_group) / (m·N_p + n_heard)

(an average with memory m = 0.9 per meeting, N_p the weight of past voices).
An idea about aspect a is scored by the importance the team gives a, times
how much room for improvement a has:

    score(a) = ((1 − ω)·v_s[a] + ω·v_p[a]) · (1 − quality[a])

with v_s the staff assumptions and ω the patient input weight of the rung.

Choosing under shared power takes agreement. Where staff and patient views of
a differ, d(a) = |v_s[a] − v_p[a]| / (v_s[a] + v_p[a]), a meeting agrees to
test the idea with probability

    P(agree) = 1 − ω·negotiation·d(a)

and otherwise deliberation goes on to the next meeting ("strike through half
the agenda"). With ω = 0 staff decide alone, at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

VIEW_MEMORY = 0.9


def normalise(weights: ArrayLike) -> NDArray:
    """Weights scaled to sum to 1 along the last axis."""
    w = np.asarray(weights, dtype=float)
    return w / w.sum(axis=-1, keepdims=True)


def propose(weights: NDArray, draws: NDArray) -> NDArray[np.int64]:
    """The aspect each proposer raises: a draw from their row of ``weights`` (rows sum to 1),
    by inverting the cumulative weights at a uniform ``draws``."""
    cumulative = np.cumsum(weights, axis=-1)
    return (draws[:, None] >= cumulative[..., :-1]).sum(axis=-1).astype(np.int64)


def score(
    staff_view: NDArray, patient_view: NDArray, input_weight: float, quality: NDArray
) -> NDArray:
    """score(a) = ((1 − ω)·v_s[a] + ω·v_p[a]) · (1 − quality[a]), for every aspect."""
    importance = (1.0 - input_weight) * staff_view + input_weight * patient_view
    return importance * np.clip(1.0 - quality, 0.0, 1.0)


def disagreement(staff_view: NDArray, patient_view: NDArray) -> NDArray:
    """d(a) = |v_s − v_p| / (v_s + v_p), 0 where both are 0."""
    total = staff_view + patient_view
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(staff_view - patient_view) / total
    return np.where(total > 0, d, 0.0)


def agreement_probability(input_weight: float, negotiation: float, disagreement: float) -> float:
    """P(agree) = 1 − ω·negotiation·d."""
    return 1.0 - input_weight * negotiation * disagreement


def update_patient_view(
    view: NDArray, weight: NDArray, heard_sum: NDArray, n_heard: NDArray
) -> tuple[NDArray, NDArray]:
    """Fold what the representatives heard at a meeting said into each team's picture.

    ``view`` is (teams, aspects), ``weight`` (teams,), ``heard_sum`` the sum of the heard
    representatives' groups' ``what_matters`` per team and ``n_heard`` their number.
    A team that heard no one keeps its picture unchanged.
    """
    n_heard = np.asarray(n_heard, dtype=float)
    kept = VIEW_MEMORY * np.asarray(weight, dtype=float)
    new_weight = np.where(n_heard > 0, kept + n_heard, weight)
    denominator = np.where(n_heard > 0, kept + n_heard, 1.0)[..., None]
    new_view = np.where(
        (n_heard > 0)[..., None], (kept[..., None] * view + heard_sum) / denominator, view
    )
    return new_view, new_weight
