"""Provider stigma under intergroup contact, with Allport's conditions.

Sources: Allport (1954) *The Nature of Prejudice*: contact reduces prejudice
under equal status, common goals, cooperation and the support of
authorities. Pettigrew & Tropp (2006, *J Pers Soc Psychol* 90:751; 515
studies, 713 samples) found that contact usually reduces prejudice even without
these conditions, and that the conditions strengthen the effect as a bundle
rather than each being required: the mean effect was r = −.215 over all samples
and −.287 in samples with structured, optimal conditions, a ratio of about 0.75.
Barlow et al. (2012, *Pers Soc Psychol Bull* 38:1629): a bad contact raises
prejudice more than a good one lowers it.

Mechanism. A contact is attitude exchange with a partner whose own attitude is
fixed: a representative of group g does not stigmatise g, so a good contact
pulls the provider's stigma ``x`` toward 0 and a bad one pushes it toward 1:

    good contact:  x ← x − μ·b·x
    bad contact:   x ← x + min(1, w·μ)·(1 − x)      (Barlow's asymmetry, w ≥ 1)

with μ the ``contact_rate``, w the ``negative_contact_weight`` and b the strength
the conditions give a good contact, Pettigrew & Tropp's bundle:

    b = b₀ + (1 − b₀)·(status_equality + authority_support + cooperation + common_goals)/4

with b₀ the ``contact_without_conditions`` (about 0.75). The conditions act on
the good contact's effect only: they do not buffer a bad one (an assumption).
Two of them also enter elsewhere, where the literature places them:

* cooperation makes staff and representatives work side by side: the chance a
  staff–representative pair has a contact in a meeting is 0.25 + 0.75·cooperation;
* a contact goes well with probability c + (1 − c)·safety, where ``safety``
  is the meeting's psychological safety (see ``voice``), which equal status raises.

Where stigma settles (how much it falls) and how fast it gets there are outputs:
nothing here assigns a condition to one or the other.

Canonical reduction: with only good contacts and b = 1, n contacts give the
exponential decline x_n = x_0·(1 − μ)^n, Deffuant's update toward a fixed
partner at 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def condition_strength(
    status_equality: ArrayLike,
    authority_support: float,
    cooperation: float,
    common_goals: float,
    without_conditions: float,
) -> NDArray:
    """b = b₀ + (1 − b₀)·(mean of Allport's four conditions)."""
    bundle = (np.asarray(status_equality) + authority_support + cooperation + common_goals) / 4
    return without_conditions + (1.0 - without_conditions) * bundle


def contact_probability(cooperation: float) -> float:
    """Chance a staff–representative pair has a contact in one meeting."""
    return 0.25 + 0.75 * cooperation


def good_contact_probability(safety: ArrayLike, positivity: float) -> NDArray:
    """Chance a contact goes well: c + (1 − c)·safety."""
    return positivity + (1.0 - positivity) * np.asarray(safety)


def update(
    stigma: ArrayLike, good: ArrayLike, strength: ArrayLike, mu: float, negative_weight: float
) -> NDArray:
    """Stigma after one contact each (``good`` True for a good contact, False for a bad
    one), with ``strength`` the b the conditions give each good contact."""
    x = np.asarray(stigma, dtype=float)
    good = np.asarray(good, dtype=bool)
    lowered = x - mu * np.asarray(strength) * x
    raised = x + min(1.0, negative_weight * mu) * (1.0 - x)
    return np.where(good, lowered, raised)
