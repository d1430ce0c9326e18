"""The nine stylized facts of DOMAIN.md and the CaReQIC case, as checks on sweep results.

Each :class:`Fact` names two experiment specs in ``coprod_sim/validation/specs/``:
the one that shows it (replications, confidence intervals) and the sweep that
looks for where it fails. Its ``checks`` turn the first sweep's results into
directional claims with paired 95% intervals; its ``regions`` apply the
central contrast cell by cell across the second sweep's moderators, so the
report can say where the fact holds and where it does not.

Nothing here feeds back into the model: a fact holds or not because of what
the mechanisms produced, and a fact the model does not produce is reported so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from coprod_sim.experiments.analysis import load_runs, load_series
from coprod_sim.experiments.stats import Interval
from coprod_sim.scenario import load_scenario
from coprod_sim.validation.checks import (
    Check,
    Direction,
    bootstrap,
    change,
    directional,
    equivalent,
    level,
    paired,
    per_replication,
    select,
)


class StudyData:
    """Runs and series of each spec's results folder under ``root``, with derived columns.

    ``stigma_key``: providers' mean stigma toward the key populations (every group
    but ``general``); ``heard_key``: their representatives heard at the last meeting, and
    ``heard_key_share`` their share of all representatives heard then.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = cache(self._runs)
        self.series = cache(self._series)

    def _runs(self, name: str) -> pd.DataFrame:
        return _derive(load_runs(self.root / name))

    def _series(self, name: str) -> pd.DataFrame:
        return _derive(load_series(self.root / name))


def _derive(table: pd.DataFrame) -> pd.DataFrame:
    for prefix, how in (("stigma", "mean"), ("heard", "sum")):
        key = [c for c in table.columns if c.startswith(f"{prefix}_") and c != f"{prefix}_general"]
        if key:
            table[f"{prefix}_key"] = getattr(table[key], how)(axis=1)
    if "heard_key" in table and "heard_general" in table:
        heard = table["heard_key"] + table["heard_general"]
        table["heard_key_share"] = (table["heard_key"] / heard).where(heard > 0)
    return table


def key_population_share(preset: str = "careqic") -> float:
    """Key populations' share of the collaborative's patients (every group but general)."""
    sites = load_scenario(preset).sites
    patients = sum(site.count * site.patients for site in sites)
    general = sum(
        site.count * site.patients * site.group_shares.get("general", 0.0) for site in sites
    )
    return 1 - general / patients


Measure = Callable[[pd.DataFrame], Interval]


@dataclass(frozen=True)
class RegionCheck:
    """One contrast applied in every cell of a region sweep's moderators."""

    claim: str
    moderators: tuple[str, ...]
    measure: Measure
    direction: Direction
    final: bool = True  # False: the measure reads the series table
    reference: float = 0.0  # the claim is that the measure lies above or below this


@dataclass(frozen=True)
class Fact:
    number: int | None  # None for the CaReQIC case
    title: str
    statement: str
    spec: str
    checks: Callable[[StudyData], list[Check]]
    region_spec: str | None = None
    regions: tuple[RegionCheck, ...] = ()
    # What the report draws: (spec's final outcome or "series:<outcome>", grouping columns).
    panels: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    @property
    def subject(self) -> str:
        return f"Fact {self.number}" if self.number else "CaReQIC case"


def contrast(outcome: str, a: dict, b: dict) -> Measure:
    """``b - a`` in ``outcome``, paired on the replication."""
    return lambda table: paired(
        per_replication(table, a, outcome), per_replication(table, b, outcome)
    )


# --- 1. tokenism ------------------------------------------------------------------------------
TOKENISM, PARTNERSHIP = {"power_sharing": [3, 4, 5]}, {"power_sharing": [6, 7, 8]}


