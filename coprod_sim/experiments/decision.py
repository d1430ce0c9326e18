"""What a difference between designs must be to matter: each outcome's direction and its
default minimum important difference (MID), shared by ``coprod compare``, plans and the app.

The defaults are **assumptions**, the margins the validation study declares for the same
outcomes before it runs (``coprod_sim/validation/specs/``): two percentage points of a share
of patients, two points of trust, value or stigma on a 0-100 scale, one point of the equity
gap, one representative in twenty more heard, five changes across a collaborative, fifty
people. A planner or a researcher who knows what matters for their question sets their
own (``--mid`` in ``coprod compare``, ``[decision] minimum_important`` in a plan, a control
in the app). An outcome with no default has a minimum of 0: any clear difference counts.
"""

from __future__ import annotations

from collections.abc import Mapping

GROUPS = ("general", "msm", "sex_workers", "transgender", "unhoused")

#: Outcomes for which less is better; for every other outcome more is.
LOWER_IS_BETTER = frozenset(
    {"equity_gap", "reps_dropped", "sites_in_crisis", *(f"stigma_{g}" for g in GROUPS)}
)

_SHARE = (0.02, "two percentage points")
_SCALE = (0.02, "two points on a 0-100 scale")
_PEOPLE = (50.0, "fifty people")
#: outcome -> (minimum important difference, why), in the outcome's units.
MINIMUM_IMPORTANT: dict[str, tuple[float, str]] = {
    **dict.fromkeys(
        (
            "retention",
            "key_retention",
            "suppression",
            "key_suppression",
            "suppression_enrolled",
            "key_suppression_enrolled",
            "testing_coverage",
            "adherence",
            "re_engagement",
            *(f"retention_{g}" for g in GROUPS),
            *(f"suppression_{g}" for g in GROUPS),
        ),
        _SHARE,
    ),
    **dict.fromkeys(
        (
            "patient_trust",
            "provider_regard",
            "value",
            "engagement",
            *(f"trust_{g}" for g in GROUPS),
            *(f"value_{g}" for g in GROUPS),
            *(f"stigma_{g}" for g in GROUPS),
        ),
        _SCALE,
    ),
    "equity_gap": (0.01, "one point on a 0-100 scale"),
    "voice_share": (0.05, "one attending representative in twenty more heard"),
    "participation": (0.05, "one seated representative in twenty more attending"),
    **dict.fromkeys(
        ("changes_adopted", "patient_originated", "staff_originated", "sustained_changes"),
        (5.0, "five changes across the collaborative"),
    ),
    **dict.fromkeys(("in_care", "key_in_care", "suppressed", "key_suppressed", "tested"), _PEOPLE),
    **{f"suppressed_{g}": _PEOPLE for g in GROUPS},
}


def better(outcome: str) -> int:
    """+1 when more of ``outcome`` is better, -1 when less is."""
    return -1 if outcome in LOWER_IS_BETTER else 1


def minimum_important(outcome: str, given: Mapping[str, float] | None = None) -> float:
    """The minimum important difference of ``outcome``: the one given, else the default,
    else 0."""
    if given and outcome in given:
        return float(given[outcome])
    return MINIMUM_IMPORTANT.get(outcome, (0.0, ""))[0]
