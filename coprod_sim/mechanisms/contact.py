"""Provider stigma under intergroup contact, with Allport's conditions.

Sources: Allport (1954) *The Nature of Prejudice*: contact reduces prejudice
under equal status, common goals, cooperation and the support of
authorities. Pettigrew & Tropp (2006, *J Pers Soc Psychol* 90:751; 515
studies) found contact usually reduces prejudice, the conditions strengthening
the effect as a bundle without all being required. Barlow et al. (2012,
*Pers Soc Psychol Bull* 38:1629): a bad contact raises prejudice more than a
good one lowers it. The DSIM model (Heinke, Carslaw & Christian 2013, *JASSS*
16(4):10) is the agent-based precedent.

Mechanism. Contact is attitude exchange under bounded confidence (see
``bounded_confidence``) with a partner whose own attitude is fixed: a
representative of group g does not stigmatise g, so a good contact pulls the
provider's stigma ``x`` toward 0, but only if the provider is open to the
evidence, ``x ≤ ε`` (the latitude of acceptance):

    good contact:  x ← x − μ·x                  if x ≤ ε
    bad contact:   x ← x + min(1, w·μ)·(1 − x)   (Barlow's asymmetry, w ≥ 1)

Allport's conditions enter where the literature places them:

* equal status (``status_equality`` of the Arnstein rung) and authority
  support legitimise the evidence, widening the latitude:
  ε = min(1, ε₀ + ε_s·status + ε_a·authority);
* cooperation makes staff and representatives work side by side: the chance a
  staff–representative pair has a contact in a meeting is 0.25 + 0.75·cooperation;
* common goals make the partner "one of us" (recategorisation): the step is
  μ = rate·(0.5 + 0.5·common_goals);
* a contact goes well with probability c + (1 − c)·safety, where ``safety``
  is the meeting's psychological safety (see ``voice``).

Canonical reduction: with ε = 1 and only good contacts, n contacts give the
exponential decline x_n = x_0·(1 − μ)^n, Deffuant's update toward a fixed
partner at 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def latitude(
    status_equality: ArrayLike,
    authority_support: float,
    base: float,
    by_status: float,
    by_authority: float,
) -> NDArray:
    """ε: the highest stigma at which a provider still takes in a good contact."""
    raw = base + by_status * np.asarray(status_equality) + by_authority * authority_support
    return np.minimum(1.0, raw)


def step_size(rate: float, common_goals: float) -> float:
    """μ = rate·(0.5 + 0.5·common_goals)."""
    return rate * (0.5 + 0.5 * common_goals)


def contact_probability(cooperation: float) -> float:
    """Chance a staff–representative pair has a contact in one meeting."""
    return 0.25 + 0.75 * cooperation


def good_contact_probability(safety: ArrayLike, positivity: float) -> NDArray:
    """Chance a contact goes well: c + (1 − c)·safety."""
    return positivity + (1.0 - positivity) * np.asarray(safety)


def update(
    stigma: ArrayLike, good: ArrayLike, epsilon: float, mu: float, negative_weight: float
) -> NDArray:
    """Stigma after one contact each (``good`` True for a good contact, False for a bad one)."""
    x = np.asarray(stigma, dtype=float)
    good = np.asarray(good, dtype=bool)
    lowered = np.where(x <= epsilon, x - mu * x, x)
    raised = x + min(1.0, negative_weight * mu) * (1.0 - x)
    return np.where(good, lowered, raised)
