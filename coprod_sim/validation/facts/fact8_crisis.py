"""Fact 8: a crisis erodes trust and capacity, recovery lags (hysteresis), and a coproduced
recovery is faster than a top-down one.

The arms are the spec's scenarios labelled ``no_crisis``, ``top_down`` and ``coproduced``
(the recoveries); the weeks compared come from the crisis the two recoveries share
(``crisis_week``, ``crisis_duration``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from coprod_sim.validation.checks import Check, claim, level, paired, per_replication
from coprod_sim.validation.facts.common import (
    COPRODUCED,
    Fact,
    RegionCheck,
    SpecRun,
    StudyData,
    contrast,
)

SPEC, REGION_SPEC = "fact8_crisis", "fact8_crisis_region"
NO_CRISIS, TOP_DOWN = "no_crisis", "top_down"
RECOVERY_WEEKS = 24  # "faster": compared six months after the crisis ends


def crisis_weeks(run: SpecRun) -> tuple[int, int]:
    """The week before the crisis and the week it ends, shared by the two recoveries."""
    recoveries = [TOP_DOWN, COPRODUCED]
    start = run.value("crisis_week", recoveries)
    if start is None:
        raise run.mismatch(
            "scenarios: crisis_week", None, f"needs a crisis in {', '.join(recoveries)}"
        )
    return start - 1, start + run.value("crisis_duration", recoveries)


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    run, s = data.spec(SPEC), "Fact 8"
    before, ended = crisis_weeks(run)
    recovery = ended + RECOVERY_WEEKS
    outcomes = ("patient_trust", "representative_trust", "provider_uptake", "changes_in_use")
    series = data.series(SPEC, *outcomes, weeks=(before, ended, recovery))
    calm, top_down, coproduced = run.arm(NO_CRISIS), run.arm(TOP_DOWN), run.arm(COPRODUCED)
    end = int(series["step"].max())

    def at(where: Mapping[str, Any], outcome: str, week: int) -> pd.Series:
        return per_replication(series, {**where, "step": week}, outcome)

    return {
        "trust_erodes": claim(
            s,
            "a crisis erodes patients' trust",
            f"patients' trust in week {ended}, top-down crisis minus no crisis",
            paired(at(calm, "patient_trust", ended), at(top_down, "patient_trust", ended)),
            "below",
            margin("trust_erodes"),
        ),
        "capacity_erodes": claim(
            s,
            "…and erodes capacity: changes fall out of use",
            f"change in the share of (provider, adopted change) pairs in use, week {before} to "
            f"{ended}, through the crisis",
            level(at(top_down, "provider_uptake", ended) - at(top_down, "provider_uptake", before)),
            "below",
            margin("capacity_erodes"),
        ),
        "hysteresis": claim(
            s,
            "recovery lags (hysteresis)",
            f"patients' trust in week {end}, {end - ended} weeks after a coproduced recovery "
            "restored the rung, minus no crisis",
            paired(at(calm, "patient_trust", end), at(coproduced, "patient_trust", end)),
            "below",
            margin("hysteresis"),
        ),
        "patient_trust_recovers": claim(
            s,
            "a coproduced recovery restores patients' trust faster",
            f"patients' trust in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(top_down, "patient_trust", recovery),
                at(coproduced, "patient_trust", recovery),
            ),
            "above",
            margin("patient_trust_recovers"),
            note=(
                "Trust is slow evidence (beta reputation with forgetting): a recovery changes "
                "it only through the visits and meetings that follow, so six months on the two "
                "recoveries differ little; the region sweep compares them at the end."
            ),
        ),
        "representative_trust_recovers": claim(
            s,
            "…and representatives' trust faster",
            f"representatives' trust in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(top_down, "representative_trust", recovery),
                at(coproduced, "representative_trust", recovery),
            ),
            "above",
            margin("representative_trust_recovers"),
        ),
        "capacity_recovers": claim(
            s,
            "…and rebuilds capacity faster",
            f"changes in use in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(top_down, "changes_in_use", recovery),
                at(coproduced, "changes_in_use", recovery),
            ),
            "above",
            margin("capacity_recovers"),
            note=(
                "After a coproduced recovery decisions are shared again, and a shared decision "
                "needs agreement before a change is tested, P(agree) = 1 − ω·negotiation·d "
                "(§7.6 of the ODD); after a top-down one managers decide almost at once (rung 3 "
                "gives patient input a weight of 0.05). Who decides does not change how fast "
                "colleagues take a change up."
            ),
        ),
    }


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    calm, top_down, coproduced = run.arm(NO_CRISIS), run.arm(TOP_DOWN), run.arm(COPRODUCED)
    return {
        "hysteresis": RegionCheck(
            "patients' trust at the end, coproduced recovery minus no crisis (hysteresis)",
            ("crisis_duration",),
            contrast("patient_trust", calm, coproduced),
            "below",
            margin=margin("hysteresis")[0],
            outcomes=("patient_trust",),
        ),
        "recovery": RegionCheck(
            "patients' trust at the end, coproduced minus top-down recovery",
            ("crisis_duration",),
            contrast("patient_trust", top_down, coproduced),
            "above",
            margin=margin("patient_trust_recovers")[0],
            outcomes=("patient_trust",),
        ),
    }


FACT = Fact(
    id="fact8",
    number=8,
    title="A crisis erodes trust; recovery lags; coproduced recovery is faster",
    statement=(
        "A crisis switch to command-and-control erodes trust and capacity, and recovery lags "
        "(hysteresis). A coproduced recovery is faster than a top-down one."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("series:patient_trust", ("scenario",)), ("series:provider_uptake", ("scenario",))),
)
