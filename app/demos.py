"""Guided demonstrations for a class: a prepared pair of designs and a narration.

Each demonstration runs two variants of the CaReQIC collaborative that differ
in one respect, with common random numbers over a few replications, and
narrates what changed and why. The narration is computed from the runs (every
number in it is measured, and whether a difference is called clear depends on
its paired 95% interval); only the explanation of the mechanism is prepared
text, and even that quotes the scenario's own parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app import charts
from app.pairs import PairResult
from coprod_sim import Scenario, load_scenario
from coprod_sim.experiments import mean_interval, paired_difference
from coprod_sim.mechanisms import contact
from coprod_sim.mechanisms.power import rung_name, status_equality


@dataclass(frozen=True)
class Demo:
    """A prepared pair of designs and how to tell its story."""

    key: str
    title: str
    question: str
    names: tuple[str, str]
    overrides: tuple[dict, dict]
    mechanism: str  # where to look in the code
    narrate: Callable[[PairResult], list[str]]
    charts: Callable[[PairResult], list[charts.Spec]]
    base: str = "careqic"

    def scenarios(self) -> tuple[Scenario, Scenario]:
        base = load_scenario(self.base)
        return (
            base.with_overrides({"name": f"{self.key}-a", **self.overrides[0]}),
            base.with_overrides({"name": f"{self.key}-b", **self.overrides[1]}),
        )


def _end(values: np.ndarray) -> np.ndarray:
    """Per replication, the last week's value."""
    return values[:, -1]


def _clear(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, bool]:
    """Mean difference b − a with its paired 95% interval, and whether 0 lies outside it."""
    diff = paired_difference(a, b)
    mean, low, high = float(diff.mean), float(diff.low), float(diff.high)
    return mean, low, high, diff.side().clear


def _moved(change: float) -> str:
    """'fell by 0.071' / 'rose by 0.012' / 'stayed level'."""
    if abs(change) < 0.0005:
        return "stayed level"
    return f"{'fell' if change < 0 else 'rose'} by {abs(change):.3f}"


def _sure(clear: bool, low: float, high: float, digits: int = 3) -> str:
    interval = f"95% interval {low:+.{digits}f} to {high:+.{digits}f}"
    return (
        f"a clear difference, {interval}"
        if clear
        else f"no clear difference in these runs, {interval}, which includes 0"
    )


def _band_chart(result: PairResult, column: str, title: str, y_title: str) -> charts.Spec:
    designs = {}
    for d, name in enumerate(result.names):
        band = mean_interval(result.column(column, d))
        designs[name] = (band.mean, band.low, band.high)
    return charts.designs_band(result.weeks, designs, title=title, y_title=y_title)


# --- 1. When patient input is ignored -------------------------------------------------------
def narrate_ignored(result: PairResult) -> list[str]:
    """Input reported back against input ignored: trust, drop-outs, ideas, and why."""
    trust = [_end(result.column("representative_trust", d)) for d in (0, 1)]
    dropped = [_end(result.column("reps_dropped", d)) for d in (0, 1)]
    ideas = [_end(result.column("patient_originated", d)) for d in (0, 1)]
    mean, low, high, clear = _clear(trust[0], trust[1])
    _, drop_low, drop_high, drop_clear = _clear(dropped[0], dropped[1])
    idea_mean, idea_low, idea_high, idea_clear = _clear(ideas[0], ideas[1])
    s = result.scenarios[1]
    lines = [
        f"Representatives' trust in providers ended at {trust[0].mean():.2f} where their "
        f"input was reported back and at {trust[1].mean():.2f} where it was ignored: "
        f"{_sure(clear, low, high, 2)}.",
        f"{dropped[1].mean():.0f} representatives gave up their seats over "
        f"{int(result.weeks[-1])} weeks when ignored, against {dropped[0].mean():.0f} when "
        f"heard back ({_sure(drop_clear, drop_low, drop_high, 1)}).",
        f"Patient-originated changes adopted: {ideas[0].mean():.0f} with the loop closed, "
        f"{ideas[1].mean():.0f} with input ignored "
        f"({_sure(idea_clear, idea_low, idea_high, 1)}).",
        "Why: each time a representative speaks and hears nothing back, the feedback "
        "mechanism (coprod_sim/mechanisms/feedback.py) counts it as a bad experience for "
        "their trust, and in the trust mechanism (beta reputation, trust.py) one bad "
        f"experience weighs as much as {s.negativity_bias:g} good ones. A representative "
        "whose trust runs out leaves the team (improvement/process.py, phase 7); the seat is "
        "offered to another patient, who starts again with their own trust.",
    ]
    if idea_clear and idea_mean < 0:
        lines.append(
            "With less trust fewer representatives speak up (voice.py), so fewer of patients' "
            "ideas reach testing."
        )
    elif not idea_clear:
        # Counted per meeting week: how often any representative was heard over the run.
        heard = [result.column("reps_heard", d).sum(axis=1).mean() for d in (0, 1)]
        lines.append(
            f"Representatives were heard {heard[0]:.0f} times in meetings with the loop "
            f"closed and {heard[1]:.0f} times with input ignored: emptied seats are refilled, "
            "so in these runs the loss shows in trust and turnover more than in the number "
            "of patients' ideas tested."
        )
    if mean > 0:
        lines.append(
            "In these runs ignoring input did not lower representatives' trust: the effect "
            "is weaker than the noise here; try more replications or another seed."
        )
    return lines


