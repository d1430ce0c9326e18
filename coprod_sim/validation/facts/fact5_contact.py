"""Fact 5: equal-status contact reduces provider stigma; how much depends on status and
authority support, how fast on cooperation and common goals.

Levels are compared where they have settled: the spec runs ten years, and "how much" is the
level in its last week. Nothing in the contact mechanism assigns a condition to the level or
to the speed (``mechanisms.contact``): which conditions move which is what this fact tests.

The status arms are the spec's scenarios labelled ``high_status`` and ``low_status``; the
easy and hard conditions are the highest and the lowest levels of ``cooperation`` and
``common_goals``.
"""

from __future__ import annotations

import pandas as pd

from coprod_sim.experiments.stats import Interval
from coprod_sim.validation.checks import Check, change, claim, equivalent, level, paired
from coprod_sim.validation.facts.common import Fact, RegionCheck, SpecRun, StudyData, contrast

SPEC, REGION_SPEC = "fact5_contact", "fact5_contact_region"


def conditions(run: SpecRun, goals: str) -> tuple[dict, dict, str]:
    """Allport's conditions hard and easy (the lowest and highest levels of cooperation and
    common goals), and the contrast in words ('cooperation and common goals 0.9 minus 0.2'),
    naming common goals ``goals``."""
    cooperation, common_goals = run.extremes("cooperation"), run.extremes("common_goals")
    hard = {"cooperation": cooperation[0], "common_goals": common_goals[0]}
    easy = {"cooperation": cooperation[1], "common_goals": common_goals[1]}
    if cooperation == common_goals:
        words = f"cooperation and {goals} {cooperation[1]:g} minus {cooperation[0]:g}"
    else:
        words = (
            f"cooperation {cooperation[1]:g} and {goals} {common_goals[1]:g} minus "
            f"{cooperation[0]:g} and {common_goals[0]:g}"
        )
    return hard, easy, words


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs = data.runs(SPEC, "stigma_key")
    series, s = data.series(SPEC, "stigma_key", weeks=[0]), "Fact 5"
    run = data.spec(SPEC)
    high, low = run.arm("high_status"), run.arm("low_status")
    hard, easy, both = conditions(run, "common goals")
    both_short = conditions(run, "goals")[2]
    end = int(series["step"].max())
    # "How fast": the share of the whole fall reached within the first year.
    early = max(w for w in series["step"].unique() if w <= min(52, end / 3))
    return {
        "stigma_falls": claim(
            s,
            "equal-status contact reduces provider stigma",
            f"change in stigma toward key populations, week 0 to {end}, high status and "
            "authority support",
            level(change(series, high, "stigma_key", 0, end)),
            "below",
            margin("stigma_falls"),
        ),
        "how_much": claim(
            s,
            "how much depends on status and authority support",
            f"stigma toward key populations in week {end}, high minus low status and support",
            contrast("stigma_key", low, high)(runs),
            "below",
            margin("how_much"),
        ),
        "how_fast": claim(
            s,
            "how fast depends on cooperation and common goals",
            f"share of the fall in stigma by week {end} reached by week {early}: {both}, high "
            "status",
            paired(
                change(series, high | hard, "stigma_key", 0, early)
                / change(series, high | hard, "stigma_key", 0, end),
                change(series, high | easy, "stigma_key", 0, early)
                / change(series, high | easy, "stigma_key", 0, end),
            ),
            "above",
            margin("how_fast"),
        ),
        "final_level": equivalent(
            s,
            "…while cooperation and common goals leave the settled level alone",
            f"stigma toward key populations in week {end}: {both_short}, high status",
            contrast("stigma_key", high | hard, high | easy)(runs),
            margin=margin("final_level")[0],
            note=(
                "Common goals are one of Allport's four conditions, which strengthen a good "
                "contact as a bundle (Pettigrew & Tropp 2006), so they move where stigma "
                "settles, not only how fast it gets there; cooperation also raises how often "
                "staff and representatives meet."
            ),
        ),
    }


def stigma_change(table: pd.DataFrame) -> Interval:
    """Change in stigma toward the key populations from week 0 to the last week."""
    end = int(table["step"].max())
    return level(change(table, {}, "stigma_key", 0, end))


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    return {
        "stigma_falls": RegionCheck(
            "change in stigma toward key populations over the spec's horizon",
            ("power_sharing", "authority_support"),
            stigma_change,
            "below",
            margin=margin("stigma_falls")[0],
            final=False,
            outcomes=("stigma_key",),
            weeks=(0,),
        ),
    }


FACT = Fact(
    id="fact5",
    number=5,
    title="Equal-status contact reduces provider stigma",
    statement=(
        "Equal-status contact reduces provider stigma: how much depends on status and authority "
        "support, how fast on cooperation and common goals."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("series:stigma_key", ("scenario", "cooperation", "common_goals")),),
)