def tokenism(data: StudyData) -> list[Check]:
    runs, s = data.runs("fact1_tokenism"), "Fact 1"
    rungs = "rungs 6–8 minus rungs 3–5"
    return [
        directional(
            s,
            "partnership adopts more patient-originated changes than tokenism",
            f"patient-originated changes adopted, {rungs}",
            contrast("patient_originated", TOKENISM, PARTNERSHIP)(runs),
            "above",
        ),
        directional(
            s,
            "partnership delivers more of what matters to patients",
            f"value to patients (0–1), {rungs}",
            contrast("value", TOKENISM, PARTNERSHIP)(runs),
            "above",
        ),
    ]


# --- 2. feedback loop ---------------------------------------------------------------------------
CLOSED, IGNORED = {"feedback_loop": 0.9}, {"feedback_loop": 0.0}


def feedback(data: StudyData) -> list[Check]:
    runs, s = data.runs("fact2_feedback"), "Fact 2"
    loop = "feedback loop 0.9 minus 0"
    return [
        directional(
            s,
            "closing the loop builds representatives' trust",
            f"representatives' trust in providers, {loop}",
            contrast("representative_trust", IGNORED, CLOSED)(runs),
            "above",
        ),
        directional(
            s,
            "ignored input makes representatives drop out",
            f"representatives who dropped out, {loop}",
            contrast("reps_dropped", IGNORED, CLOSED)(runs),
            "below",
        ),
    ]


# --- 3. staff assumptions ---------------------------------------------------------------------
COPRODUCED, STAFF_LED = {"scenario": "coproduced"}, {"scenario": "staff_led"}


def staff_assumptions(data: StudyData) -> list[Check]:
    runs, s = data.runs("fact3_staff_assumptions"), "Fact 3"
    return [
        directional(
            s,
            "without patient voice, improvement activity stays high",
            "ideas tested (PDSA cycles), staff-led minus coproduced",
            contrast("ideas_tested", COPRODUCED, STAFF_LED)(runs),
            "above",
        ),
        directional(
            s,
            "…but its value to patients is lower",
            "value to patients (0–1), staff-led minus coproduced",
            contrast("value", COPRODUCED, STAFF_LED)(runs),
            "below",
        ),
    ]


# --- 4. inclusion -------------------------------------------------------------------------------
CONVENIENCE, DELIBERATE = {"inclusion": "convenience"}, {"inclusion": "deliberate"}


def inclusion(data: StudyData) -> list[Check]:
    runs, series, s = data.runs("fact4_inclusion"), data.series("fact4_inclusion"), "Fact 4"
    end = int(series["step"].max())
    share = key_population_share()
    return [
        directional(
            s,
            "under convenience recruitment the key populations are heard far less than their "
            "share of patients",
            "key populations' share of the representatives heard at the last meeting minus "
            f"their share of patients ({share:.2f}), convenience recruitment",
            level(per_replication(runs, CONVENIENCE, "heard_key_share").dropna() - share),
            "below",
        ),
        directional(
            s,
            "without deliberate inclusion the equity gap widens",
            f"change in the equity gap, week 0 to {end}, convenience recruitment",
            level(change(series, CONVENIENCE, "equity_gap", 0, end)),
            "above",
        ),
        directional(
            s,
            "deliberate inclusion hears the key populations more",
            "key-population representatives heard at the last meeting, deliberate minus "
            "convenience",
            contrast("heard_key", CONVENIENCE, DELIBERATE)(runs),
            "above",
        ),
        directional(
            s,
            "deliberate inclusion leaves a smaller equity gap than convenience",
            f"equity gap in week {end}, deliberate minus convenience",
            contrast("equity_gap", CONVENIENCE, DELIBERATE)(runs),
            "below",
        ),
        directional(
            s,
            "deliberate inclusion narrows the gap (below where it started)",
            f"change in the equity gap, week 0 to {end}, deliberate inclusion",
            level(change(series, DELIBERATE, "equity_gap", 0, end)),
            "below",
            note=(
                "Deliberate inclusion stops the gap widening but does not bring it below its "
                "starting level within the horizon: each adopted change raises the quality of "
                "one aspect of care, which adds value for every group in proportion to how "
                "much that aspect matters to it, so the best-served group gains too."
            ),
        ),
    ]


