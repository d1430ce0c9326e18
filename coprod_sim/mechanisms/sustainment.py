"""Sustainment or decay of adopted changes after external support ends.

Sources: Repenning & Sterman (2001, *Calif Manage Rev* 43(4):64), the
capability trap: under pressure "working harder" displaces "working
smarter" and improvements erode. Wells et al. (2018, *BMJ Qual Saf*
27:226): of 64 studies of QI collaboratives only 8 measured persistence.
Serrao et al. (2020): co-produced changes are more likely to be sustained.

A provider stops using a practice change in a week with hazard

    h = δ · (1 − D·d) · (1 − R·support) · (1 + pressure)

with δ the ``decay_rate``, d the change's design quality (a change that
does not work well is not worth keeping), R the ``support_reinforcement``
of external support (coaching, measurement, learning sessions) while
``support`` is 1, and ``pressure`` the crisis pressure. D is patient demand:
how much the provider's own patients in care value the change's aspect,
relative to what they value most,

    D = W[a] / max_b W[b],  W = Σ_groups (patients of the group in care) · what_matters

The same hazard, at the ``reversal_rate`` and with the site's patients' demand, is the
chance a site reverses an organisational change as a whole (``Changes.reverse``).

Changes patients asked for are asked for again and kept; nothing in this
equation depends on who proposed the change.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def patient_demand(caseload_weights: ArrayLike) -> NDArray:
    """D per aspect: each row's weights over aspects divided by the row's largest (0 if none)."""
    w = np.asarray(caseload_weights, dtype=float)
    top = w.max(axis=-1, keepdims=True)
    return np.divide(w, top, out=np.zeros_like(w), where=top > 0)


def abandonment_hazard(
    decay_rate: float,
    demand: ArrayLike,
    design_quality: ArrayLike,
    support: float,
    reinforcement: float,
    pressure: float,
) -> NDArray:
    """h = δ·(1 − D·d)·(1 − R·support)·(1 + pressure)."""
    keep = np.asarray(demand) * np.asarray(design_quality)
    return decay_rate * (1.0 - keep) * (1.0 - reinforcement * support) * (1.0 + pressure)
