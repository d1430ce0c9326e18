"""Fact 6: coproduction is slower to the first adopted change but more sustained after
external support ends.

The arms are the spec's scenarios labelled ``coproduced`` and ``staff_led``; the end of
support is theirs (``support_weeks``), and a site's wait is counted over their sites.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from coprod_sim.experiments.stats import Interval
from coprod_sim.validation.checks import Check, change, claim, paired, select
from coprod_sim.validation.facts.common import (
    COPRODUCED,
    STAFF_LED,
    Fact,
    Measure,
    RegionCheck,
    SpecRun,
    StudyData,
    contrast,
    mechanism_checks,
)

SPEC, REGION_SPEC = "fact6_slower_sustained", "fact6_slower_sustained_region"
FIRST_WEEKS = 40  # a site's wait for its first change is counted over the first 40 weeks
WAIT_WEEKS = tuple(range(1, FIRST_WEEKS + 1))  # each of them must be in the series


def site_weeks_waiting(series: pd.DataFrame, where: Mapping[str, Any], sites: int) -> pd.Series:
    """Per replication, mean weeks (of the first 40) a site waits for its first adopted change."""
    rows = series[(series["step"] >= 1) & (series["step"] <= FIRST_WEEKS)]
    with_change = select(rows, where).groupby("replication")["sites_with_changes"].sum()
    return FIRST_WEEKS - with_change / sites


def waiting(run: SpecRun) -> Measure:
    """Weeks a site waits for its first adopted change, coproduced minus staff-led."""
    staff_led, coproduced = run.arm(STAFF_LED), run.arm(COPRODUCED)
    staff_sites = run.value("n_sites", [STAFF_LED])
    coproduced_sites = run.value("n_sites", [COPRODUCED])
    return lambda series: paired(
        site_weeks_waiting(series, staff_led, staff_sites),
        site_weeks_waiting(series, coproduced, coproduced_sites),
    )


def support_ends(run: SpecRun) -> int:
    """The week external support ends, which both arms must share."""
    return run.value("support_weeks", [COPRODUCED, STAFF_LED])


def sustained_uptake(run: SpecRun) -> Measure:
    """Change in provider uptake from the end of support to the last week, coproduced minus
    staff-led: how much better coproduced changes hold once support is gone, net of any
    lead they had when it ended."""
    staff_led, coproduced, ends = run.arm(STAFF_LED), run.arm(COPRODUCED), support_ends(run)

    def measure(series: pd.DataFrame) -> Interval:
        end = int(series["step"].max())
        return paired(
            change(series, staff_led, "provider_uptake", ends, end),
            change(series, coproduced, "provider_uptake", ends, end),
        )

    return measure


MECHANISM_RULES = {
    "sustained_uptake": (
        "sustainment: patient demand for a change's aspect lowers its abandonment hazard"
    ),
    "sustained_share": (
        "sustainment: patient demand for a change's aspect lowers its abandonment hazard"
    ),
}


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    run, s = data.spec(SPEC), "Fact 6"
    ends = support_ends(run)
    runs = data.runs(SPEC, "sustained_changes", "changes_adopted")
    series = data.series(SPEC, "sites_with_changes", "provider_uptake", weeks=(*WAIT_WEEKS, ends))
    end = int(series["step"].max())
    runs = runs.assign(sustained_share=runs["sustained_changes"] / runs["changes_adopted"])
    checks = {
        "slower": claim(
            s,
            "coproduction is slower to a site's first adopted change",
            f"weeks a site waits for its first adopted change (of the first {FIRST_WEEKS}), "
            "coproduced minus staff-led",
            waiting(run)(series),
            "above",
            margin("slower"),
            note=(
                "A coproduced team must agree before it tests an idea, P(agree) = "
                "1 − ω·negotiation·d (§7.6 of the ODD), so how much slower it is depends on "
                "negotiation, which the region sweep varies; staff alone decide at once."
            ),
        ),
        "sustained_uptake": claim(
            s,
            "…but more sustained after support ends",
            f"change in the share of (provider, adopted change) pairs in use, week "
            f"{ends} to {end}, coproduced minus staff-led (teams stop meeting when "
            "support ends)",
            sustained_uptake(run)(series),
            "above",
            margin("sustained_uptake"),
        ),
        "sustained_share": claim(
            s,
            "…and a larger share of its changes is sustained",
            f"share of adopted changes still used in week {end} by at least half as many "
            "providers as at their peak, coproduced minus staff-led",
            contrast("sustained_share", run.arm(STAFF_LED), run.arm(COPRODUCED))(runs),
            "above",
            margin("sustained_share"),
        ),
    }
    return mechanism_checks(checks, MECHANISM_RULES)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    return {
        "slower": RegionCheck(
            "weeks a site waits for its first change, coproduced minus staff-led",
            ("negotiation",),
            waiting(run),
            "above",
            margin=margin("slower")[0],
            final=False,
            outcomes=("sites_with_changes",),
            weeks=WAIT_WEEKS,
        ),
        "sustained_uptake": RegionCheck(
            "change in the share of (provider, adopted change) pairs in use after support "
            "ends, coproduced minus staff-led",
            ("negotiation",),
            sustained_uptake(run),
            "above",
            margin=margin("sustained_uptake")[0],
            final=False,
            outcomes=("provider_uptake",),
            weeks=(support_ends(run),),
        ),
    }


FACT = Fact(
    id="fact6",
    number=6,
    title="Coproduction is slower to start but more sustained",
    statement=(
        "Coproduction is slower to the first adopted change but more sustained after external "
        "support ends."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(
        ("series:sites_with_changes", ("scenario",)),
        ("series:provider_uptake", ("scenario",)),
    ),
)