# --- 5. contact -------------------------------------------------------------------------------
HIGH, LOW = {"scenario": "high_status"}, {"scenario": "low_status"}
EASY, HARD = {"cooperation": 0.9, "common_goals": 0.9}, {"cooperation": 0.2, "common_goals": 0.2}


def contact(data: StudyData) -> list[Check]:
    runs, series, s = data.runs("fact5_contact"), data.series("fact5_contact"), "Fact 5"
    end = int(series["step"].max())
    early = max(w for w in series["step"].unique() if w <= end / 3)
    return [
        directional(
            s,
            "equal-status contact reduces provider stigma",
            f"change in stigma toward key populations, week 0 to {end}, high status and "
            "authority support",
            level(change(series, HIGH, "stigma_key", 0, end)),
            "below",
        ),
        directional(
            s,
            "how much depends on status and authority support",
            f"stigma toward key populations in week {end}, high minus low status and support",
            contrast("stigma_key", LOW, HIGH)(runs),
            "below",
        ),
        directional(
            s,
            "how fast depends on cooperation and common goals",
            f"share of the three-year fall in stigma reached by week {early}: cooperation and "
            "common goals 0.9 minus 0.2, high status",
            paired(
                change(series, HIGH | HARD, "stigma_key", 0, early)
                / change(series, HIGH | HARD, "stigma_key", 0, end),
                change(series, HIGH | EASY, "stigma_key", 0, early)
                / change(series, HIGH | EASY, "stigma_key", 0, end),
            ),
            "above",
        ),
        equivalent(
            s,
            "…while cooperation and common goals leave the final level alone",
            f"stigma toward key populations in week {end}: cooperation and goals 0.9 minus "
            "0.2, high status",
            contrast("stigma_key", HIGH | HARD, HIGH | EASY)(runs),
            margin=0.02,
            note=(
                "Common goals scale the contact step μ and cooperation the chance of a contact, "
                "and stigma is still falling at the end of the three years (see the figure): "
                "a faster fall leaves a lower level at any horizon the fall has not finished "
                "by, so within this one speed and level are not separated."
            ),
        ),
    ]


# --- 6. slower but sustained --------------------------------------------------------------------
FIRST_WEEKS = 40


def site_weeks_waiting(series: pd.DataFrame, where: dict, sites: int) -> pd.Series:
    """Per replication, mean weeks (of the first 40) a site waits for its first adopted change."""
    rows = series[(series["step"] >= 1) & (series["step"] <= FIRST_WEEKS)]
    with_change = per_replication_sum(rows, where, "sites_with_changes")
    return FIRST_WEEKS - with_change / sites


SUPPORT_ENDS = load_scenario("careqic").support_weeks  # the week external support ends


def sustained_uptake(series: pd.DataFrame) -> Interval:
    """Change in provider uptake from the end of support to the last week, coproduced minus
    staff-led: how much better coproduced changes hold once support is gone, net of any
    lead they had when it ended."""
    end = int(series["step"].max())
    return paired(
        change(series, STAFF_LED, "provider_uptake", SUPPORT_ENDS, end),
        change(series, COPRODUCED, "provider_uptake", SUPPORT_ENDS, end),
    )


def per_replication_sum(table: pd.DataFrame, where: dict, outcome: str) -> pd.Series:
    return select(table, where).groupby("replication")[outcome].sum()


def n_sites() -> int:
    return load_scenario("careqic").n_sites


