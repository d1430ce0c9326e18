"""Fact 2: closing the feedback loop builds trust and keeps representatives engaged.

The arms are the ends of the spec's ``feedback_loop`` levels: input ignored is the lowest,
the loop closed the highest.
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

SPEC, REGION_SPEC = "fact2_feedback", "fact2_feedback_region"


def arms(run: SpecRun) -> tuple[dict, dict, str]:
    """Input ignored and the loop closed, and the contrast in words
    ('feedback loop 0.9 minus 0')."""
    ignored, closed = run.extremes("feedback_loop")
    words = f"feedback loop {closed:g} minus {ignored:g}"
    return {"feedback_loop": ignored}, {"feedback_loop": closed}, words


MECHANISM_RULES = {
    "trust": (
        "feedback: input reported back is a good experience for the representative's "
        "trust, input into a void a bad one"
    ),
    "dropout": ("retention: a representative leaves with a chance that grows as (1 − trust)²"),
}


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs, s = data.runs(SPEC, "representative_trust", "reps_dropped"), "Fact 2"
    ignored, closed, loop = arms(data.spec(SPEC))
    checks = {
        "trust": claim(
            s,
            "closing the loop builds representatives' trust",
            f"representatives' trust in providers, {loop}",
            contrast("representative_trust", ignored, closed)(runs),
            "above",
            margin("trust"),
        ),
        "dropout": claim(
            s,
            "ignored input makes representatives drop out",
            f"representatives who dropped out, {loop}",
            contrast("reps_dropped", ignored, closed)(runs),
            "below",
            margin("dropout"),
        ),
    }
    return mechanism_checks(checks, MECHANISM_RULES)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    ignored, closed, loop = arms(data.spec(REGION_SPEC))
    return {
        "trust": RegionCheck(
            f"representatives' trust, {loop}",
            ("voice_base",),
            contrast("representative_trust", ignored, closed),
            "above",
            margin=margin("trust")[0],
            outcomes=("representative_trust",),
        ),
        "dropout": RegionCheck(
            f"representatives who dropped out, {loop}",
            ("voice_base",),
            contrast("reps_dropped", ignored, closed),
            "below",
            margin=margin("dropout")[0],
            outcomes=("reps_dropped",),
        ),
    }


FACT = Fact(
    id="fact2",
    number=2,
    title="Closing the feedback loop keeps representatives",
    statement=(
        "Closing the feedback loop builds trust and keeps representatives engaged. Ignored "
        "input erodes trust, and representatives drop out."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(
        ("representative_trust", ("feedback_loop",)),
        ("reps_dropped", ("feedback_loop",)),
    ),
)
