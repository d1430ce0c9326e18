"""Fact 4: without deliberate inclusion the most marginalised are least heard.

The arms are the spec's ``inclusion`` levels ``convenience`` and ``deliberate``; the key
populations and their share of patients are the base scenario's
(:attr:`~coprod_sim.scenario.Scenario.key_populations`, its sites' group shares).
"""

from __future__ import annotations

from coprod_sim.validation.checks import Check, change, claim, level, per_replication
from coprod_sim.validation.facts.common import (
    Fact,
    RegionCheck,
    StudyData,
    contrast,
    key_population_share,
    mechanism_checks,
)

SPEC, REGION_SPEC = "fact4_inclusion", "fact4_inclusion_region"


MECHANISM_RULES = {
    "heard_below_share": (
        "inclusion: convenience recruitment draws candidates in proportion to reachability"
    ),
    "heard_more": (
        "inclusion: deliberate recruitment offers seats to unrepresented key populations first"
    ),
}


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs = data.runs(SPEC, "heard_key_share", "heard_key", "equity_gap")
    series, s = data.series(SPEC, "equity_gap", weeks=[0]), "Fact 4"
    run = data.spec(SPEC)
    convenience = run.level("inclusion", "convenience")
    deliberate = run.level("inclusion", "deliberate")
    end = int(series["step"].max())
    share = run.value("sites", read=key_population_share)
    checks = {
        "heard_below_share": claim(
            s,
            "under convenience recruitment the key populations are heard far less than their "
            "share of patients",
            "key populations' share of the representatives heard at the last meeting minus "
            f"their share of patients ({share:.2f}), convenience recruitment",
            level(per_replication(runs, convenience, "heard_key_share").dropna() - share),
            "below",
            margin("heard_below_share"),
        ),
        "gap_widens": claim(
            s,
            "without deliberate inclusion the equity gap widens",
            f"change in the equity gap, week 0 to {end}, convenience recruitment",
            level(change(series, convenience, "equity_gap", 0, end)),
            "above",
            margin("gap_widens"),
        ),
        "heard_more": claim(
            s,
            "deliberate inclusion hears the key populations more",
            "key-population representatives heard at the last meeting, deliberate minus "
            "convenience",
            contrast("heard_key", convenience, deliberate)(runs),
            "above",
            margin("heard_more"),
        ),
        "gap_smaller": claim(
            s,
            "deliberate inclusion leaves a smaller equity gap than convenience",
            f"equity gap in week {end}, deliberate minus convenience",
            contrast("equity_gap", convenience, deliberate)(runs),
            "below",
            margin("gap_smaller"),
        ),
        "gap_narrows": claim(
            s,
            "deliberate inclusion narrows the gap (below where it started)",
            f"change in the equity gap, week 0 to {end}, deliberate inclusion",
            level(change(series, deliberate, "equity_gap", 0, end)),
            "below",
            margin("gap_narrows"),
            note=(
                "Deliberate inclusion stops the gap widening but does not bring it below its "
                "starting level within the horizon: each adopted change raises the quality of "
                "one aspect of care, which adds value for every group in proportion to how "
                "much that aspect matters to it, so the best-served group gains too."
            ),
        ),
    }
    return mechanism_checks(checks, MECHANISM_RULES)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    convenience = run.level("inclusion", "convenience")
    deliberate = run.level("inclusion", "deliberate")
    return {
        "gap_smaller": RegionCheck(
            "equity gap at the end, deliberate minus convenience",
            ("representative_seats",),
            contrast("equity_gap", convenience, deliberate),
            "below",
            margin=margin("gap_smaller")[0],
            outcomes=("equity_gap",),
        ),
        "heard_more": RegionCheck(
            "key-population representatives heard, deliberate minus convenience",
            ("representative_seats",),
            contrast("heard_key", convenience, deliberate),
            "above",
            margin=margin("heard_more")[0],
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