def slower_sustained(data: StudyData) -> list[Check]:
    name, s = "fact6_slower_sustained", "Fact 6"
    runs, series, sites = data.runs(name), data.series(name), n_sites()
    end = int(series["step"].max())
    runs = runs.assign(sustained_share=runs["sustained_changes"] / runs["changes_adopted"])
    return [
        directional(
            s,
            "coproduction is slower to a site's first adopted change",
            f"weeks a site waits for its first adopted change (of the first {FIRST_WEEKS}), "
            "coproduced minus staff-led",
            paired(
                site_weeks_waiting(series, STAFF_LED, sites),
                site_weeks_waiting(series, COPRODUCED, sites),
            ),
            "above",
            note=(
                "A coproduced team must agree before it tests an idea, P(agree) = "
                "1 − ω·negotiation·d (§7.6 of the ODD), so how much slower it is depends on "
                "negotiation, which the region sweep varies; staff alone decide at once."
            ),
        ),
        directional(
            s,
            "…but more sustained after support ends",
            f"change in the share of (provider, adopted change) pairs in use, week "
            f"{SUPPORT_ENDS} to {end}, coproduced minus staff-led (teams stop meeting when "
            "support ends)",
            sustained_uptake(series),
            "above",
        ),
        directional(
            s,
            "…and a larger share of its changes is sustained",
            f"share of adopted changes still used in week {end} by at least half as many "
            "providers as at their peak, coproduced minus staff-led",
            contrast("sustained_share", STAFF_LED, COPRODUCED)(runs),
            "above",
        ),
    ]


# --- 7. group size ------------------------------------------------------------------------------
SMALL, LARGE = {"scenario": "team_4"}, {"scenario": "team_14"}


def group_size(data: StudyData) -> list[Check]:
    runs, s = data.runs("fact7_group_size"), "Fact 7"
    return [
        directional(
            s,
            "small groups hear more of their patient voices than large ones",
            "share of attending representatives heard, team of 4 minus team of 14",
            contrast("voice_share", LARGE, SMALL)(runs),
            "above",
        ),
        directional(
            s,
            "…and a middle-sized group hears more than a large one",
            "share of attending representatives heard, team of 6 minus team of 14",
            contrast("voice_share", LARGE, {"scenario": "team_6"})(runs),
            "above",
        ),
    ]


# --- 8. crisis ---------------------------------------------------------------------------------
CALM, TOP_DOWN, COPRODUCED_RECOVERY = (
    {"scenario": "no_crisis"},
    {"scenario": "top_down"},
    {"scenario": "coproduced"},
)


def crisis(data: StudyData) -> list[Check]:
    series, s = data.series("fact8_crisis"), "Fact 8"
    crisis_scenario = load_scenario("crisis")
    before = crisis_scenario.crisis_week - 1
    ended = crisis_scenario.crisis_week + crisis_scenario.crisis_duration
    recovery = ended + 24
    end = int(series["step"].max())

    def at(where: dict, outcome: str, week: int) -> pd.Series:
        return per_replication(series, where | {"step": week}, outcome)

    return [
        directional(
            s,
            "a crisis erodes patients' trust",
            f"patients' trust in week {ended}, top-down crisis minus no crisis",
            paired(at(CALM, "patient_trust", ended), at(TOP_DOWN, "patient_trust", ended)),
            "below",
        ),
        directional(
            s,
            "…and erodes capacity: changes fall out of use",
            f"change in the share of (provider, adopted change) pairs in use, week {before} to "
            f"{ended}, through the crisis",
            level(at(TOP_DOWN, "provider_uptake", ended) - at(TOP_DOWN, "provider_uptake", before)),
            "below",
        ),
        directional(
            s,
            "recovery lags (hysteresis)",
            f"patients' trust in week {end}, {end - ended} weeks after a coproduced recovery "
            "restored the rung, minus no crisis",
            paired(at(CALM, "patient_trust", end), at(COPRODUCED_RECOVERY, "patient_trust", end)),
            "below",
        ),
        directional(
            s,
            "a coproduced recovery restores patients' trust faster",
            f"patients' trust in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(TOP_DOWN, "patient_trust", recovery),
                at(COPRODUCED_RECOVERY, "patient_trust", recovery),
            ),
            "above",
            note=(
                "Trust is slow evidence (beta reputation with forgetting): a recovery changes "
                "it only through the visits and meetings that follow, so six months on the two "
                "recoveries differ little; the region sweep compares them at the end."
            ),
        ),
        directional(
            s,
            "…and representatives' trust faster",
            f"representatives' trust in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(TOP_DOWN, "representative_trust", recovery),
                at(COPRODUCED_RECOVERY, "representative_trust", recovery),
            ),
            "above",
        ),
        directional(
            s,
            "…and rebuilds capacity faster",
            f"changes in use in week {recovery}, coproduced minus top-down recovery",
            paired(
                at(TOP_DOWN, "changes_in_use", recovery),
                at(COPRODUCED_RECOVERY, "changes_in_use", recovery),
            ),
            "above",
            note=(
                "After a coproduced recovery decisions are shared again, and a shared decision "
                "needs agreement before a change is tested, P(agree) = 1 − ω·negotiation·d "
                "(§7.6 of the ODD); after a top-down one managers decide almost at once (rung 3 "
                "gives patient input a weight of 0.05). Who decides does not change how fast "
                "colleagues take a change up."
            ),
        ),
    ]


