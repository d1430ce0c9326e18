"""Fact 3: without patient voice, staff improve what they assume matters.

The arms are the spec's scenarios labelled ``coproduced`` and ``staff_led``.
"""

from __future__ import annotations

from coprod_sim.validation.checks import Check, claim
from coprod_sim.validation.facts.common import (
    COPRODUCED,
    STAFF_LED,
    Fact,
    RegionCheck,
    StudyData,
    contrast,
    mechanism_checks,
)

SPEC, REGION_SPEC = "fact3_staff_assumptions", "fact3_staff_assumptions_region"


MECHANISM_RULES = {
    "value": ("priorities: without patient input, teams score ideas by what staff assume matters"),
}


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs, s = data.runs(SPEC, "ideas_tested", "value"), "Fact 3"
    run = data.spec(SPEC)
    coproduced, staff_led = run.arm(COPRODUCED), run.arm(STAFF_LED)
    checks = {
        "activity": claim(
            s,
            "without patient voice, improvement activity stays high",
            "ideas tested (PDSA cycles), staff-led minus coproduced",
            contrast("ideas_tested", coproduced, staff_led)(runs),
            "above",
            margin("activity"),
        ),
        "value": claim(
            s,
            "…but its value to patients is lower",
            "value to patients (0–1), staff-led minus coproduced",
            contrast("value", coproduced, staff_led)(runs),
            "below",
            margin("value"),
        ),
    }
    return mechanism_checks(checks, MECHANISM_RULES)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    return {
        "value": RegionCheck(
            "value to patients, staff-led minus coproduced",
            ("staff_assumptions.waiting_time", "staff_assumptions.lab_monitoring"),
            contrast("value", run.arm(COPRODUCED), run.arm(STAFF_LED)),
            "below",
            margin=margin("value")[0],
            outcomes=("value",),
        ),
    }


FACT = Fact(
    id="fact3",
    number=3,
    title="Without patient voice, staff improve what they assume matters",
    statement=(
        "Without patient voice, staff improve what they assume matters. Activity is high but "
        "value to patients is low."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("ideas_tested", ("scenario",)), ("value", ("scenario",))),
)
