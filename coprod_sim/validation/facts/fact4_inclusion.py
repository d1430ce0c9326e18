"""Fact 4: without deliberate inclusion the most marginalised are least heard.

The arms are the spec's ``inclusion`` levels ``convenience`` and ``deliberate``; the key
populations and their share of patients are the base scenario's
(:attr:`~coprod_sim.scenario.Scenario.key_populations`, its sites' group shares).
"""

from __future__ import annotations

from coprod_sim.validation.checks import Check, change, directional, level, per_replication
from coprod_sim.validation.facts.common import (
    Fact,
    RegionCheck,
    StudyData,
    contrast,
    key_population_share,
)

SPEC, REGION_SPEC = "fact4_inclusion", "fact4_inclusion_region"


def checks(data: StudyData) -> dict[str, Check]:
    runs = data.runs(SPEC, "heard_key_share", "heard_key", "equity_gap")
    series, s = data.series(SPEC, "equity_gap", weeks=[0]), "Fact 4"
    run = data.spec(SPEC)
    convenience = run.level("inclusion", "convenience")
    deliberate = run.level("inclusion", "deliberate")
    end = int(series["step"].max())
    share = run.value("sites", read=key_population_share)
    return {
        "heard_below_share": directional(
            s,
            "under convenience recruitment the key populations are heard far less than their "
            "share of patients",
            "key populations' share of the representatives heard at the last meeting minus "
            f"their share of patients ({share:.2f}), convenience recruitment",
            level(per_replication(runs, convenience, "heard_key_share").dropna() - share),
            "below",
        ),
        "gap_widens": directional(
            s,
            "without deliberate inclusion the equity gap widens",
            f"change in the equity gap, week 0 to {end}, convenience recruitment",
            level(change(series, convenience, "equity_gap", 0, end)),
            "above",
        ),
        "heard_more": directional(
            s,
            "deliberate inclusion hears the key populations more",
            "key-population representatives heard at the last meeting, deliberate minus "
            "convenience",
            contrast("heard_key", convenience, deliberate)(runs),
            "above",
        ),
        "gap_smaller": directional(
            s,
            "deliberate inclusion leaves a smaller equity gap than convenience",
            f"equity gap in week {end}, deliberate minus convenience",
            contrast("equity_gap", convenience, deliberate)(runs),
            "below",
        ),
        "gap_narrows": directional(
            s,
            "deliberate inclusion narrows the gap (below where it started)",
            f"change in the equity gap, week 0 to {end}, deliberate inclusion",
            level(change(series, deliberate, "equity_gap", 0, end)),
            "below",
            note=(
                "Deliberate inclusion stops the gap widening but does not bring it below its "
                "starting level within the horizon: each adopted change raises the quality of "
                "one aspect of care, which adds value for every group in proportion to how "
                "much that aspect matters to it, so the best-served group gains too."
            ),
        ),
    }


def regions(data: StudyData) -> dict[str, RegionCheck]:
    run = data.spec(REGION_SPEC)
    convenience = run.level("inclusion", "convenience")
    deliberate = run.level("inclusion", "deliberate")
    return {
        "gap_smaller": RegionCheck(
            "equity gap at the end, deliberate minus convenience",
            ("representative_seats",),
            contrast("equity_gap", convenience, deliberate),
            "below",
            outcomes=("equity_gap",),
        ),
        "heard_more": RegionCheck(
            "key-population representatives heard, deliberate minus convenience",
            ("representative_seats",),
            contrast("heard_key", convenience, deliberate),
            "above",
            outcomes=("heard_key",),
        ),
    }


FACT = Fact(
    id="fact4",
    number=4,
    title="Without deliberate inclusion the most marginalised are least heard",
    statement=(
        "Without deliberate inclusion the most marginalised are least heard, and the equity gap "
        "between groups persists or widens. Deliberate inclusion narrows it."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(("series:equity_gap", ("inclusion",)), ("heard_key", ("inclusion",))),
)
