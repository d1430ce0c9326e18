"""Lessons for a class: the nine stylized facts and the CaReQIC story, as predict, run, explain.

Each lesson runs the two designs the validation study contrasts for its fact
(``coprod_sim/validation/specs``), with common random numbers: replication ``r`` of both
designs starts from ``replication_seed(root_seed, r)``, as :func:`app.pairs.run_pair` does,
and the lesson's root seed is fixed, so a lesson gives the same runs to every class.

Its *primary* measure decides when to stop (:class:`Rule`): a first batch of paired
replications, then a batch more while the paired 95% interval neither lies clear of 0 nor
within the minimum important difference, up to a cap. Which of the lesson's prediction
choices the runs support, and whether the fact's effect appears, follow from that interval
(:func:`direction`); nothing here says what the runs ought to show. The narration quotes
the runs' numbers in plain units (out of 10, per 1,000, per 100), says which design is
compared with which, and points at the highlighted chart; only the account of how the
model works is prepared text, and it quotes the scenarios' own parameters.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from app import charts
from app.info import PAGES, Info
from app.pairs import PairResult
from coprod_sim import CoproductionModel, Scenario, load_scenario, provenance
from coprod_sim.experiments import Side, mean_interval, paired_difference, replication_seed, side
from coprod_sim.experiments.decision import MINIMUM_IMPORTANT
from coprod_sim.experiments.stats import NO_IMPORTANT, decision_verdict
from coprod_sim.mechanisms import contact
from coprod_sim.mechanisms.power import patient_input_weight, rung_name, status_equality
from coprod_sim.validation.facts.careqic_case import unthought_aspects
from coprod_sim.validation.facts.common import key_population_share
from coprod_sim.validation.facts.fact6_slower_sustained import FIRST_WEEKS
from coprod_sim.validation.facts.fact8_crisis import RECOVERY_WEEKS

#: Which way design B differs from design A, as the paired interval says.
UP, DOWN, SAME, UNCLEAR = "up", "down", "same", "unclear"
MINUS = "\u2212"  # a real minus sign, as in "−3 to +5 per 1,000"
#: The most replications "More replications" will take a lesson to.
MAX_REPLICATIONS = 100

Progress = Callable[[int, int], None]  # (replications done, replications planned)
Label = str | Callable[[PairResult], str]


# ---------------------------------------------------------------------------------------------
# Plain units
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """How a raw value is shown: 0–1 scales ×10 "out of 10", shares per 1,000 or per 100."""

    scale: float
    digits: int
    up: str  # "more", "higher", "longer"
    down: str  # "fewer", "lower", "shorter"
    short: str  # what follows a number: "out of 10", "per 1,000"
    #: The largest difference two values can have (1 for a value between 0 and 1): a t
    #: interval can reach past it, which no pair of runs can.
    limit: float | None = None


COUNT = Unit(1, 0, "more", "fewer", "")
OUT_OF_10 = Unit(10, 1, "higher", "lower", "out of 10", 1.0)
PER_1000 = Unit(1000, 0, "more", "fewer", "per 1,000", 1.0)
PER_100 = Unit(100, 0, "more", "fewer", "per 100", 1.0)
WEEKS = Unit(1, 1, "longer", "shorter", "weeks")
#: A change within one design rises or falls.
RISE = ("rose", "fell")


def shown_digits(unit: Unit, values: Sequence[float]) -> int:
    """The unit's digits, or up to two more where a value that is not 0 would show as 0."""
    digits = unit.digits
    shown = [abs(v) * unit.scale for v in values if np.isfinite(v) and v != 0]
    while digits < unit.digits + 2 and any(round(x, digits) == 0 for x in shown):
        digits += 1
    return digits


def number(value: float, unit: Unit, digits: int | None = None, signed: bool = False) -> str:
    """``value`` in the unit's scale: "6.5", "1,234", "+12", "−3" (a real minus sign)."""
    if not np.isfinite(value):
        return "unknown"
    digits = unit.digits if digits is None else digits
    x = value * unit.scale
    text = f"{abs(x):,.{digits}f}"
    if round(abs(x), digits) == 0:
        return text
    if signed:
        return ("+" if x > 0 else MINUS) + text
    return (MINUS if x < 0 else "") + text


def moved(value: float, unit: Unit, digits: int | None = None) -> str:
    """A change in words: "fell by 23", "rose by 5", "did not change"."""
    if not np.isfinite(value):
        return "is unknown"  # a share of nothing yet (no change adopted, nobody heard)
    text = number(abs(value), unit, digits)
    if float(text.replace(",", "")) == 0:
        return "did not change"
    return f"{'rose' if value > 0 else 'fell'} by {text}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def label_text(label: Label, result: PairResult) -> str:
    return label(result) if callable(label) else label.format(weeks=int(result.weeks[-1]))


# ---------------------------------------------------------------------------------------------
# Measures and their effects
# ---------------------------------------------------------------------------------------------
def _cut(low: float, high: float, limit: float | None) -> tuple[float, float]:
    """An interval cut at the largest difference there can be."""
    if limit is None:
        return low, high
    return max(low, -limit), min(high, limit)


def direction(low: float, high: float, minimum: float) -> str:
    """What a 95% interval of B − A says: SAME when it lies within ± ``minimum`` (no
    important difference, ``decision_verdict``), else UP or DOWN when it lies clear of 0,
    else UNCLEAR (it includes 0 and reaches past the minimum, or cannot be computed)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNCLEAR
    if decision_verdict(low, high, minimum) == NO_IMPORTANT:
        return SAME
    where = side(low, high)
    return UP if where is Side.ABOVE else DOWN if where is Side.BELOW else UNCLEAR


@dataclass(frozen=True)
class Difference:
    """Design B − design A in a per-replication value, paired on the replication."""

    key: str  # its column in the download
    label: Label  # "patient-originated changes adopted after {weeks} weeks"
    values: Callable[[PairResult, int], np.ndarray]  # raw, one per replication
    unit: Unit
    level: str  # one design's level: "{v} changes", "{v} out of 10", "{moved} per 100"
    change: str  # "{n} {dir} patient-originated changes were adopted"
    minimum: float  # raw: the smallest difference that would matter
    claim: int = 0  # the fact says B − A is above 0 (+1) or below (−1); 0: no claim
    claim_text: str = ""  # "partnership gets more of patients' ideas adopted"
    short: str | None = None  # after a signed number ("changes"); the unit's by default
    limit: float | None = None  # the largest difference there can be; the unit's by default

    def effect(self, result: PairResult) -> Effect:
        a, b = self.values(result, 0), self.values(result, 1)
        diff = paired_difference(a, b)
        low, high = _cut(float(diff.low), float(diff.high), self.limit or self.unit.limit)
        return Effect(
            self,
            float(diff.mean),
            low,
            high,
            diff.n,
            (float(np.mean(a)), float(np.mean(b))),
            direction(low, high, self.minimum),
        )


@dataclass(frozen=True)
class Change:
    """How much a value moved within one design, from one week to another."""

    key: str
    label: Label  # "patients' trust in providers"
    series: Callable[[PairResult, int], np.ndarray]  # raw, (replications, weeks)
    span: Callable[[PairResult], tuple[int, int]]  # the two weeks
    design: int  # 0 (A) or 1 (B)
    unit: Unit
    level: str  # "{v} out of 10"
    change: str  # "it {dir} by {n} out of 10"
    minimum: float
    claim: int = 0
    claim_text: str = ""
    short: str | None = None
    limit: float | None = None

    def values(self, result: PairResult, design: int) -> np.ndarray:
        start, end = (week_index(result, w) for w in self.span(result))
        series = self.series(result, design)
        return series[:, end] - series[:, start]

    def effect(self, result: PairResult) -> Effect:
        start, end = (week_index(result, w) for w in self.span(result))
        series = self.series(result, self.design)
        found = mean_interval(series[:, end] - series[:, start])
        low, high = _cut(float(found.low), float(found.high), self.limit or self.unit.limit)
        return Effect(
            self,
            float(found.mean),
            low,
            high,
            found.n,
            (float(series[:, start].mean()), float(series[:, end].mean())),
            direction(low, high, self.minimum),
        )


Measure = Difference | Change


@dataclass(frozen=True)
class Effect:
    """A measure's mean with its 95% interval, each design's level (A then B; for a change,
    the first week's then the second's) and what the interval says."""

    measure: Measure
    mean: float
    low: float
    high: float
    n: int
    levels: tuple[float, float]
    direction: str

    @property
    def appeared(self) -> bool | None:
        """Whether the fact's effect shows in these runs (None: the measure claims nothing)."""
        claim = self.measure.claim
        if claim == 0:
            return None
        return self.direction == (UP if claim > 0 else DOWN)