def charts_ignored(result: PairResult) -> list[charts.Spec]:
    """Representatives' trust and drop-outs, both designs with their bands."""
    return [
        _band_chart(result, "representative_trust", "Representatives' trust", "trust (0–1)"),
        _band_chart(result, "reps_dropped", "Representatives who left", "seats given up"),
    ]


# --- 2. Equal-status contact and stigma --------------------------------------------------------
def _strength(s: Scenario) -> float:
    """How strong a good contact is under the scenario's Allport conditions (contact.py)."""
    return float(
        contact.condition_strength(
            status_equality(s.power_sharing), s.authority_support, s.cooperation,
            s.common_goals, s.contact_without_conditions,
        )
    )  # fmt: skip


def narrate_contact(result: PairResult) -> list[str]:
    """Stigma toward each key population under both designs, and why (Allport)."""
    low_name, high_name = result.names
    a, b = result.scenarios
    lines = []
    fell_more = []  # per key population: did stigma clearly fall more under the second design?
    key_groups = [g for g in b.groups if g.name in b.key_populations]
    for g in sorted(key_groups, key=lambda g: g.name != "sex_workers"):
        col = f"stigma_{g.name}"
        change = [result.column(col, d)[:, -1] - result.column(col, d)[:, 0] for d in (0, 1)]
        mean, low, high, clear = _clear(change[0], change[1])
        fell_more.append(clear and mean < 0)
        lines.append(
            f"Provider stigma toward {g.label.lower()} {_moved(change[1].mean())} with "
            f"{high_name} and {_moved(change[0].mean())} with {low_name} "
            f"({_sure(clear, low, high)})."
        )
    lines.append(
        "Why: in the contact mechanism (coprod_sim/mechanisms/contact.py, after Allport "
        "1954 and Pettigrew & Tropp 2006) a good contact with a representative pulls a "
        "provider's stigma toward 0, and Allport's four conditions (equal status, managers' "
        "support, cooperation, common goals) make it stronger. Here a good contact has "
        f"{_strength(a):.2f} of its full strength at rung {a.power_sharing} "
        f"({rung_name(a.power_sharing)}) with managers' support {a.authority_support:.1f}, "
        f"and {_strength(b):.2f} at rung {b.power_sharing} ({rung_name(b.power_sharing)}) "
        f"with support {b.authority_support:.1f}; providers start with mean stigma "
        f"{b.initial_stigma:.2f} times each group's factor. "
        "Contacts that go badly push stigma up, more strongly than good ones pull it down "
        "(Barlow et al. 2012), and psychological safety (voice.py) decides how many go well."
    )
    if not all(fell_more):
        lines.append(
            f"In these runs stigma did not clearly fall further with {high_name} toward every "
            "key population: where the interval includes 0 the effect is weaker than the "
            "noise here; try more replications or another seed."
        )
    return lines


def charts_contact(result: PairResult) -> list[charts.Spec]:
    """Stigma toward sex workers and transgender people, both designs."""
    return [
        _band_chart(
            result, "stigma_sex_workers", "Provider stigma toward sex workers", "stigma (0–1)"
        ),
        _band_chart(
            result, "stigma_transgender", "Provider stigma toward transgender people", "stigma"
        ),
    ]


# --- 3. Who gets heard without deliberate inclusion ------------------------------------------
def _key_share(result: PairResult, design: int, column: str) -> np.ndarray:
    """Per replication, the key populations' share of ``column`` summed over all weeks."""
    shares = []
    for frame in result.groups[design]:
        total = frame[column].sum()
        key = frame.loc[frame["key_population"], column].sum()
        shares.append(key / total if total else np.nan)
    return np.array(shares)


def _heard_by_group(result: PairResult, design: int) -> dict[str, float]:
    """Mean over replications of how often each group's representatives were heard."""
    totals = [f.groupby("label", sort=False)["reps_heard"].sum() for f in result.groups[design]]
    return {label: float(np.mean([t[label] for t in totals])) for label in totals[0].index}


