"""The value care delivers to each group, and how a visit goes.

Sources: Bluemer-Miroite et al. (2022): the top complaints about Caribbean
HIV care were confidentiality, waiting time and stigma; the changes CaReQIC
teams made (names off sign-in sheets, safe waiting, longer pharmacy hours)
were ones staff had not thought of. Always Events: value is what matters to
the patient.

Each provider does each aspect of care with a quality in [0, 1]: the
baseline plus the effects of the changes they use, capped at 1,

    quality[a] = min(1, baseline[a] + Σ_changes used on a  effect_size·d)

The value delivered to a patient of group g is the quality of what matters
to g:

    value = Σ_a what_matters[g, a] · quality[a]

A visit goes well with probability

    P(good) = (f + (1 − f)·value) · (1 − harm·stigma) · (1 − strain)

with f the ``experience_floor``, ``stigma`` the provider's stigma toward the
patient's group, ``harm`` the ``stigma_harm`` and ``strain`` the crisis
strain (0 outside a crisis).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def value_delivered(quality: ArrayLike, what_matters: ArrayLike) -> NDArray:
    """Value per (provider, group): quality (providers × aspects) · what_matters ᵀ."""
    return np.asarray(quality) @ np.asarray(what_matters).T


def good_visit_probability(
    value: ArrayLike, stigma: ArrayLike, strain: ArrayLike, floor: float, harm: float
) -> NDArray:
    """P(good) = (f + (1 − f)·value)·(1 − harm·stigma)·(1 − strain)."""
    value = np.asarray(value)
    return (
        (floor + (1.0 - floor) * value)
        * (1.0 - harm * np.asarray(stigma))
        * (1.0 - np.asarray(strain))
    )