def effect_lines(effect: Effect, result: PairResult) -> list[str]:
    """Two sentences: each design's level (or the change within one), then what the
    interval says, in plain units, naming which design is compared with which."""
    m = effect.measure
    unit = m.unit
    short = m.short if m.short is not None else unit.short
    after = f" {short}" if short else ""
    # Enough digits that the interval's ends differ from each other (and from the minimum,
    # when the sentence sets them against it).
    gaps = [effect.high - effect.low]
    if effect.direction == SAME:
        gaps += [m.minimum - abs(effect.low), m.minimum - abs(effect.high)]
    digits = shown_digits(unit, (*effect.levels, effect.mean, effect.low, effect.high, *gaps))
    label = label_text(m.label, result)

    def level(value: float) -> str:
        return m.level.format(v=number(value, unit, digits), moved=moved(value, unit, digits))

    if isinstance(m, Change):
        start, end = m.span(result)
        first = (
            f"With {result.names[m.design]}, {label} went from {level(effect.levels[0])} in "
            f"week {start} to {level(effect.levels[1])} in week {end}."
        )
        compared, noun, (up, down) = "", "the change", RISE
    else:
        a_name, b_name = result.names
        first = (
            f"{capitalised(label)}: {level(effect.levels[1])} with {b_name} and "
            f"{level(effect.levels[0])} with {a_name}."
        )
        compared, noun = f" with {b_name} than with {a_name}", "the difference"
        up, down = unit.up, unit.down
    if effect.direction in (UP, DOWN):
        word = up if effect.direction == UP else down
        low, high = sorted((abs(effect.low), abs(effect.high)))
        phrase = m.change.format(n=number(abs(effect.mean), unit, digits), dir=word)
        tail = f" {word}" if isinstance(m, Difference) else ""
        body = (
            f"{phrase}{compared} (95% interval {number(low, unit, digits)} to "
            f"{number(high, unit, digits)}{tail})"
        )
    else:
        interval = (
            f"{number(effect.low, unit, digits, signed=True)} to "
            f"{number(effect.high, unit, digits, signed=True)}{after}"
        )
        if effect.direction == SAME:
            body = (
                f"{noun}, {interval}, is smaller than the {number(m.minimum, unit, digits)}"
                f"{after} that would matter"
            )
        else:
            body = f"{noun}, {interval}, includes no change"
    if m.claim:
        if effect.appeared:
            verdict = f"In these runs the model shows that {m.claim_text}. {capitalised(body)}."
        elif effect.direction in (UP, DOWN):
            verdict = (
                f"In these runs the model shows the opposite of the claim that {m.claim_text}. "
                f"{capitalised(body)}."
            )
        else:
            verdict = f"In these runs the model does not show that {m.claim_text}: {body}."
    elif effect.direction in (UP, DOWN):
        verdict = capitalised(body) + "."
    elif effect.direction == SAME:
        verdict = f"No difference that matters: {body}."
    else:
        verdict = f"No clear difference: {body}."
    return [first, verdict]


def plain_effect(effect: Effect, result: PairResult) -> str:
    """The effect and its interval in one short phrase, for a table: "+37 changes (+31 to
    +44)" or "−0.4 out of 10 (−0.5 to −0.3)"."""
    m = effect.measure
    unit = m.unit
    short = m.short if m.short is not None else unit.short
    # Enough digits that the interval's two ends differ, as in the narration.
    digits = shown_digits(unit, (effect.mean, effect.low, effect.high, effect.high - effect.low))
    after = f" {short}" if short else ""
    return (
        f"{number(effect.mean, unit, digits, signed=True)}{after} "
        f"({number(effect.low, unit, digits, signed=True)} to "
        f"{number(effect.high, unit, digits, signed=True)})"
    )


# ---------------------------------------------------------------------------------------------
# Series and values read from the runs
# ---------------------------------------------------------------------------------------------
def week_index(result: PairResult, week: int) -> int:
    """Where ``week`` is in the runs' weeks."""
    found = np.flatnonzero(result.weeks == week)
    if not found.size:
        raise ValueError(f"week {week} is not in these runs (weeks 0 to {result.weeks[-1]})")
    return int(found[0])


Series = Callable[[PairResult, int], np.ndarray]


def column(name: str) -> Series:
    """A collaborative column over the weeks."""
    return lambda result, design: result.column(name, design)


def key_mean(prefix: str) -> Series:
    """The mean over the key populations of ``prefix``_<group> (stigma toward them)."""

    def series(result: PairResult, design: int) -> np.ndarray:
        groups = result.scenarios[design].key_populations
        return np.mean([result.column(f"{prefix}_{g}", design) for g in groups], axis=0)

    return series


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    out = np.full(whole.shape, np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out


def key_voices(result: PairResult, design: int) -> np.ndarray:
    """Of all representatives heard so far, the key populations' share, week by week."""
    scenario = result.scenarios[design]
    key = set(scenario.key_populations)
    heard = {g.name: result.column(f"heard_{g.name}", design) for g in scenario.groups}
    part = np.cumsum(sum(v for g, v in heard.items() if g in key), axis=1)
    return _ratio(part, np.cumsum(sum(heard.values()), axis=1))


def voices_heard(result: PairResult, design: int) -> np.ndarray:
    """Of the representatives attending so far, the share heard, week by week."""
    heard = np.cumsum(result.column("reps_heard", design), axis=1)
    return _ratio(heard, np.cumsum(result.column("reps_attending", design), axis=1))


def unthought(result: PairResult, design: int) -> np.ndarray:
    """Of the changes adopted so far, the share in aspects staff rate below an even share
    (what they had not thought of), week by week: the aspects the staff-led preset's
    assumptions weight low, as the validation study's CaReQIC case reads them."""
    aspects = unthought_aspects(_staff_led())
    every = result.scenarios[design].aspects
    part = sum(result.column(f"adopted_{a}", design) for a in aspects)
    return _ratio(part, sum(result.column(f"adopted_{a}", design) for a in every))


@cache
def _staff_led() -> Scenario:
    return load_scenario("staff-led")


def at_end(series: Series) -> Callable[[PairResult, int], np.ndarray]:
    """Per replication, the series in the last week."""
    return lambda result, design: series(result, design)[:, -1]


def at_week(
    series: Series, week: Callable[[PairResult], int]
) -> Callable[[PairResult, int], np.ndarray]:
    """Per replication, the series in the week ``week`` gives."""
    return lambda result, design: series(result, design)[:, week_index(result, week(result))]


def support_ends(result: PairResult) -> int:
    """The week external support ends (the designs share it)."""
    return int(result.scenarios[0].support_weeks)


def crisis_weeks(result: PairResult) -> tuple[int, int]:
    """The week before the crisis and the week it ends, as the validation study reads them."""
    scenario = result.scenarios[0]
    start = int(scenario.crisis_week)
    return start - 1, start + int(scenario.crisis_duration)


def after_crisis(result: PairResult) -> int:
    """Six months after the crisis ends, where the study compares the recoveries."""
    return crisis_weeks(result)[1] + RECOVERY_WEEKS


def uptake_after_support(result: PairResult, design: int) -> np.ndarray:
    """Per replication, the change in the share of providers using each adopted change from
    the end of support to the last week."""
    uptake = result.column("provider_uptake", design)
    return uptake[:, -1] - uptake[:, week_index(result, support_ends(result))]


def weeks_waiting(result: PairResult, design: int) -> np.ndarray:
    """Per replication, the mean weeks (of the first 40) a site waits for its first adopted
    change, as the validation study counts them."""
    weeks = result.weeks
    rows = (weeks >= 1) & (weeks <= FIRST_WEEKS)
    with_change = result.column("sites_with_changes", design)[:, rows].sum(axis=1)
    return FIRST_WEEKS - with_change / result.scenarios[design].n_sites


def run_total(series: Series) -> Callable[[PairResult, int], np.ndarray]:
    """Per replication, the series summed over the weeks."""
    return lambda result, design: series(result, design).sum(axis=1)


def cumulative(series: Series) -> Series:
    return lambda result, design: np.cumsum(series(result, design), axis=1)


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------
Markers = Callable[[PairResult], tuple[tuple[int, str], ...]]


def _no_markers(result: PairResult) -> tuple[tuple[int, str], ...]:
    return ()


@dataclass(frozen=True)
class LessonChart:
    """Both designs' mean over the weeks with their 95% bands, in plain units."""

    key: str
    title: str
    y_title: str
    series: Series  # raw, (replications, weeks)
    unit: Unit
    bounds: tuple[float, float] | None = None  # raw: what a value can be
    markers: Markers = _no_markers  # (week, "external support ends")
    short: str | None = None

    def spec(self, result: PairResult) -> charts.Spec:
        scale = self.unit.scale
        designs = {}
        for d, name in enumerate(result.names):
            band = mean_interval(self.series(result, d))
            designs[name] = (band.mean * scale, band.low * scale, band.high * scale)
        bounds = None if self.bounds is None else (self.bounds[0] * scale, self.bounds[1] * scale)
        spec = charts.designs_band(
            result.weeks, designs, title=self.title, y_title=self.y_title, bounds=bounds
        )
        # The axis from the data, not from 0: a lesson's differences are a few points.
        for layer in spec["layer"]:
            layer["encoding"]["y"] = {**layer["encoding"]["y"], "scale": {"zero": False}}
        marks = self.markers(result)
        if marks:
            spec["layer"].append(
                {
                    "data": {"values": [{"week": w} for w, _ in marks]},
                    "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#777"},
                    "encoding": {"x": {"field": "week", "type": "quantitative"}},
                }
            )
        return spec