# --- 9. trust: needed, produced, tipping ----------------------------------------------------------
TAKE_OFF_SHARE = 0.1  # "never takes off": under a tenth of what high trust produces
TIPPING_SLOPE = 3.0  # a tipping point: somewhere the response is 3× steeper than on average


def steepest_rise(table: pd.DataFrame, outcome: str = "patient_originated") -> Interval:
    """The steepest slope of ``outcome`` against initial trust between neighbouring levels, as a
    multiple of the average slope from the lowest level to the highest, with a bootstrap
    interval over replications.

    A straight line gives 1 whatever the grid; a smooth curve a little more; a tipping point,
    where one step of trust switches the loop on, many times the average (a jump within one
    0.05 step of a 0.05–0.7 grid gives 13). Undefined (NaN) when the outcome does not rise.
    """
    table = _coproduced_arm(table)
    wide = table.pivot_table(
        index="replication", columns="initial_trust", values=outcome, aggfunc="mean"
    ).dropna()
    wide = wide.sort_index(axis=1)
    trust = wide.columns.to_numpy(dtype=float)

    def ratio(values: np.ndarray) -> float:
        means = values.mean(axis=0)
        average = (means[-1] - means[0]) / (trust[-1] - trust[0])
        steepest = np.max(np.diff(means) / np.diff(trust))
        return float(steepest / average) if average > 0 else float("nan")

    return bootstrap(wide.to_numpy(), ratio)


def _coproduced_arm(table: pd.DataFrame) -> pd.DataFrame:
    """The coproduced arm of ``fact9_tipping``; the region sweep has only that arm."""
    if "scenario" in table and (table["scenario"] == "coproduced").any():
        return select(table, COPRODUCED)
    return table


def take_off_shortfall(table: pd.DataFrame) -> Interval:
    """Patient-originated changes at the lowest initial trust minus a tenth of those at the
    highest, paired on the replication: below 0, the loop did not take off from low trust."""
    table = _coproduced_arm(table)
    trust = sorted(table["initial_trust"].unique())
    return paired(
        TAKE_OFF_SHARE * per_replication(table, {"initial_trust": trust[-1]}, "patient_originated"),
        per_replication(table, {"initial_trust": trust[0]}, "patient_originated"),
    )


