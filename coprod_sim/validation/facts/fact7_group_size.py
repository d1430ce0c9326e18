"""Fact 7: small coproduction groups hear more voices than large ones.

The arms are the spec's scenarios labelled ``team_4`` (small), ``team_6`` (middle-sized)
and ``team_14`` (large); the sizes the measures name are those scenarios' ``team_size``.
"""

from __future__ import annotations

from coprod_sim.validation.checks import Check, claim
from coprod_sim.validation.facts.common import (
    Fact,
    RegionCheck,
    SpecRun,
    StudyData,
    contrast,
    mechanism_checks,
)

SPEC, REGION_SPEC = "fact7_group_size", "fact7_group_size_region"
SMALL, MIDDLE, LARGE = "team_4", "team_6", "team_14"


def team(run: SpecRun, label: str) -> tuple[dict, str]:
    """The arm labelled ``label`` and its team in words ('team of 4')."""
    return run.arm(label), f"team of {run.value('team_size', [label])}"


MECHANISM_RULES = {
    "small_vs_large": ("voice: a meeting has a fixed number of speaking turns"),
    "middle_vs_large": ("voice: a meeting has a fixed number of speaking turns"),
}


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs, s = data.runs(SPEC, "voice_share"), "Fact 7"
    run = data.spec(SPEC)
    (small, small_words), (middle, middle_words), (large, large_words) = (
        team(run, label) for label in (SMALL, MIDDLE, LARGE)
    )
    checks = {
        "small_vs_large": claim(
            s,
            "small groups hear more of their patient voices than large ones",
            f"share of attending representatives heard, {small_words} minus {large_words}",
            contrast("voice_share", large, small)(runs),
            "above",
            margin("small_vs_large"),
        ),
        "middle_vs_large": claim(
            s,
            "…and a middle-sized group hears more than a large one",
            f"share of attending representatives heard, {middle_words} minus {large_words}",
            contrast("voice_share", large, middle)(runs),
            "above",
            margin("middle_vs_large"),
        ),
    }
    return mechanism_checks(checks, MECHANISM_RULES)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    (small, small_words), (large, large_words) = (team(run, label) for label in (SMALL, LARGE))
    return {
        "small_vs_large": RegionCheck(
            f"share of representatives heard, {small_words} minus {large_words}",
            ("speaking_turns",),
            contrast("voice_share", large, small),
            "above",
            margin=margin("small_vs_large")[0],
            outcomes=("voice_share",),
        ),
    }


FACT = Fact(
    id="fact7",
    number=7,
    title="Small coproduction groups hear more voices",
    statement="Small coproduction groups hear more voices than large ones.",
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("voice_share", ("scenario",)), ("reps_heard", ("scenario",))),
)
