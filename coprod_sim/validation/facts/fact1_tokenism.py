"""Fact 1: tokenism produces little real change compared with partnership and above.

The arms are Arnstein's bands (:func:`coprod_sim.mechanisms.power.band`) over the spec's
``power_sharing`` levels: tokenism is the levels in the tokenism band, partnership those in
the citizen-power band.
"""

from __future__ import annotations

from itertools import pairwise

from coprod_sim.mechanisms import power
from coprod_sim.validation.checks import Check, claim
from coprod_sim.validation.facts.common import Fact, RegionCheck, SpecRun, StudyData, contrast

SPEC, REGION_SPEC = "fact1_tokenism", "fact1_tokenism_region"
TOKENISM, CITIZEN_POWER = "tokenism", "citizen power"


def rungs(levels: list[int]) -> str:
    """'rung 4', 'rungs 3–5' or 'rungs 3 and 5'."""
    if len(levels) == 1:
        return f"rung {levels[0]}"
    if all(b - a == 1 for a, b in pairwise(levels)):
        return f"rungs {levels[0]}–{levels[-1]}"
    return f"rungs {', '.join(map(str, levels[:-1]))} and {levels[-1]}"


def arms(run: SpecRun) -> tuple[dict, dict, str]:
    """Tokenism and partnership among the spec's rungs, and the contrast in words
    ('rungs 6–8 minus rungs 3–5')."""
    levels = run.levels("power_sharing")
    found = {}
    for band in (TOKENISM, CITIZEN_POWER):
        found[band] = [rung for rung in levels if power.band(rung) == band]
        if not found[band]:
            ladder = [i + 1 for i, name in enumerate(power.BANDS) if name == band]
            raise run.mismatch(
                "factors.power_sharing",
                levels,
                f"needs a rung of the {band} band ({rungs(ladder)}) to contrast tokenism "
                "with partnership",
            )
    tokenism, partnership = found[TOKENISM], found[CITIZEN_POWER]
    words = f"{rungs(partnership)} minus {rungs(tokenism)}"
    return {"power_sharing": tokenism}, {"power_sharing": partnership}, words


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs, s = data.runs(SPEC, "patient_originated", "value"), "Fact 1"
    tokenism, partnership, words = arms(data.spec(SPEC))
    return {
        "patient_originated": claim(
            s,
            "partnership adopts more patient-originated changes than tokenism",
            f"patient-originated changes adopted, {words}",
            contrast("patient_originated", tokenism, partnership)(runs),
            "above",
            margin("patient_originated"),
        ),
        "value": claim(
            s,
            "partnership delivers more of what matters to patients",
            f"value to patients (0–1), {words}",
            contrast("value", tokenism, partnership)(runs),
            "above",
            margin("value"),
        ),
    }


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    tokenism, partnership, words = arms(data.spec(REGION_SPEC))
    return {
        "patient_originated": RegionCheck(
            f"patient-originated changes adopted, {words}",
            ("voice_base",),
            contrast("patient_originated", tokenism, partnership),
            "above",
            margin=margin("patient_originated")[0],
            outcomes=("patient_originated",),
        ),
        "value": RegionCheck(
            f"value to patients, {words}",
            ("voice_base",),
            contrast("value", tokenism, partnership),
            "above",
            margin=margin("value")[0],
            outcomes=("value",),
        ),
    }


FACT = Fact(
    id="fact1",
    number=1,
    title="Tokenism produces little real change",
    statement=(
        "Tokenism (rungs 3–5) produces little real change compared with partnership and above. "
        "Fewer patient-originated changes are adopted, and less of what matters is delivered."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("patient_originated", ("power_sharing",)), ("value", ("power_sharing",))),
)