def tipping(data: StudyData) -> list[Check]:
    runs, s = data.runs("fact9_tipping"), "Fact 9"
    trust = sorted(runs["initial_trust"].unique())
    low, high = {"initial_trust": trust[0]}, {"initial_trust": trust[-1]}
    return [
        directional(
            s,
            "trust is needed for coproduction",
            f"patient-originated changes adopted, initial trust {trust[-1]:g} minus "
            f"{trust[0]:g}, coproduced",
            contrast("patient_originated", COPRODUCED | low, COPRODUCED | high)(runs),
            "above",
        ),
        directional(
            s,
            "trust is produced by coproduction",
            "patients' trust at the end, coproduced minus staff-led (all initial trusts)",
            contrast("patient_trust", STAFF_LED, COPRODUCED)(runs),
            "above",
        ),
        directional(
            s,
            "from very low trust the loop never takes off",
            f"patient-originated changes at initial trust {trust[0]:g} minus "
            f"{TAKE_OFF_SHARE:g} × those at {trust[-1]:g}, coproduced",
            take_off_shortfall(runs),
            "below",
            note=(
                "Low trust slows recruitment but does not stop it: an empty seat is offered "
                "again at every meeting, to candidates drawn in proportion to their trust, so "
                "even from a very low mean trust the teams seat partners whose input is heard."
            ),
        ),
        directional(
            s,
            "…and takes off abruptly above some trust (a tipping point)",
            "steepest rise of patient-originated changes with initial trust, as a multiple of "
            f"the average rise from {trust[0]:g} to {trust[-1]:g} (bootstrap interval)",
            steepest_rise(runs),
            "above",
            reference=TIPPING_SLOPE,
            note=(
                "Patient-originated changes rise smoothly with initial trust: recruitment, "
                "willingness to speak and the feedback loop all respond to trust "
                "continuously, with no threshold. Where voice is weak little comes of patient "
                "input at any trust (region sweep)."
            ),
        ),
    ]


# --- the CaReQIC case ---------------------------------------------------------------------------
CAREQIC, UNANSWERED = {"scenario": "careqic"}, {"scenario": "unanswered"}


def unthought_aspects() -> list[str]:
    """Aspects of care staff weight below an even share: what they had not thought of."""
    weights = load_scenario("staff-led").staff_assumptions
    even = sum(weights.values()) / len(weights)
    return [aspect for aspect, weight in weights.items() if weight < even]


def careqic_case(data: StudyData) -> list[Check]:
    runs, series, s = data.runs("careqic_case"), data.series("careqic_case"), "CaReQIC case"
    end = int(series["step"].max())
    aspects = unthought_aspects()
    adopted = runs[[c for c in runs.columns if c.startswith("adopted_")]].sum(axis=1)
    runs = runs.assign(
        unthought_share=runs[[f"adopted_{a}" for a in aspects]].sum(axis=1) / adopted,
        patient_share=runs["patient_originated"]
        / (runs["patient_originated"] + runs["staff_originated"]),
    )
    checks = [
        directional(
            s,
            "patient input is used",
            "share of adopted changes that came from patients, CaReQIC",
            level(per_replication(runs, CAREQIC, "patient_share")),
            "above",
        ),
        directional(
            s,
            "patient input is valued",
            "representatives' trust in providers at the end, CaReQIC minus the same "
            "collaborative with their input never reported back",
            contrast("representative_trust", UNANSWERED, CAREQIC)(runs),
            "above",
        ),
        directional(
            s,
            "…and care is worth more to patients",
            "value of care to patients (0–1), CaReQIC minus staff-led",
            contrast("value", STAFF_LED, CAREQIC)(runs),
            "above",
        ),
        directional(
            s,
            "changes staff had not thought of",
            f"share of adopted changes in aspects staff rate low ({', '.join(aspects)}), "
            "CaReQIC minus staff-led",
            contrast("unthought_share", STAFF_LED, CAREQIC)(runs),
            "above",
        ),
    ]
    # Each trajectory the evaluation reports: it moves the right way under CaReQIC, and
    # further than in the staff-led collaborative.
    for outcome, words, direction, growing, further in (
        # Staff-led teams have no patient partners to meet, so its stigma has nothing to move
        # it: a comparison would repeat the change within CaReQIC.
        ("stigma_key", "providers' stigma toward key populations", "below", "stigma falling",
         None),
        ("provider_regard", "providers' regard for patients", "above", "empathy growing",
         "…empathy grows more than without patient partners"),
        ("patient_trust", "patients' trust in providers", "above", "trust growing",
         "…trust grows more than without patient partners"),
    ):  # fmt: skip
        checks.append(
            directional(
                s,
                growing,
                f"change in {words}, week 0 to {end}, CaReQIC",
                level(change(series, CAREQIC, outcome, 0, end)),
                direction,
            )
        )
        if further:
            checks.append(
                directional(
                    s,
                    further,
                    f"{words} in week {end}, CaReQIC minus staff-led",
                    contrast(outcome, STAFF_LED, CAREQIC)(runs),
                    direction,
                )
            )
    return checks