def chart_sentence(chart: LessonChart, result: PairResult) -> str:
    """What the highlighted chart shows, from the runs: from which week the red line (design
    B) stays above or below the blue one (design A), and where both end."""
    a, b = chart.series(result, 0), chart.series(result, 1)
    diff = paired_difference(a, b)
    sides = [side(lo, hi) for lo, hi in zip(diff.low, diff.high, strict=True)]
    end = sides[-1]
    ends = (float(np.nanmean(a[:, -1])), float(np.nanmean(b[:, -1])))
    unit = chart.unit
    short = chart.short if chart.short is not None else unit.short
    digits = shown_digits(unit, ends)
    a_end, b_end = (number(v, unit, digits) for v in ends)
    after = f" {short}" if short else ""
    a_name, b_name = result.names
    if end.clear:
        parted = max((i + 1 for i, s in enumerate(sides) if s is not end), default=0)
        when = "from the start" if parted == 0 else f"from week {int(result.weeks[parted])}"
        where = "above" if end is Side.ABOVE else "below"
        text = (
            f"In the highlighted chart, {when} the red line ({b_name}) stays {where} the blue "
            f"line ({a_name}). It ends at {b_end}{after}, against {a_end}."
        )
    else:
        text = (
            f"In the highlighted chart, the red line ({b_name}) and the blue line ({a_name}) "
            f"end close together, at {b_end} and {a_end}{after}. These runs cannot tell them "
            "apart there."
        )
    marks = chart.markers(result)
    if marks:
        said = [f"week {w}, when {what}" for w, what in marks]
        line = "lines mark" if len(said) > 1 else "line marks"
        text += f" The dashed {line} {', and '.join(said)}."
    return text


# ---------------------------------------------------------------------------------------------
# Designs and lessons
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """One of a lesson's two designs: a preset with some settings changed."""

    name: str  # in plain words, as sentences and legends use it: "partnership"
    preset: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def scenario(self, name: str) -> Scenario:
        return load_scenario(self.preset).with_overrides({"name": name, **self.settings})


@dataclass(frozen=True)
class Choice:
    """A prediction the class may make, and which way of B − A on the primary measure it
    stands for (UP, DOWN or SAME)."""

    text: str
    when: str


@dataclass(frozen=True)
class Rule:
    """The sequential rule: ``first`` paired replications, then ``batch`` more while the
    primary measure's interval is unclear, up to ``cap``."""

    first: int = 10
    batch: int = 5
    cap: int = 40


@dataclass(frozen=True)
class Lesson:
    """One lesson: the fact, the prediction, the two designs, what is measured and shown."""

    key: str
    number: int | None  # the stylized fact's number; None for the CaReQIC story
    short: str  # the lesson's button
    title: str
    fact: str  # the stylized fact in plain words
    question: str
    choices: tuple[Choice, ...]
    designs: tuple[Design, Design]
    differs: tuple[str, ...]  # the only settings in which the two designs differ
    weeks: int
    root_seed: int
    primary: Difference
    others: tuple[Measure, ...]
    charts: tuple[LessonChart, ...]  # the first is the highlighted one
    why: Callable[[PairResult], list[str]]  # how the model works here, quoting the scenarios
    info: Info
    rule: Rule = Rule()
    shared: str = ""  # what both designs share that the class should know

    @property
    def names(self) -> tuple[str, str]:
        return self.designs[0].name, self.designs[1].name

    def scenarios(self) -> tuple[Scenario, Scenario]:
        return (
            self.designs[0].scenario(f"lesson-{self.key}-a"),
            self.designs[1].scenario(f"lesson-{self.key}-b"),
        )

    def settings(self) -> tuple:
        """Everything the runs depend on: results run with other settings are stale."""
        a, b = self.scenarios()
        return (
            self.weeks,
            self.root_seed,
            self.rule,
            provenance.scenario_sha256(a),
            provenance.scenario_sha256(b),
        )

    def measures(self) -> tuple[Measure, ...]:
        return (self.primary, *self.others)

    def effects(self, result: PairResult) -> list[Effect]:
        return [m.effect(result) for m in self.measures()]


def supported(lesson: Lesson, effect: Effect) -> Choice | None:
    """The prediction the runs support, or None while the interval is unclear."""
    return next((c for c in lesson.choices if c.when == effect.direction), None)


# ---------------------------------------------------------------------------------------------
# Running a lesson
# ---------------------------------------------------------------------------------------------
def run_replications(
    lesson: Lesson,
    start: int,
    count: int,
    *,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PairResult:
    """Replications ``start`` to ``start + count − 1`` of both designs, each pair from
    ``replication_seed(root_seed, r)`` as :func:`app.pairs.run_pair` seeds them (which
    always starts at replication 0, so a batch added later could not use it)."""
    scenarios = lesson.scenarios()
    frames: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
    groups: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
    for i, r in enumerate(range(start, start + count)):
        seed = replication_seed(lesson.root_seed, r)
        for d, scenario in enumerate(scenarios):
            if cancelled is not None and cancelled():
                raise InterruptedError("cancelled")
            model = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False)
            model.run_for(lesson.weeks)
            frames[d].append(model.outputs.collaborative())
            groups[d].append(model.outputs.groups())
        if progress is not None:
            progress(i + 1)
    return PairResult(
        names=lesson.names,
        scenarios=scenarios,
        weeks=frames[0][0]["week"].to_numpy(),
        root_seed=lesson.root_seed,
        collaborative=frames,
        groups=groups,
        descriptions=lesson.names,
    )


def combined(first: PairResult, more: PairResult) -> PairResult:
    """The replications of ``first`` followed by those of ``more`` (the same designs)."""
    return PairResult(
        names=first.names,
        scenarios=first.scenarios,
        weeks=first.weeks,
        root_seed=first.root_seed,
        collaborative=tuple(a + b for a, b in zip(first.collaborative, more.collaborative)),  # noqa: B905
        groups=tuple(a + b for a, b in zip(first.groups, more.groups)),  # noqa: B905
        descriptions=first.descriptions,
    )


Runner = Callable[..., PairResult]


def decided(lesson: Lesson, result: PairResult) -> bool:
    """Whether the primary measure's interval is clear of 0 or within its minimum."""
    return lesson.primary.effect(result).direction != UNCLEAR


def run_lesson(
    lesson: Lesson,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    runner: Runner = run_replications,
) -> PairResult:
    """The lesson's runs under its sequential rule."""
    rule = lesson.rule

    def batch(start: int, count: int) -> PairResult:
        planned = start + count
        report = None if progress is None else (lambda done: progress(start + done, planned))
        return runner(lesson, start, count, progress=report, cancelled=cancelled)

    result = batch(0, rule.first)
    while not decided(lesson, result) and result.replications < rule.cap:
        count = min(rule.batch, rule.cap - result.replications)
        result = combined(result, batch(result.replications, count))
    return result


def add_replications(
    lesson: Lesson,
    result: PairResult,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    runner: Runner = run_replications,
) -> PairResult:
    """``result`` with one batch more ("More replications"), up to MAX_REPLICATIONS."""
    start = result.replications
    count = min(lesson.rule.batch, MAX_REPLICATIONS - start)
    if count <= 0:
        return result
    report = None if progress is None else (lambda done: progress(start + done, start + count))
    return combined(result, runner(lesson, start, count, progress=report, cancelled=cancelled))


# ---------------------------------------------------------------------------------------------
# What the class reads
# ---------------------------------------------------------------------------------------------
def setting_words(name: str, value: Any) -> str:
    """One setting of a design in plain words."""
    if name == "power_sharing":
        return f"power sharing at rung {value} of 8, {rung_name(int(value))}"
    if name == "feedback_loop":
        if value == 0:
            return "input never reported back"
        return f"input reported back {float(value):.0%} of the time"
    if name == "inclusion":
        return (
            "seats offered first to the key populations"
            if value == "deliberate"
            else "seats offered to whoever staff reach most easily"
        )
    if name == "team_size":
        return f"teams of {value}"
    if name == "representative_seats":
        if value == 0:
            return "no seats for patients"
        return f"{value} seat{'s' if value != 1 else ''} for patient representatives"
    if name == "authority_support":
        return f"managers' support at {float(value) * 10:g} out of 10"
    if name == "initial_trust":
        return f"patients' trust starting at {float(value) * 10:g} out of 10"
    if name == "recovery":
        if value == "top_down":
            return "after the crisis, managers decide and tell patients"
        return "after the crisis, patients help lead the recovery as partners"
    if name == "meetings_after_support":
        return "teams keep meeting after support ends" if value else "teams stop meeting"
    return f"{name.replace('_', ' ')} {value}"


