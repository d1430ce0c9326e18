"""Power sharing on Arnstein's ladder of citizen participation.

Source: Arnstein, S. R. (1969) "A ladder of citizen participation",
*J Am Inst Planners* 35(4):216-224. Eight rungs in three bands:
non-participation (1 manipulation, 2 therapy), tokenism (3 informing,
4 consultation, 5 placation) and citizen power (6 partnership, 7 delegated
power, 8 citizen control).

The rung sets two quantities the other mechanisms use:

* ``patient_input_weight(rung)`` = ω, the weight patient input gets when a
  team chooses which change to test (see ``priorities``);
* ``status_equality(rung)``, how far representatives sit at equal status with
  staff, one of Allport's conditions (see ``contact``) and a source of
  psychological safety (see ``voice``).

Both are non-decreasing in the rung. The numbers are an assumption that reads
the ladder's text: informing is one-way (ω ≈ 0), consultation and placation
give advice that power-holders may ignore ("a few seats, kept in the
minority"), and partnership is the first rung where decisions are shared, so
status equality jumps between the tokenism and citizen-power bands.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

LADDER = (
    "manipulation",
    "therapy",
    "informing",
    "consultation",
    "placation",
    "partnership",
    "delegated power",
    "citizen control",
)

BANDS = ("non-participation",) * 2 + ("tokenism",) * 3 + ("citizen power",) * 3

_INPUT_WEIGHT = np.array([0.0, 0.0, 0.05, 0.15, 0.25, 0.5, 0.7, 0.9])
_STATUS_EQUALITY = np.array([0.0, 0.0, 0.1, 0.2, 0.3, 0.7, 0.85, 1.0])

#: The rung a site falls to under command-and-control (see ``crisis``).
COMMAND_AND_CONTROL = 1
#: The rung of a top-down recovery: staff inform, patients listen.
TOP_DOWN = 3


def _index(rung: ArrayLike) -> NDArray:
    rung = np.asarray(rung)
    if not np.issubdtype(rung.dtype, np.integer) or np.any((rung < 1) | (rung > len(LADDER))):
        raise ValueError(f"power_sharing rung must be an integer 1..{len(LADDER)}, got {rung}")
    return rung - 1


def rung_name(rung: int) -> str:
    """'partnership' for rung 6, and so on."""
    return LADDER[int(_index(rung))]


def band(rung: int) -> str:
    """'non-participation', 'tokenism' or 'citizen power'."""
    return BANDS[int(_index(rung))]


def patient_input_weight(rung: ArrayLike) -> NDArray:
    """ω: the weight patient input gets when changes are chosen (per rung, or per site)."""
    return _INPUT_WEIGHT[_index(rung)]


def status_equality(rung: ArrayLike) -> NDArray:
    """How far representatives work at equal status with staff, from 0 to 1."""
    return _STATUS_EQUALITY[_index(rung)]
