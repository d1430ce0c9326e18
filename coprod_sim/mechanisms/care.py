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

The patient feels a visit that went well as good with a chance that falls with their
distrust, so that distrust reinforces and perpetuates itself (Slovic 1993, "Perceived
risk, trust, and democracy": distrust colours how new evidence is read, and it keeps
people from the contacts that could overcome it), with κ the ``trust_appraisal``:

    P(felt as good) = P(good) · (1 − κ·(1 − trust))

A visit not felt as good is a bad experience for the patient's trust (see ``trust``).

Clinical drivers. Besides counting in what matters, the aspects that drive a part of the
care cascade (adherence support, lab monitoring, reminders and tracing; ``aspect_roles``)
set that part's quality: the mean quality of the aspects that drive it, or ½ (neutral)
where no aspect does.
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


def appraisal(trust: ArrayLike, weight: float) -> NDArray:
    """1 − κ·(1 − trust): the chance a patient feels a visit that went well as good."""
    felt = np.subtract(1.0, trust)
    felt *= weight
    return np.subtract(1.0, felt, out=felt) if isinstance(felt, np.ndarray) else 1.0 - felt


#: The parts of the care cascade an aspect of care can drive, besides the experience.
DRIVERS = ("adherence", "lab_monitoring", "retention")


def driver_columns(drives: list[str]) -> dict[str, list[int]]:
    """For each driver, the aspects (column indices) that drive it, from each aspect's role."""
    return {d: [i for i, role in enumerate(drives) if role == d] for d in DRIVERS}


def driver_quality(quality: ArrayLike, columns: list[int]) -> NDArray:
    """Mean quality over the aspects ``columns`` along the last axis; ½ if there are none."""
    quality = np.asarray(quality, dtype=float)
    if not columns:
        return np.full(quality.shape[:-1], 0.5)
    if len(columns) == 1:  # the mean of one value is that value
        picked = quality[..., columns[0]]
        return picked.copy() if picked.ndim else picked[()]
    return quality[..., columns].mean(axis=-1)