def designs_sentence(lesson: Lesson) -> str:
    """The two designs and what differs between them, read from their scenarios."""
    parts = []
    for letter, design, scenario in zip("AB", lesson.designs, lesson.scenarios(), strict=True):
        words = "; ".join(setting_words(f, getattr(scenario, f)) for f in lesson.differs)
        parts.append(f"Design {letter}, {design.name}: {words}.")
    tail = " Everything else is the same."
    return " ".join(parts) + tail + (f" {lesson.shared}" if lesson.shared else "")


def overview(lesson: Lesson, result: PairResult) -> str:
    """How many paired replications, of how many weeks, from which root seed."""
    text = (
        f"{result.replications} paired replications of {int(result.weeks[-1])} weeks of each "
        f"design, root seed {result.root_seed}. The bands are 95% intervals."
    )
    if result.replications >= lesson.rule.cap and not decided(lesson, result):
        text += f" The answer was still unclear after {result.replications} replications."
    return text


def support_lines(lesson: Lesson, effect: Effect, predicted: int | None) -> list[str]:
    """Which prediction the runs support, and how the class's prediction fares."""
    choice = supported(lesson, effect)
    if choice is None:
        lines = [
            "The runs do not yet support any of the choices: the difference still includes "
            "no change. More replications may settle it."
        ]
    else:
        lines = [f"The runs support: \u201c{choice.text}\u201d."]
    if predicted is not None and 0 <= predicted < len(lesson.choices):
        guess = lesson.choices[predicted]
        if choice is None:
            lines.append(
                f"The class predicted \u201c{guess.text}\u201d. These runs cannot say yet."
            )
        elif guess == choice:
            lines.append("The class predicted this too.")
        else:
            lines.append(
                f"The class predicted \u201c{guess.text}\u201d, which these runs do not support."
            )
    return lines


def narration(lesson: Lesson, result: PairResult) -> list[str]:
    """The story of the runs: what they were, the highlighted chart, every measure's effect,
    and how the model works here."""
    lines = [overview(lesson, result), chart_sentence(lesson.charts[0], result)]
    for effect in lesson.effects(result):
        lines += effect_lines(effect, result)
    return lines + lesson.why(result)


def runs_table(lesson: Lesson, result: PairResult) -> pd.DataFrame:
    """One row per design and replication: its seed and every measure's raw value."""
    scenarios = result.scenarios
    rows = []
    for d, (letter, name) in enumerate(zip("AB", result.names, strict=True)):
        values = {m.key: m.values(result, d) for m in lesson.measures()}
        digest = provenance.scenario_sha256(scenarios[d])
        for r in range(result.replications):
            rows.append(
                {
                    "lesson": lesson.key,
                    "design": letter,
                    "design_name": name,
                    "scenario": scenarios[d].name,
                    "scenario_sha256": digest,
                    "root_seed": result.root_seed,
                    "replication": r,
                    "seed": replication_seed(result.root_seed, r),
                    "weeks": int(result.weeks[-1]),
                    **{key: float(v[r]) for key, v in values.items()},
                }
            )
    return pd.DataFrame(rows)


def runs_csv(lesson: Lesson, result: PairResult) -> bytes:
    """The per-replication outcomes as CSV, after a header of "# " lines saying what ran:
    the lesson, the designs, the root seed, the version and each scenario's SHA-256."""
    header = {
        "lesson": f"{lesson.key}: {lesson.title}",
        "design A": f"{lesson.designs[0].name} ({lesson.designs[0].preset} with "
        f"{dict(lesson.designs[0].settings)})",
        "design B": f"{lesson.designs[1].name} ({lesson.designs[1].preset} with "
        f"{dict(lesson.designs[1].settings)})",
        "root_seed": str(result.root_seed),
        "replications": str(result.replications),
        "weeks": str(int(result.weeks[-1])),
        "coprod_sim": provenance.package_version(),
        "scenario_sha256 A": provenance.scenario_sha256(result.scenarios[0]),
        "scenario_sha256 B": provenance.scenario_sha256(result.scenarios[1]),
        "created": provenance.created(),
        "read with": "pandas.read_csv(path, comment='#')",
    }
    out = io.StringIO()
    for key, value in header.items():
        out.write(f"# {key}: {value}\n")
    runs_table(lesson, result).to_csv(out, index=False)
    return out.getvalue().encode()


# ---------------------------------------------------------------------------------------------
# The lessons
# ---------------------------------------------------------------------------------------------
def _minimum(outcome: str, fallback: float) -> float:
    """The project's default minimum important difference (the study's declared margins)."""
    found = MINIMUM_IMPORTANT.get(outcome)
    return float(found[0]) if found else fallback


RUNS = (
    "Both designs run many times on the same chance events, so each run has a twin. The app "
    "starts with ten pairs and adds five at a time while the answer is unclear, up to forty. "
    "Every number in the story is measured from these runs."
)

_CRISIS = load_scenario("crisis")
_UNTHOUGHT = [a.replace("_", " ") for a in unthought_aspects(_staff_led())]

VALUE = Difference(
    "value",
    "value of care to patients after {weeks} weeks",
    at_end(column("value")),
    OUT_OF_10,
    "{v} out of 10",
    "value was {n} {dir} out of 10",
    _minimum("value", 0.02),
)
PATIENT_IDEAS = Difference(
    "patient_originated",
    "patient-originated changes adopted in {weeks} weeks",
    at_end(column("patient_originated")),
    COUNT,
    "{v} changes",
    "{n} {dir} patient-originated changes were adopted",
    _minimum("patient_originated", 5),
    short="changes",
)
RETENTION = Difference(
    "retention",
    "patients kept in care after {weeks} weeks",
    at_end(column("retention")),
    PER_1000,
    "{v} per 1,000",
    "{n} {dir} people per 1,000 were kept in care",
    _minimum("retention", 0.02),
)
KEY_STIGMA = Difference(
    "stigma_key",
    "providers' stigma toward the key populations after {weeks} weeks",
    at_end(key_mean("stigma")),
    OUT_OF_10,
    "{v} out of 10",
    "stigma was {n} {dir} out of 10",
    _minimum("stigma_sex_workers", 0.02),
)
PATIENT_TRUST = Difference(
    "patient_trust",
    "patients' trust in providers after {weeks} weeks",
    at_end(column("patient_trust")),
    OUT_OF_10,
    "{v} out of 10",
    "trust was {n} {dir} out of 10",
    _minimum("patient_trust", 0.02),
)


# Charts more than one lesson shows.
IDEAS_CHART = LessonChart(
    "ideas",
    "Patient-originated changes adopted",
    "changes adopted",
    column("patient_originated"),
    COUNT,
    short="changes",
)
VALUE_CHART = LessonChart(
    "value",
    "Value of care to patients",
    "out of 10",
    column("value"),
    OUT_OF_10,
    (0, 1),
)
RETENTION_CHART = LessonChart(
    "retention",
    "Kept in care",
    "per 1,000 patients",
    column("retention"),
    PER_1000,
    (0, 1),
)


def _with(measure: Difference, **changes: Any) -> Difference:
    """A measure with its claim (or anything else) set for one lesson."""
    return replace(measure, **changes)


def _stigma_chart(prefix_series: Series, title: str) -> LessonChart:
    return LessonChart("stigma", title, "stigma, out of 10", prefix_series, OUT_OF_10, (0, 1))


def _why_tokenism(result: PairResult) -> list[str]:
    a, b = result.scenarios
    weights = [float(patient_input_weight(s.power_sharing)) for s in (a, b)]
    status = [float(status_equality(s.power_sharing)) for s in (a, b)]
    return [
        f"How the model works here: when a team picks an idea to test, patients' views count "
        f"for {weights[0]:.0%} at {rung_name(a.power_sharing)} and {weights[1]:.0%} at "
        f"{rung_name(b.power_sharing)}. Staff assumptions count for the rest.",
        f"Representatives also sit more as equals: {status[1] * 10:g} out of 10 at "
        f"{rung_name(b.power_sharing)}, against {status[0] * 10:g} at "
        f"{rung_name(a.power_sharing)}. Staff then take fewer of the turns to speak.",
        "Representatives suggest changes to what matters to their own group. So each of their "
        "ideas adopted adds to what matters to patients.",
    ]


def _how_often(share: float) -> str:
    return "never" if share == 0 else f"{share:.0%} of the time"


def _why_feedback(result: PairResult) -> list[str]:
    a, b = result.scenarios
    return [
        f"How the model works here: with {result.names[1]}, the team tells a representative "
        f"what became of their input {_how_often(b.feedback_loop)}. With {result.names[0]}, "
        f"it does so {_how_often(a.feedback_loop)}.",
        f"Input that goes nowhere counts as a bad experience for the representative's trust. "
        f"One bad experience weighs as much as {b.negativity_bias:g} good ones.",
        "A representative is more likely to leave the team as their trust runs out. The "
        "empty seat is offered to another patient, who starts with their own trust.",
    ]