def narrate_inclusion(result: PairResult) -> list[str]:
    """Whose seats, whose voices and the equity gap under both recruitments, and why."""
    deliberate, convenience = result.names
    seats = [_key_share(result, d, "representatives") for d in (0, 1)]
    heard = [_heard_by_group(result, d) for d in (0, 1)]
    gap = [_end(result.column("equity_gap", d)) for d in (0, 1)]
    gap_widening, low, high, clear = _clear(gap[0], gap[1])
    b = result.scenarios[1]
    reach = ", ".join(f"{g.label} {g.reachability:g}" for g in b.groups)

    def heard_text(h: dict[str, float]) -> str:
        return ", ".join(f"{label} {n:.0f}" for label, n in h.items())

    lines = [
        f"With {deliberate}, key populations held {np.nanmean(seats[0]):.0%} of "
        f"representatives' seats over the run; with {convenience}, "
        f"{np.nanmean(seats[1]):.0%}.",
        f"Times each group's representatives were heard in meetings, {deliberate}: "
        f"{heard_text(heard[0])}.",
        f"With {convenience}: {heard_text(heard[1])}.",
        f"The equity gap (value of care to the best-served group minus the worst-served) "
        f"ended at {gap[0].mean():.3f} with {deliberate} and {gap[1].mean():.3f} with "
        f"{convenience}: {_sure(clear, low, high)}.",
        "Why: in the inclusion mechanism (coprod_sim/mechanisms/inclusion.py), convenience "
        "recruitment invites patients with probability proportional to how easily staff "
        f"reach them times their trust; reachability here is {reach}. Deliberate inclusion "
        "gives empty seats to unrepresented key populations first. Only those seated can be "
        "heard (voice.py), and the team's picture of what matters is built from what it "
        "hears (priorities.py), so the changes chosen serve the groups in the room.",
    ]
    if not (clear and gap_widening > 0):
        lines.append(
            f"In these runs the equity gap was not clearly wider with {convenience}: who holds "
            "the seats differs, but its effect on the gap is weaker than the noise here; try "
            "more replications or another seed."
        )
    return lines


def _key_seat_share(result: PairResult, design: int) -> np.ndarray:
    """(replications, weeks): the key populations' share of the seats held each week."""
    rows = []
    for frame in result.groups[design]:
        seated = frame.pivot_table(
            index="step", columns="key_population", values="representatives", aggfunc="sum"
        ).reindex(columns=[False, True], fill_value=0)
        total = seated.sum(axis=1).to_numpy(dtype=float)
        rows.append(
            np.divide(
                seated[True].to_numpy(dtype=float),
                total,
                where=total > 0,
                out=np.full(total.shape, np.nan),
            )
        )
    return np.stack(rows)


def charts_inclusion(result: PairResult) -> list[charts.Spec]:
    """The equity gap and the key populations' share of the seats, both designs."""
    shares = {}
    for d, name in enumerate(result.names):
        band = mean_interval(_key_seat_share(result, d))
        shares[name] = (band.mean, band.low, band.high)
    return [
        _band_chart(result, "equity_gap", "Equity gap between groups", "best − worst value"),
        charts.designs_band(
            result.weeks,
            shares,
            title="Key populations' share of the seats",
            y_title="share of seats held",
        ),
    ]


DEMOS: tuple[Demo, ...] = (
    Demo(
        key="ignored",
        title="When patient input is ignored",
        question="What happens to representatives when the team never reports back on "
        "what they said?",
        names=("input reported back", "input ignored"),
        overrides=({}, {"feedback_loop": 0.0, "acknowledgement": 0.0}),
        mechanism="feedback.py, trust.py, improvement/process.py (phase 7)",
        narrate=narrate_ignored,
        charts=charts_ignored,
    ),
    Demo(
        key="contact",
        title="Equal-status contact and stigma",
        question="Does working alongside key populations as equals reduce providers' "
        "stigma, and does it need equal status and managers' backing?",
        names=("consultation and little backing", "shared power backed by managers"),
        overrides=(
            {"power_sharing": 4, "authority_support": 0.3},
            {"power_sharing": 7, "authority_support": 0.9},
        ),
        mechanism="contact.py, power.py, voice.py",
        narrate=narrate_contact,
        charts=charts_contact,
    ),
    Demo(
        key="inclusion",
        title="Who gets heard without deliberate inclusion",
        question="If staff recruit whoever is easiest to reach, whose voices reach the "
        "improvement team?",
        names=("deliberate inclusion", "convenience recruitment"),
        overrides=({"inclusion": "deliberate"}, {"inclusion": "convenience"}),
        mechanism="inclusion.py, voice.py, priorities.py",
        narrate=narrate_inclusion,
        charts=charts_inclusion,
    ),
)
DEMO_BY_KEY = {d.key: d for d in DEMOS}