# --- the catalogue ------------------------------------------------------------------------------
def _stigma_change(table: pd.DataFrame) -> Interval:
    end = int(table["step"].max())
    return level(change(table, {}, "stigma_key", 0, end))


FACTS: tuple[Fact, ...] = (
    Fact(
        1,
        "Tokenism produces little real change",
        "Tokenism (rungs 3–5) produces little real change compared with partnership and above. "
        "Fewer patient-originated changes are adopted, and less of what matters is delivered.",
        "fact1_tokenism",
        tokenism,
        "fact1_tokenism_region",
        (
            RegionCheck(
                "patient-originated changes adopted, rung 7 minus rung 4",
                ("voice_base",),
                contrast("patient_originated", {"power_sharing": 4}, {"power_sharing": 7}),
                "above",
            ),
            RegionCheck(
                "value to patients, rung 7 minus rung 4",
                ("voice_base",),
                contrast("value", {"power_sharing": 4}, {"power_sharing": 7}),
                "above",
            ),
        ),
        (("patient_originated", ("power_sharing",)), ("value", ("power_sharing",))),
    ),
    Fact(
        2,
        "Closing the feedback loop keeps representatives",
        "Closing the feedback loop builds trust and keeps representatives engaged. Ignored "
        "input erodes trust, and representatives drop out.",
        "fact2_feedback",
        feedback,
        "fact2_feedback_region",
        (
            RegionCheck(
                "representatives' trust, feedback loop 0.9 minus 0",
                ("voice_base",),
                contrast("representative_trust", IGNORED, CLOSED),
                "above",
            ),
            RegionCheck(
                "representatives who dropped out, feedback loop 0.9 minus 0",
                ("voice_base",),
                contrast("reps_dropped", IGNORED, CLOSED),
                "below",
            ),
        ),
        (("representative_trust", ("feedback_loop",)), ("reps_dropped", ("feedback_loop",))),
    ),
    Fact(
        3,
        "Without patient voice, staff improve what they assume matters",
        "Without patient voice, staff improve what they assume matters. Activity is high but "
        "value to patients is low.",
        "fact3_staff_assumptions",
        staff_assumptions,
        "fact3_staff_assumptions_region",
        (
            RegionCheck(
                "value to patients, staff-led minus coproduced",
                ("staff_assumptions.waiting_time", "staff_assumptions.clinical_follow_up"),
                contrast("value", COPRODUCED, STAFF_LED),
                "below",
            ),
        ),
        (("ideas_tested", ("scenario",)), ("value", ("scenario",))),
    ),
    Fact(
        4,
        "Without deliberate inclusion the most marginalised are least heard",
        "Without deliberate inclusion the most marginalised are least heard, and the equity gap "
        "between groups persists or widens. Deliberate inclusion narrows it.",
        "fact4_inclusion",
        inclusion,
        "fact4_inclusion_region",
        (
            RegionCheck(
                "equity gap at the end, deliberate minus convenience",
                ("representative_seats",),
                contrast("equity_gap", CONVENIENCE, DELIBERATE),
                "below",
            ),
            RegionCheck(
                "key-population representatives heard, deliberate minus convenience",
                ("representative_seats",),
                contrast("heard_key", CONVENIENCE, DELIBERATE),
                "above",
            ),
        ),
        (("series:equity_gap", ("inclusion",)), ("heard_key", ("inclusion",))),
    ),
    Fact(
        5,
        "Equal-status contact reduces provider stigma",
        "Equal-status contact reduces provider stigma: how much depends on status and authority "
        "support, how fast on cooperation and common goals.",
        "fact5_contact",
        contact,
        "fact5_contact_region",
        (
            RegionCheck(
                "change in stigma toward key populations over three years",
                ("power_sharing", "authority_support"),
                _stigma_change,
                "below",
                final=False,
            ),
        ),
        (("series:stigma_key", ("scenario", "cooperation", "common_goals")),),
    ),
    Fact(
        6,
        "Coproduction is slower to start but more sustained",
        "Coproduction is slower to the first adopted change but more sustained after external "
        "support ends.",
        "fact6_slower_sustained",
        slower_sustained,
        "fact6_slower_sustained_region",
        (
            RegionCheck(
                "weeks a site waits for its first change, coproduced minus staff-led",
                ("negotiation",),
                lambda t: paired(
                    site_weeks_waiting(t, STAFF_LED, n_sites()),
                    site_weeks_waiting(t, COPRODUCED, n_sites()),
                ),
                "above",
                final=False,
            ),
            RegionCheck(
                "change in the share of (provider, adopted change) pairs in use after support "
                "ends, coproduced minus staff-led",
                ("negotiation",),
                sustained_uptake,
                "above",
                final=False,
            ),
        ),
        (
            ("series:sites_with_changes", ("scenario",)),
            ("series:provider_uptake", ("scenario",)),
        ),
    ),
    Fact(
        7,
        "Small coproduction groups hear more voices",
        "Small coproduction groups hear more voices than large ones.",
        "fact7_group_size",
        group_size,
        "fact7_group_size_region",
        (
            RegionCheck(
                "share of representatives heard, team of 4 minus team of 14",
                ("speaking_turns",),
                contrast("voice_share", LARGE, SMALL),
                "above",
            ),
        ),
        (("voice_share", ("scenario",)), ("reps_heard", ("scenario",))),
    ),
    Fact(
        8,
        "A crisis erodes trust; recovery lags; coproduced recovery is faster",
        "A crisis switch to command-and-control erodes trust and capacity, and recovery lags "
        "(hysteresis). A coproduced recovery is faster than a top-down one.",
        "fact8_crisis",
        crisis,
        "fact8_crisis_region",
        (
            RegionCheck(
                "patients' trust at the end, coproduced recovery minus no crisis (hysteresis)",
                ("crisis_duration",),
                contrast("patient_trust", CALM, COPRODUCED_RECOVERY),
                "below",
            ),
            RegionCheck(
                "patients' trust at the end, coproduced minus top-down recovery",
                ("crisis_duration",),
                contrast("patient_trust", TOP_DOWN, COPRODUCED_RECOVERY),
                "above",
            ),
        ),
        (("series:patient_trust", ("scenario",)), ("series:provider_uptake", ("scenario",))),
    ),
    Fact(
        9,
        "Trust is needed for coproduction and produced by it",
        "Trust is needed for coproduction and produced by it. From very low initial trust the "
        "loop may never take off, a tipping point.",
        "fact9_tipping",
        tipping,
        "fact9_tipping_region",
        (
            RegionCheck(
                "patient-originated changes at the lowest initial trust minus a tenth of those "
                "at the highest (below 0: the loop does not take off)",
                ("voice_base",),
                take_off_shortfall,
                "below",
            ),
            RegionCheck(
                "steepest rise of patient-originated changes with initial trust, as a multiple "
                "of the average rise (above 3: a tipping point)",
                ("voice_base",),
                steepest_rise,
                "above",
                reference=TIPPING_SLOPE,
            ),
        ),
        (
            ("patient_originated", ("initial_trust", "scenario")),
            ("patient_trust", ("initial_trust", "scenario")),
        ),
    ),
    Fact(
        None,
        "The CaReQIC case against a staff-led collaborative",
        "The evaluation of CaReQIC reports patient input used and valued, stigma falling, "
        "empathy and trust growing, and changes staff had not thought of.",
        "careqic_case",
        careqic_case,
        panels=(
            ("series:stigma_key", ("scenario",)),
            ("series:provider_regard", ("scenario",)),
            ("series:patient_trust", ("scenario",)),
            ("patient_originated", ("scenario",)),
        ),
    ),
)