def _and(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _top(weights: Mapping[str, float]) -> tuple[str, float]:
    aspect = max(weights, key=lambda k: weights[k])
    return aspect.replace("_", " "), float(weights[aspect])


def _why_assumptions(result: PairResult) -> list[str]:
    staff = result.scenarios[1].staff_assumptions
    aspect, weight = _top(staff)
    key = [g for g in result.scenarios[0].groups if g.key_population]
    wanted = sorted({_top(g.what_matters)[0] for g in key})
    return [
        f"How the model works here: staff propose changes to what they assume matters. They "
        f"put {weight:.0%} of their weight on {aspect}.",
        f"The key populations care most about {_and(wanted)}. Representatives propose "
        "changes to what matters to their own group.",
        "Value to patients is the quality of care, weighted by what matters to each group. "
        "Improving the wrong thing adds little of it.",
    ]


def _why_inclusion(result: PairResult) -> list[str]:
    scenario = result.scenarios[0]
    general = next(g for g in scenario.groups if not g.key_population)
    hardest = min((g for g in scenario.groups if g.key_population), key=lambda g: g.reachability)
    share = key_population_share(scenario)
    times = general.reachability / hardest.reachability
    return [
        f"How the model works here: the key populations are {share * 100:.0f} of every 100 "
        "patients.",
        f"With {result.names[0]}, staff invite patients in proportion to how easily they reach "
        f"them, and to their trust. Staff reach the general group about {times:.0f} times as "
        f"easily as {hardest.label.lower()}.",
        f"With {result.names[1]}, empty seats go first to key populations not yet on the team.",
        "Only those seated can be heard. The team's picture of what matters is built from what "
        "it hears.",
    ]


def _strength(s: Scenario) -> float:
    """How strong a good contact is under the scenario's four conditions."""
    return float(
        contact.condition_strength(
            status_equality(s.power_sharing), s.authority_support, s.cooperation,
            s.common_goals, s.contact_without_conditions,
        )
    )  # fmt: skip


def _why_contact(result: PairResult) -> list[str]:
    a, b = result.scenarios
    return [
        "How the model works here: a good contact with a representative pulls a provider's "
        "stigma toward zero. A bad one pushes it up, and more strongly.",
        "Allport's four conditions make a good contact stronger: equal status, managers' "
        "support, cooperation and common goals.",
        f"Here a good contact has {_strength(b):.0%} of its full effect with "
        f"{result.names[1]}, and {_strength(a):.0%} with {result.names[0]}.",
        "Equal status also makes meetings feel safer, so more contacts go well.",
    ]


def _why_sustained(result: PairResult) -> list[str]:
    return [
        f"How the model works here: external support ends in week {support_ends(result)} and "
        "the teams stop meeting. Each week a provider may stop using a change.",
        "That chance is lower when the provider's own patients value what the change improves.",
        "Coproduced teams pick more of the changes patients asked for, so more changes have "
        "patients' demand behind them.",
        "A coproduced team must also agree before it tests an idea. That can slow its first "
        "change.",
    ]


def _why_group_size(result: PairResult) -> list[str]:
    a, b = result.scenarios
    return [
        f"How the model works here: each meeting has {b.speaking_turns} turns to speak, "
        "whatever the size of the team.",
        "Staff tend to take the floor first, less so when power is shared.",
        f"In a team of {b.team_size}, a representative willing to speak is nearly always heard. "
        f"In a team of {a.team_size}, the turns run out.",
    ]


def _why_crisis(result: PairResult) -> list[str]:
    b = result.scenarios[1]
    return [
        "How the model works here: during the crisis the teams do not meet, visits are "
        "strained and changes fall out of use faster.",
        "After a top-down recovery, managers decide and tell patients. Input is never "
        "reported back.",
        f"After a coproduced recovery, the team shares power again at rung {b.power_sharing}, "
        f"{rung_name(b.power_sharing)}, and reports back as before.",
        "Trust comes back only through the visits and meetings that follow, so it recovers slowly.",
    ]


def _why_trust(result: PairResult) -> list[str]:
    a = result.scenarios[0]
    return [
        "How the model works here: a patient accepts a seat, and speaks up, more readily when "
        "they trust providers.",
        "From low trust fewer patients take the seats and fewer speak. So fewer of their "
        "ideas reach testing.",
        "Each good experience in care or in a meeting adds to trust. So coproduction can build "
        "the trust it needs.",
        f"Both designs share the same history of trust, {a.historical_trust * 10:g} out of 10. "
        "Only where patients start differs.",
    ]


def _why_careqic(result: PairResult) -> list[str]:
    return [
        "How the model works here: representatives propose changes to what matters to their "
        f"group, such as {_and(_UNTHOUGHT)}.",
        "Staff alone put little weight on these. They are the aspects staff rate below an even "
        "share.",
        "Working with representatives as equal partners is contact at equal status. In the "
        "model that lowers stigma and raises providers' regard for patients.",
    ]


def _crisis_markers(result: PairResult) -> tuple[tuple[int, str], ...]:
    start = int(result.scenarios[0].crisis_week)
    return ((start, "the crisis starts"), (crisis_weeks(result)[1], "it ends"))


def _support_marker(result: PairResult) -> tuple[tuple[int, str], ...]:
    return ((support_ends(result), "external support ends"),)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="tokenism",
        number=1,
        short="1. Tokenism",
        title="Tokenism produces little real change",
        fact=(
            "Stylized fact 1: tokenism, rungs 3 to 5 of Arnstein's ladder, produces little real "
            "change compared with partnership and above. Fewer of patients' ideas are adopted, "
            "and less of what matters is delivered."
        ),
        question=(
            "Both designs put two patient representatives on every team. With consultation, "
            "staff ask for their views and then decide. With partnership, they decide together. "
            "How many of patients' own ideas get adopted?"
        ),
        choices=(
            Choice("Many more with partnership", UP),
            Choice("About the same: the representatives are in the room either way", SAME),
            Choice("More with consultation", DOWN),
        ),
        designs=(
            Design("consultation", "careqic", {"power_sharing": 4}),
            Design("partnership", "careqic", {"power_sharing": 6}),
        ),
        differs=("power_sharing",),
        weeks=78,
        root_seed=301,
        primary=_with(
            PATIENT_IDEAS,
            claim=1,
            claim_text="partnership gets more of patients' own ideas adopted than tokenism",
        ),
        others=(
            _with(
                VALUE, claim=1, claim_text="partnership delivers more of what matters to patients"
            ),
            RETENTION,
        ),
        charts=(
            IDEAS_CHART,
            VALUE_CHART,
            RETENTION_CHART,
        ),
        why=_why_tokenism,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 1: tokenism produces little real change. "
                "Tokenism means patients are asked, but staff decide. It sets consultation, "
                "rung 4 of Arnstein's ladder, against partnership, rung 6."
            ),
            how_it_works=(
                "Both designs put two patient representatives on each of the 26 teams. When a "
                "team picks an idea to test, the rung sets how much patients' views count. At "
                "partnership, representatives also sit as equals, so they get more turns to "
                "speak. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart of patient-originated changes. When do the two "
                "lines part?",
                "Look at the value of care to patients. Does it follow the changes adopted?",
                "Retention in care may hardly move in 78 weeks. The story says so when it "
                "does not.",
            ),
            things_to_try=(
                "On the Compare page, set rung 5 against rung 6. Is the big step at partnership?",
                "Compare the tokenistic preset with the partnership preset. They differ in "
                "more than the rung.",
            ),
        ),
    ),
    Lesson(
        key="feedback",
        number=2,
        short="2. Closing the loop",
        title="Closing the feedback loop keeps representatives",
        fact=(
            "Stylized fact 2: closing the feedback loop builds trust and keeps representatives "
            "engaged. Ignored input erodes trust, and representatives drop out."
        ),
        question=(
            "In one design the team tells representatives what became of their input nine times "
            "in ten. In the other it never does. Where do representatives trust providers more "
            "after 78 weeks?"
        ),
        choices=(
            Choice("Where input is ignored: nobody lets them down", DOWN),
            Choice("It makes no real difference", SAME),
            Choice("Where input is reported back", UP),
        ),
        designs=(
            Design("input ignored", "careqic", {"feedback_loop": 0.0}),
            Design("input reported back", "careqic", {"feedback_loop": 0.9}),
        ),
        differs=("feedback_loop",),
        weeks=78,
        root_seed=302,
        primary=Difference(
            "representative_trust",
            "representatives' trust in providers after {weeks} weeks",
            at_end(column("representative_trust")),
            OUT_OF_10,
            "{v} out of 10",
            "trust was {n} {dir} out of 10",
            0.05,  # the study's margin: five points on a 0-100 scale
            claim=1,
            claim_text="reporting back builds representatives' trust",
        ),
        others=(
            Difference(
                "reps_dropped",
                "representatives who gave up their seats in {weeks} weeks",
                at_end(column("reps_dropped")),
                COUNT,
                "{v}",
                "{n} {dir} representatives gave up their seats",
                2,  # the study's margin: two of the 52 seats
                claim=-1,
                claim_text="reporting back keeps representatives on the teams",
                short="representatives",
            ),
            PATIENT_IDEAS,
        ),
        charts=(
            LessonChart(
                "trust",
                "Representatives' trust in providers",
                "out of 10",
                column("representative_trust"),
                OUT_OF_10,
                (0, 1),
            ),
            LessonChart(
                "dropped",
                "Representatives who gave up their seats",
                "representatives, so far",
                column("reps_dropped"),
                COUNT,
                short="representatives",
            ),
            IDEAS_CHART,
        ),
        why=_why_feedback,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 2: closing the feedback loop keeps "
                "representatives. It sets input reported back nine times in ten against input "
                "never reported back."
            ),
            how_it_works=(
                "Each time a representative speaks, the team may tell them later what became "
                "of it. Hearing back is a good experience for their trust. Hearing nothing is "
                "a bad one, and bad experiences weigh more. A representative whose trust runs "
                "low may leave the team. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart of representatives' trust. Both start at the same "
                "level.",
                "Count the representatives who gave up their seats. Each empty seat is offered "
                "to another patient.",
                "Patients' ideas may still reach the team when seats are refilled. The story "
                "says whether they did.",
            ),
            things_to_try=(
                "On the Compare page, set the feedback loop at 0.5 as a third design.",
                "On the Explore page, set the feedback loop to 0 and watch representatives' "
                "trust week by week.",
            ),
        ),
    ),
    Lesson(
        key="assumptions",
        number=3,
        short="3. What staff assume",
        title="Without patient voice, staff improve what they assume matters",
        fact=(
            "Stylized fact 3: without patient voice, staff improve what they assume matters. "
            "Activity is high, but value to patients is low."
        ),
        question=(
            "Staff-led teams have no patient representatives. Staff choose changes by what they "
            "assume matters, and they test about as many ideas. Is what they change worth as "
            "much to patients?"
        ),
        choices=(
            Choice("Less value to patients with staff-led teams", DOWN),
            Choice("The same value: staff know their patients", SAME),
            Choice("More value with staff-led teams", UP),
        ),
        designs=(
            Design("coproduced teams", "careqic"),
            Design("staff-led teams", "staff-led"),
        ),
        differs=("representative_seats", "team_size", "power_sharing", "feedback_loop"),
        weeks=78,
        root_seed=303,
        primary=_with(
            VALUE,
            claim=-1,
            claim_text="without patient voice, care is worth less to patients",
        ),
        others=(
            Difference(
                "ideas_tested",
                "ideas tested in {weeks} weeks",
                at_end(column("ideas_tested")),
                COUNT,
                "{v} ideas",
                "{n} {dir} ideas were tested",
                5,  # the study's margin: five ideas across 26 teams
                claim=1,
                claim_text="without patient voice, activity stays high",
                short="ideas",
            ),
        ),
        charts=(
            VALUE_CHART,
            LessonChart(
                "ideas",
                "Ideas tested",
                "ideas, so far",
                column("ideas_tested"),
                COUNT,
                short="ideas",
            ),
        ),
        why=_why_assumptions,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 3: without patient voice, staff improve what "
                "they assume matters. It sets the CaReQIC teams against the same 26 teams run "
                "by staff alone."
            ),
            how_it_works=(
                "Staff propose changes to what they assume matters to patients, mostly waiting "
                "times. Representatives propose changes to what matters to their own group. "
                "Value to patients is the quality of what matters to each group. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart of value to patients. When does the red line "
                "fall behind?",
                "Compare the ideas tested. Busy teams are not the same as useful change.",
            ),
            things_to_try=(
                "On the Explore page, run the staff-led preset. Which changes does it adopt?",
                "Ask the class what they think matters most to sex workers. Then open the "
                "glossary and check.",
            ),
        ),
    ),
    Lesson(
        key="inclusion",
        number=4,
        short="4. Who gets heard",
        title="Without deliberate inclusion the most marginalised are least heard",
        fact=(
            "Stylized fact 4: without deliberate inclusion the most marginalised are least "
            "heard, and the equity gap between groups persists or widens. Deliberate inclusion "
            "narrows it."
        ),
        question=(
            "In one design staff invite whoever they reach most easily. In the other, seats go "
            "first to the key populations: sex workers, men who have sex with men, transgender "
            "people and people living unhoused. Whose voices does the team hear?"
        ),
        choices=(
            Choice("Far more key-population voices with deliberate inclusion", UP),
            Choice("About the same either way", SAME),
            Choice("More key-population voices when staff invite whoever they reach", DOWN),
        ),
        designs=(
            Design("convenience recruitment", "careqic", {"inclusion": "convenience"}),
            Design("deliberate inclusion", "careqic", {"inclusion": "deliberate"}),
        ),
        differs=("inclusion",),
        weeks=78,
        root_seed=304,
        primary=Difference(
            "key_voices",
            "of every 100 representatives heard over {weeks} weeks, those from key populations",
            at_end(key_voices),
            PER_100,
            "{v}",
            "{n} {dir} of every 100 voices heard came from key populations",
            0.05,  # the study's margin: five points of the share heard
            claim=1,
            claim_text="deliberate inclusion hears more from the key populations",
        ),
        others=(
            Difference(
                "equity_gap",
                "the equity gap between the best and worst served groups after {weeks} weeks",
                at_end(column("equity_gap")),
                OUT_OF_10,
                "{v} out of 10",
                "the gap was {n} {dir} out of 10",
                _minimum("equity_gap", 0.01),
                claim=-1,
                claim_text="deliberate inclusion leaves a smaller equity gap",
            ),
            Difference(
                "key_retention",
                "people in key populations kept in care after {weeks} weeks",
                at_end(column("key_retention")),
                PER_1000,
                "{v} per 1,000",
                "{n} {dir} people per 1,000 in key populations were kept in care",
                _minimum("key_retention", 0.02),
            ),
        ),
        charts=(
            LessonChart(
                "voices",
                "Key populations' share of the voices heard",
                "per 100 heard, so far",
                key_voices,
                PER_100,
                (0, 1),
            ),
            LessonChart(
                "gap",
                "Equity gap between groups",
                "best minus worst, out of 10",
                column("equity_gap"),
                OUT_OF_10,
                (0, 1),
            ),
            LessonChart(
                "retention",
                "Key populations kept in care",
                "per 1,000",
                column("key_retention"),
                PER_1000,
                (0, 1),
            ),
        ),
        why=_why_inclusion,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 4: without deliberate inclusion, the most "
                "marginalised are least heard. It sets recruiting whoever staff reach most "
                "easily against offering seats first to the key populations."
            ),
            how_it_works=(
                "Staff reach some groups far more easily than others. A team hears only those "
                "who hold its seats. What it hears shapes which changes it makes, and so which "
                "groups they serve. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart: whose voices reach the team, week by week.",
                "Look at the equity gap: the value of care to the best-served group minus the "
                "worst-served.",
                "Retention among the key populations links who is heard to who stays in care.",
            ),
            things_to_try=(
                "On the Compare page, give the teams more seats for representatives. Does "
                "convenience recruitment catch up?",
                "On the Explore page, switch recruitment and watch the value chart for each group.",
            ),
        ),
    ),
    Lesson(
        key="contact",
        number=5,
        short="5. Contact and stigma",
        title="Equal-status contact reduces provider stigma",
        fact=(
            "Stylized fact 5: equal-status contact reduces provider stigma. How much it falls "
            "depends on equal status and managers' support. How fast depends on cooperation and "
            "common goals."
        ),
        question=(
            "Providers work alongside representatives from the key populations in both designs, "
            "for three years. Does stigma fall further when representatives share power as "
            "equals and managers back the work?"
        ),
        choices=(
            Choice("Yes, it falls further with shared power and backing", DOWN),
            Choice("No, the same contact does the same", SAME),
            Choice("It falls further with consultation and little backing", UP),
        ),
        designs=(
            Design(
                "consultation with little backing",
                "careqic",
                {"power_sharing": 4, "authority_support": 0.3},
            ),
            Design(
                "shared power backed by managers",
                "careqic",
                {"power_sharing": 7, "authority_support": 0.9},
            ),
        ),
        differs=("power_sharing", "authority_support"),
        weeks=156,
        root_seed=305,
        primary=_with(
            KEY_STIGMA,
            claim=-1,
            claim_text="equal status and managers' backing make stigma fall further",
        ),
        others=(
            Change(
                "stigma_key_change",
                "providers' stigma toward the key populations",
                key_mean("stigma"),
                lambda result: (0, int(result.weeks[-1])),
                1,
                OUT_OF_10,
                "{v} out of 10",
                "it {dir} by {n} out of 10",
                _minimum("stigma_sex_workers", 0.02),
                claim=-1,
                claim_text="equal-status contact reduces providers' stigma",
            ),
            Difference(
                "stigma_sex_workers",
                "providers' stigma toward sex workers after {weeks} weeks",
                at_end(column("stigma_sex_workers")),
                OUT_OF_10,
                "{v} out of 10",
                "stigma was {n} {dir} out of 10",
                _minimum("stigma_sex_workers", 0.02),
            ),
        ),
        charts=(
            _stigma_chart(key_mean("stigma"), "Provider stigma toward the key populations"),
            LessonChart(
                "sex-workers",
                "Provider stigma toward sex workers",
                "stigma, out of 10",
                column("stigma_sex_workers"),
                OUT_OF_10,
                (0, 1),
            ),
        ),
        why=_why_contact,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 5: equal-status contact reduces provider "
                "stigma. It sets consultation with little backing from managers against shared "
                "power with strong backing, over three years."
            ),
            how_it_works=(
                "Providers meet representatives in team meetings. A contact that goes well "
                "lowers a provider's stigma toward that person's group. One that goes badly "
                "raises it more. Equal status, managers' support, cooperation and common goals "
                "make good contacts stronger. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart. Stigma falls slowly, so the lines part late.",
                "This lesson changes two things at once: the rung and managers' support.",
                "Stigma toward sex workers starts higher than toward the general group.",
            ),
            things_to_try=(
                "On the Compare page, change only managers' support. How much of the effect "
                "remains?",
                "On the Explore page, raise providers' initial stigma and watch the stigma chart.",
            ),
        ),
    ),
    Lesson(
        key="sustained",
        number=6,
        short="6. Slower but lasting",
        title="Coproduction is slower to start but more sustained",
        fact=(
            "Stylized fact 6: coproduction is slower to the first adopted change, but more "
            "sustained after external support ends."
        ),
        question=(
            "External support ends after a year and the teams stop meeting. A year later, "
            "whose changes do providers still use?"
        ),
        choices=(
            Choice("More of the coproduced teams' changes", UP),
            Choice("The same share for both", SAME),
            Choice("More of the staff-led teams' changes", DOWN),
        ),
        designs=(
            Design("staff-led teams", "staff-led", {"meetings_after_support": False}),
            Design("coproduced teams", "careqic", {"meetings_after_support": False}),
        ),
        differs=("representative_seats", "team_size", "power_sharing", "feedback_loop"),
        weeks=104,
        root_seed=306,
        shared="In both, the teams stop meeting when external support ends.",
        primary=Difference(
            "uptake_after_support",
            lambda result: (
                f"providers using each adopted change, from week {support_ends(result)} to "
                f"week {int(result.weeks[-1])}"
            ),
            uptake_after_support,
            PER_100,
            "{moved} per 100",
            "{n} {dir} providers per 100 still used each change",
            0.02,  # the study's margin: two points of the share in use
            claim=1,
            claim_text="coproduced changes last better once support ends",
            limit=2.0,  # a difference of two changes in a share: from −2 to +2
        ),
        others=(
            Difference(
                "weeks_waiting",
                f"the weeks a site waited for its first adopted change, of the first {FIRST_WEEKS}",
                weeks_waiting,
                WEEKS,
                "{v} weeks",
                "a site waited {n} weeks {dir}",
                2,  # the study's margin: half a meeting interval
                claim=1,
                claim_text="coproduction is slower to a site's first change",
            ),
        ),
        charts=(
            LessonChart(
                "uptake",
                "Providers using each adopted change",
                "per 100",
                column("provider_uptake"),
                PER_100,
                (0, 1),
                _support_marker,
            ),
            LessonChart(
                "sites",
                "Sites with an adopted change",
                "sites",
                column("sites_with_changes"),
                COUNT,
                markers=_support_marker,
                short="sites",
            ),
        ),
        why=_why_sustained,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 6: coproduction is slower to start but more "
                "sustained. It sets staff-led teams against coproduced teams for two years. "
                "Support ends after the first."
            ),
            how_it_works=(
                "While support lasts, coaching and learning sessions keep changes in use. Once "
                "it ends, providers drop changes now and then. They keep those their own "
                "patients value. Coproduced teams must agree before they test an idea. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart after the dashed line, when support ends.",
                "The second chart shows how soon sites adopt their first change. Is "
                "coproduction slower here?",
                "The story reports each part of the fact on its own. One part may show while "
                "the other does not.",
            ),
            things_to_try=(
                "On the Compare page, run the CaReQIC and staff-led presets for 104 weeks.",
                "Ask the class which changes from their own work were still in use a year "
                "later, and why.",
            ),
        ),
    ),
    Lesson(
        key="group-size",
        number=7,
        short="7. Small groups",
        title="Small coproduction groups hear more voices",
        fact="Stylized fact 7: small coproduction groups hear more voices than large ones.",
        question=(
            "Both designs give about a third of the seats to patient representatives, and each "
            "meeting has the same time to talk. Of the representatives who attend, how many "
            "get heard?"
        ),
        choices=(
            Choice("More of them in small teams of 4", UP),
            Choice("The same share in both", SAME),
            Choice("More of them in large teams of 14", DOWN),
        ),
        designs=(
            Design("large teams of 14", "careqic", {"team_size": 14, "representative_seats": 5}),
            Design("small teams of 4", "careqic", {"team_size": 4, "representative_seats": 1}),
        ),
        differs=("team_size", "representative_seats"),
        weeks=78,
        root_seed=307,
        primary=Difference(
            "voices_heard",
            "of every 100 representatives attending over {weeks} weeks, those heard",
            at_end(voices_heard),
            PER_100,
            "{v}",
            "{n} {dir} of every 100 attending were heard",
            _minimum("voice_share", 0.05),
            claim=1,
            claim_text="small groups hear more of their representatives",
        ),
        others=(
            Difference(
                "reps_heard",
                "times a representative was heard in {weeks} weeks",
                run_total(column("reps_heard")),
                COUNT,
                "{v} times",
                "representatives were heard {n} {dir} times",
                25,  # about one more voice per team: an assumption, the study declares none
                short="times",
            ),
        ),
        charts=(
            LessonChart(
                "heard",
                "Representatives heard, of those attending",
                "per 100, so far",
                voices_heard,
                PER_100,
                (0, 1),
            ),
            LessonChart(
                "voices",
                "Times a representative was heard",
                "times, so far",
                cumulative(column("reps_heard")),
                COUNT,
                short="times",
            ),
        ),
        why=_why_group_size,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 7: small groups hear more voices. It sets "
                "teams of 14 with five representatives against teams of 4 with one."
            ),
            how_it_works=(
                "A meeting has only so many turns to speak, whatever its size. Staff tend to "
                "speak first. In a small group most people who want to speak are heard. In a "
                "large one a few do the talking. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart: the share of attending representatives who were "
                "heard.",
                "The large teams have more representatives. Count the voices heard in all, "
                "not only the share.",
            ),
            things_to_try=(
                "On the Compare page, try teams of 6 with two seats, as in CaReQIC.",
                "In class, run one discussion in groups of 5 and one as a whole room. Who spoke?",
            ),
        ),
    ),
    Lesson(
        key="crisis",
        number=8,
        short="8. Crisis and recovery",
        title="A crisis erodes trust; recovery lags; a coproduced recovery is faster",
        fact=(
            "Stylized fact 8: a crisis switch to command and control erodes trust and capacity, "
            "and recovery lags. A coproduced recovery is faster than a top-down one."
        ),
        question=(
            f"A crisis in week {_CRISIS.crisis_week} switches every clinic to command and "
            f"control for {_CRISIS.crisis_duration} weeks. Then managers lead the recovery "
            "alone, or with patients as partners. Six months after the crisis, where do "
            "representatives trust providers more?"
        ),
        choices=(
            Choice("After the coproduced recovery", UP),
            Choice("The same after both", SAME),
            Choice("After the top-down recovery", DOWN),
        ),
        designs=(
            Design("a top-down recovery", "crisis", {"recovery": "top_down"}),
            Design("a coproduced recovery", "crisis", {"recovery": "coproduced"}),
        ),
        differs=("recovery",),
        weeks=130,
        root_seed=308,
        shared=(
            f"Both face the same crisis, from week {_CRISIS.crisis_week} for "
            f"{_CRISIS.crisis_duration} weeks."
        ),
        primary=Difference(
            "representative_trust_recovery",
            lambda result: (
                f"representatives' trust in providers in week {after_crisis(result)}, six months "
                "after the crisis"
            ),
            at_week(column("representative_trust"), after_crisis),
            OUT_OF_10,
            "{v} out of 10",
            "trust was {n} {dir} out of 10",
            0.05,  # the study's margin: five points of representatives' trust
            claim=1,
            claim_text="a coproduced recovery rebuilds representatives' trust faster",
        ),
        others=(
            Change(
                "patient_trust_crisis",
                "patients' trust in providers",
                column("patient_trust"),
                crisis_weeks,
                0,
                OUT_OF_10,
                "{v} out of 10",
                "it {dir} by {n} out of 10",
                0.02,  # the study's margin: two points of patients' trust
                claim=-1,
                claim_text="a crisis erodes patients' trust",
            ),
            _with(
                PATIENT_TRUST,
                minimum=0.01,  # the study's margin for the recoveries: one point
                claim=1,
                claim_text="a coproduced recovery leaves patients' trust higher",
            ),
            Difference(
                "changes_in_use_recovery",
                lambda result: f"changes in use in week {after_crisis(result)}",
                at_week(column("changes_in_use"), after_crisis),
                COUNT,
                "{v} changes",
                "{n} {dir} changes were in use",
                _minimum("changes_adopted", 5),
                claim=1,
                claim_text="a coproduced recovery rebuilds capacity faster",
                short="changes",
            ),
        ),
        charts=(
            LessonChart(
                "rep-trust",
                "Representatives' trust in providers",
                "out of 10",
                column("representative_trust"),
                OUT_OF_10,
                (0, 1),
                _crisis_markers,
            ),
            LessonChart(
                "trust",
                "Patients' trust in providers",
                "out of 10",
                column("patient_trust"),
                OUT_OF_10,
                (0, 1),
                _crisis_markers,
            ),
            LessonChart(
                "in-use",
                "Changes in use",
                "changes",
                column("changes_in_use"),
                COUNT,
                markers=_crisis_markers,
                short="changes",
            ),
        ),
        why=_why_crisis,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 8: a crisis erodes trust, and a coproduced "
                "recovery is faster. Both designs face the same crisis. They differ only in "
                "how they recover."
            ),
            how_it_works=(
                "In the crisis, managers take every decision and the teams stop meeting. "
                "Visits are strained and changes fall out of use. After it, a top-down "
                "recovery keeps managers in charge. A coproduced one shares power with "
                "patients again. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart between the dashed lines, then after the second.",
                "Patients' trust moves slowly. Six months may be too soon to see a difference.",
                "Both lines are the same until the crisis ends. The runs share their chance "
                "events.",
            ),
            things_to_try=(
                "On the Explore page, pick the crisis preset and play it week by week.",
                "Ask the class how their own service recovered after a crisis. Who decided?",
            ),
        ),
    ),
    Lesson(
        key="trust",
        number=9,
        short="9. Trust takes trust",
        title="Trust is needed for coproduction and produced by it",
        fact=(
            "Stylized fact 9: trust is needed for coproduction and produced by it. From very "
            "low initial trust the loop may never take off."
        ),
        question=(
            "In one design patients start with very low trust in providers. In the other they "
            "start with fair trust. Over two years, how many of patients' own ideas get "
            "adopted?"
        ),
        choices=(
            Choice("Fewer from low trust", UP),
            Choice("About as many either way", SAME),
            Choice("More from low trust: there is more to fix", DOWN),
        ),
        designs=(
            Design(
                "low starting trust", "careqic", {"historical_trust": 0.55, "initial_trust": 0.15}
            ),
            Design(
                "high starting trust", "careqic", {"historical_trust": 0.55, "initial_trust": 0.6}
            ),
        ),
        differs=("initial_trust",),
        weeks=104,
        root_seed=309,
        primary=_with(PATIENT_IDEAS, claim=1, claim_text="trust is needed for coproduction"),
        others=(
            _with(
                PATIENT_TRUST,
                claim=1,
                claim_text="where trust starts still matters two years on",
            ),
            Change(
                "patient_trust_change",
                "patients' trust in providers",
                column("patient_trust"),
                lambda result: (0, int(result.weeks[-1])),
                0,
                OUT_OF_10,
                "{v} out of 10",
                "it {dir} by {n} out of 10",
                _minimum("patient_trust", 0.02),
            ),
        ),
        charts=(
            IDEAS_CHART,
            LessonChart(
                "trust",
                "Patients' trust in providers",
                "out of 10",
                column("patient_trust"),
                OUT_OF_10,
                (0, 1),
            ),
            LessonChart(
                "seated",
                "Representatives on the teams",
                "representatives",
                column("representatives"),
                COUNT,
                short="representatives",
            ),
        ),
        why=_why_trust,
        info=Info(
            what_it_is=(
                "This lesson tests stylized fact 9: trust is needed for coproduction, and "
                "produced by it. It sets very low starting trust against fair starting trust, "
                "over two years."
            ),
            how_it_works=(
                "Patients accept a seat and speak up more readily when they trust providers. "
                "Good experiences in care and in meetings build trust. So trust and "
                "coproduction can feed each other. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart: patients' ideas adopted, from each start.",
                "Look at whether trust grows from a low start. That is trust being produced.",
                "A pair of designs cannot show a tipping point by itself. That needs many "
                "starting levels.",
            ),
            things_to_try=(
                "On the Explore page, set patients' initial trust very low and play.",
                "On the Compare page, try three starting levels of trust. Is the rise smooth?",
            ),
        ),
    ),
    Lesson(
        key="careqic",
        number=None,
        short="The CaReQIC story",
        title="The CaReQIC story: patients as partners in HIV care",
        fact=(
            "The CaReQIC evaluation reports patient input used and valued, stigma falling, "
            "empathy and trust growing, and changes staff had not thought of."
        ),
        question=(
            "CaReQIC put people living with HIV on every team as partners. The staff-led "
            "version has no patients on its teams. What do the CaReQIC teams change?"
        ),
        choices=(
            Choice("More of what staff had not thought of, like confidentiality", UP),
            Choice("The same things as staff-led teams", SAME),
            Choice("Fewer of those things", DOWN),
        ),
        designs=(
            Design("staff-led teams", "staff-led"),
            Design("CaReQIC", "careqic"),
        ),
        differs=("representative_seats", "team_size", "power_sharing", "feedback_loop"),
        weeks=78,
        root_seed=310,
        primary=Difference(
            "unthought_share",
            "of every 100 changes adopted in {weeks} weeks, those staff had not thought of",
            at_end(unthought),
            PER_100,
            "{v}",
            "{n} {dir} of every 100 changes adopted were ones staff had not thought of",
            0.05,  # the study's margin: one change in twenty
            claim=1,
            claim_text="CaReQIC makes changes staff had not thought of",
        ),
        others=(
            _with(
                KEY_STIGMA,
                claim=-1,
                claim_text="stigma falls further with patients as partners",
            ),
            Difference(
                "provider_regard",
                "providers' regard for patients after {weeks} weeks",
                at_end(column("provider_regard")),
                OUT_OF_10,
                "{v} out of 10",
                "regard was {n} {dir} out of 10",
                _minimum("provider_regard", 0.02),
                claim=1,
                claim_text="empathy grows more with patients as partners",
            ),
            _with(
                PATIENT_TRUST,
                claim=1,
                claim_text="patients' trust grows more with patients as partners",
            ),
            RETENTION,
        ),
        charts=(
            LessonChart(
                "unthought",
                "Changes staff had not thought of",
                "per 100 changes adopted",
                unthought,
                PER_100,
                (0, 1),
            ),
            _stigma_chart(key_mean("stigma"), "Provider stigma toward the key populations"),
            LessonChart(
                "regard",
                "Providers' regard for patients",
                "out of 10",
                column("provider_regard"),
                OUT_OF_10,
                (0, 1),
            ),
            RETENTION_CHART,
        ),
        why=_why_careqic,
        info=Info(
            what_it_is=(
                "This lesson retells the CaReQIC story. CaReQIC was a Caribbean HIV care "
                "collaborative of 26 teams, with people living with HIV as partners. It is set "
                "against the same teams run by staff alone."
            ),
            how_it_works=(
                "Representatives from the key populations join each team after preparatory "
                "sessions with ground rules. They propose changes to what matters to their "
                "group. Working side by side as equals also changes how providers see "
                "patients. " + RUNS
            ),
            things_to_notice=(
                "Watch the highlighted chart: the share of changes staff had not thought of.",
                "The real teams took names off sign-in sheets and opened the pharmacy longer. "
                "Those are the kind of changes counted here.",
                "Stigma, regard and trust each get their own sentence. Some may move more than "
                "others.",
            ),
            things_to_try=(
                "On the Explore page, run CaReQIC and watch the changes chart by who proposed "
                "them.",
                "Ask the class which change at their own clinic came from a patient.",
            ),
        ),
    ),
)
LESSON_BY_KEY: dict[str, Lesson] = {lesson.key: lesson for lesson in LESSONS}


def all_infos() -> dict[str, Info]:
    """Every Info in the app, by where it is shown: the pages by name ("explore", ...), and
    each lesson's as "lesson <key>"."""
    return dict(PAGES) | {f"lesson {lesson.key}": lesson.info for lesson in LESSONS}
