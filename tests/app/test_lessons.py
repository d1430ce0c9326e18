"""The Teach page's lessons: designs that differ only where a lesson says, the sequential rule
and its common random numbers, narration read from the runs, plain words and plain units,
the download, and the page itself (predict, run, explain, stale results, presenter mode).

Most runs here are small (four small sites, a few weeks, a short rule) or not runs at all (a
runner that returns made-up frames); one real lesson runs once, at full size."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from dataclasses import replace

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from app import lessons, state, teach
from app.info import long_sentences, plain_words_problems
from app.lessons import (
    COUNT,
    DOWN,
    LESSON_BY_KEY,
    LESSONS,
    MAX_REPLICATIONS,
    MINUS,
    OUT_OF_10,
    PER_100,
    PER_1000,
    RETENTION,
    SAME,
    UNCLEAR,
    UP,
    Lesson,
    Rule,
    add_replications,
    designs_sentence,
    effect_lines,
    moved,
    narration,
    number,
    plain_effect,
    run_lesson,
    run_replications,
    runs_csv,
    shown_digits,
    support_lines,
)
from app.pairs import PairResult
from app.vega import VegaLiteLive
from coprod_sim import CoproductionModel, provenance
from coprod_sim.experiments import replication_seed
from tests.app.test_info import texts_in
from tests.conftest import SMALL_SITES

# Teams of 14 (the group-size lesson) need more providers than SMALL_SITES have.
SITES = [{**site, "providers": 10} for site in SMALL_SITES]
#: Weeks a small run needs: past the crisis and its six months, past the end of support.
SMALL_WEEKS = {"crisis": 70, "sustained": 60}
SHORT = Rule(first=2, batch=1, cap=4)
KEYS = [lesson.key for lesson in LESSONS]


def small_lesson(key: str, weeks: int | None = None, rule: Rule = SHORT) -> Lesson:
    """The lesson on four small sites, for a few weeks, with a short rule."""
    lesson = LESSON_BY_KEY[key]
    designs = tuple(replace(d, settings={**d.settings, "sites": SITES}) for d in lesson.designs)
    return replace(lesson, designs=designs, weeks=weeks or SMALL_WEEKS.get(key, 30), rule=rule)


def assert_same_runs(first: PairResult, second: PairResult) -> None:
    assert first.replications == second.replications
    for tables in ("collaborative", "groups"):
        for mine, theirs in zip(getattr(first, tables), getattr(second, tables), strict=True):
            for a, b in zip(mine, theirs, strict=True):
                pd.testing.assert_frame_equal(a, b)


def with_frames(result: PairResult, change: Callable[[int, int, pd.DataFrame], None]) -> PairResult:
    """A copy of ``result`` whose collaborative frames ``change(design, replication, frame)``
    has altered in place."""
    frames = tuple([f.copy() for f in design] for design in result.collaborative)
    for d, design in enumerate(frames):
        for r, frame in enumerate(design):
            change(d, r, frame)
    return replace(result, collaborative=frames)


@pytest.fixture(scope="module")
def small_runs() -> dict[str, tuple[Lesson, PairResult]]:
    """Every lesson, small, two paired replications (about 4 s in all)."""
    runs = {}
    for key in KEYS:
        lesson = small_lesson(key)
        runs[key] = (lesson, run_replications(lesson, 0, 2))
    return runs


@pytest.fixture(scope="module")
def real() -> tuple[Lesson, PairResult]:
    """One real lesson at full size under its own rule (the quickest: about 3 s)."""
    lesson = LESSON_BY_KEY["inclusion"]
    return lesson, run_lesson(lesson)


# --- the lessons and their designs -------------------------------------------------------------
def test_there_are_ten_lessons_with_unique_keys_and_every_chart_and_measure_named() -> None:
    assert len(LESSONS) == 10 and set(LESSON_BY_KEY) == set(KEYS) and len(set(KEYS)) == 10
    assert [lesson.number for lesson in LESSONS] == [*range(1, 10), None]
    fixed = {"lesson", "design", "design_name", "scenario", "scenario_sha256", "root_seed"}
    fixed |= {"replication", "seed", "weeks"}
    for lesson in LESSONS:
        keys = [m.key for m in lesson.measures()]
        assert len(set(keys)) == len(keys) and not set(keys) & fixed, lesson.key
        assert len({c.key for c in lesson.charts}) == len(lesson.charts) >= 2, lesson.key
        # The choices cover the three answers the primary interval can give, once each.
        assert sorted(c.when for c in lesson.choices) == sorted((UP, SAME, DOWN)), lesson.key


@pytest.mark.parametrize("key", KEYS)
def test_the_two_designs_differ_only_in_the_settings_the_lesson_names(key: str) -> None:
    lesson = LESSON_BY_KEY[key]
    a, b = (s.to_dict() for s in lesson.scenarios())
    # The name and the preset's description are labels: the model never reads them.
    labels = {"name", "description"}
    differ = {f for f in set(a) | set(b) if f not in labels and a.get(f) != b.get(f)}
    assert differ == set(lesson.differs)
    assert a["name"] != b["name"]


def test_a_small_lesson_still_differs_only_where_it_says() -> None:
    for key in KEYS:
        a, b = (s.to_dict() for s in small_lesson(key).scenarios())
        differ = {f for f in set(a) | set(b) if f not in {"name", "description"} and a[f] != b[f]}
        assert differ == set(LESSON_BY_KEY[key].differs), key
        assert a["sites"] == b["sites"]


# --- the sequential rule, with made-up runs ---------------------------------------------------
class FakeRunner:
    """Runs no model: returns frames whose primary value (patient-originated changes, the
    tokenism lesson's) gives B − A = ``gap(r)`` in replication r, and records its calls."""

    def __init__(self, lesson: Lesson, gap: Callable[[int], float]) -> None:
        self.lesson, self.gap = lesson, gap
        self.scenarios = lesson.scenarios()
        self.calls: list[tuple[int, int]] = []

    def __call__(
        self,
        lesson: Lesson,
        start: int,
        count: int,
        *,
        progress: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> PairResult:
        assert lesson is self.lesson
        self.calls.append((start, count))
        frames: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
        for i, r in enumerate(range(start, start + count)):
            for d, ideas in enumerate((100.0, 100.0 + self.gap(r))):
                frames[d].append(
                    pd.DataFrame({"week": [0, 1, 2], "patient_originated": [0.0, r, ideas]})
                )
            if progress is not None:
                progress(i + 1)
        return PairResult(
            names=lesson.names,
            scenarios=self.scenarios,
            weeks=np.array([0, 1, 2]),
            root_seed=lesson.root_seed,
            collaborative=frames,
            groups=([pd.DataFrame()] * count, [pd.DataFrame()] * count),
        )


def unclear(r: int) -> float:
    return 50.0 if r % 2 == 0 else -50.0  # B − A swings both ways, far past ±5 changes


def clear(r: int) -> float:
    return 100.0 + r % 3


def test_an_unclear_answer_adds_batches_up_to_the_cap_reporting_progress() -> None:
    lesson = replace(LESSON_BY_KEY["tokenism"], rule=Rule(first=3, batch=2, cap=8))
    runner = FakeRunner(lesson, unclear)
    seen: list[tuple[int, int]] = []
    result = run_lesson(lesson, runner=runner, progress=lambda *done: seen.append(done))
    assert runner.calls == [(0, 3), (3, 2), (5, 2), (7, 1)]  # the last batch cut at the cap
    assert result.replications == 8
    assert lesson.primary.effect(result).direction == UNCLEAR
    assert [done for done, _ in seen] == list(range(1, 9))
    assert [planned for _, planned in seen] == [3, 3, 3, 5, 5, 7, 7, 8]
    assert all(done <= planned for done, planned in seen)
    # The replications come in order, each once.
    assert [f["patient_originated"].iloc[1] for f in result.collaborative[0]] == list(range(8))
    assert "still unclear after 8 replications" in lessons.overview(lesson, result)
    line = support_lines(lesson, lesson.primary.effect(result), None)[0]
    assert line.startswith("The runs do not yet support any of the choices")


def test_a_clear_answer_stops_after_the_first_batch() -> None:
    lesson = replace(LESSON_BY_KEY["tokenism"], rule=Rule(first=3, batch=2, cap=8))
    runner = FakeRunner(lesson, clear)
    seen: list[tuple[int, int]] = []
    result = run_lesson(lesson, runner=runner, progress=lambda *done: seen.append(done))
    assert runner.calls == [(0, 3)] and result.replications == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]
    effect = lesson.primary.effect(result)
    assert effect.direction == UP and effect.appeared
    assert "unclear" not in lessons.overview(lesson, result)
    assert support_lines(lesson, effect, 0) == [
        "The runs support: \u201cMany more with partnership\u201d.",
        "The class predicted this too.",
    ]
    assert support_lines(lesson, effect, 2)[1] == (
        "The class predicted \u201cMore with consultation\u201d, which these runs do not support."
    )


def test_more_replications_add_one_batch_and_stop_at_the_maximum() -> None:
    lesson = replace(LESSON_BY_KEY["tokenism"], rule=Rule(first=3, batch=5, cap=8))
    runner = FakeRunner(lesson, unclear)
    seen: list[tuple[int, int]] = []
    result = run_lesson(lesson, runner=runner)
    more = add_replications(lesson, result, runner=runner, progress=lambda *d: seen.append(d))
    assert runner.calls[-1] == (8, 5) and more.replications == 13
    assert seen == [(9, 13), (10, 13), (11, 13), (12, 13), (13, 13)]
    near = runner(lesson, 0, MAX_REPLICATIONS - 2)
    full = add_replications(lesson, near, runner=runner)
    assert runner.calls[-1] == (MAX_REPLICATIONS - 2, 2)
    assert full.replications == MAX_REPLICATIONS
    calls = len(runner.calls)
    assert add_replications(lesson, full, runner=runner) is full
    assert len(runner.calls) == calls  # nothing run past the maximum


def test_a_cancelled_lesson_stops_with_interrupted_error() -> None:
    lesson = small_lesson("tokenism", weeks=3)
    with pytest.raises(InterruptedError):
        run_lesson(lesson, cancelled=lambda: True)


# --- common random numbers and determinism, with small real runs -------------------------------
def test_batches_added_later_are_the_replications_of_one_longer_run() -> None:
    lesson = small_lesson("tokenism", weeks=12)
    calls: list[tuple[int, int]] = []

    def recording(lesson: Lesson, start: int, count: int, **kwargs: object) -> PairResult:
        calls.append((start, count))
        return run_replications(lesson, start, count, **kwargs)  # type: ignore[arg-type]

    result = run_lesson(lesson, runner=recording)
    result = add_replications(lesson, result, runner=recording)
    result = add_replications(lesson, result, runner=recording)
    assert [start for start, _ in calls][-2:] == [result.replications - 2, result.replications - 1]
    assert_same_runs(result, run_replications(lesson, 0, result.replications))
    # Replication r of both designs is the model seeded replication_seed(root_seed, r).
    last = result.replications - 1
    for d, scenario in enumerate(lesson.scenarios()):
        seed = replication_seed(lesson.root_seed, last)
        model = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False)
        model.run_for(lesson.weeks)
        pd.testing.assert_frame_equal(result.collaborative[d][last], model.outputs.collaborative())
    assert not result.collaborative[0][0].equals(result.collaborative[0][1])


def test_the_same_lesson_run_twice_gives_the_same_frames() -> None:
    lesson = small_lesson("feedback", weeks=15)
    first = run_lesson(lesson)
    second = run_lesson(lesson)
    assert_same_runs(first, second)
    assert narration(lesson, first) == narration(lesson, second)
    other = run_lesson(replace(lesson, root_seed=lesson.root_seed + 1))
    assert not other.collaborative[1][0].equals(first.collaborative[1][0])


# --- the narration is read from the runs ---------------------------------------------------
def test_the_narration_quotes_the_numbers_in_the_frames() -> None:
    lesson = small_lesson("tokenism")
    result = run_replications(lesson, 0, 3)
    before = " ".join(narration(lesson, result))

    def planted(d: int, r: int, frame: pd.DataFrame) -> None:
        frame["patient_originated"] = 1234.0 if d == 1 else 200.0 + 10 * r

    after = narration(lesson, with_frames(result, planted))
    text = " ".join(after)
    weeks = lesson.weeks
    # A: 200, 210, 220 (mean 210); B: 1,234. B − A = 1,034, 1,024, 1,014: mean 1,024, sd 10,
    # 95% interval 1,024 ± 4.303 × 10 / √3 = 999.2 to 1,048.8.
    assert (
        f"Patient-originated changes adopted in {weeks} weeks: 1,234 changes with partnership "
        "and 210 changes with consultation." in after
    )
    assert (
        "In these runs the model shows that partnership gets more of patients' own ideas "
        "adopted than tokenism. 1,024 more patient-originated changes were adopted with "
        "partnership than with consultation (95% interval 999 to 1,049 more)." in after
    )
    assert (
        "In the highlighted chart, from the start the red line (partnership) stays above the "
        "blue line (consultation). It ends at 1,234 changes, against 210." in after
    )
    assert "1,234" in text and "1,234" not in before and "1,024" not in before
    assert after[0] == narration(lesson, result)[0]  # the same replications, weeks and seed


def test_identical_frames_show_no_effect_and_the_support_lines_say_so(
    small_runs: dict[str, tuple[Lesson, PairResult]],
) -> None:
    lesson, result = small_runs["tokenism"]
    twins = replace(
        result,
        collaborative=(result.collaborative[0], copy.deepcopy(result.collaborative[0])),
        groups=(result.groups[0], copy.deepcopy(result.groups[0])),
    )
    effect = lesson.primary.effect(twins)
    assert effect.direction in (SAME, UNCLEAR)
    assert effect.mean == 0 and effect.appeared is False
    guess = next(i for i, c in enumerate(lesson.choices) if c.when == UP)
    lines = support_lines(lesson, effect, guess)
    if effect.direction == SAME:
        same = next(c for c in lesson.choices if c.when == SAME)
        assert lines[0] == f"The runs support: \u201c{same.text}\u201d."
        assert lines[1].endswith("which these runs do not support.")
    else:
        assert lines[0].startswith("The runs do not yet support any of the choices")
    text = narration(lesson, twins)
    for measure in lesson.measures():
        if measure.claim:
            assert any(f"does not show that {measure.claim_text}" in s for s in text), measure.key
    assert not any("the model shows that" in s for s in text)
    assert any("end close together" in s for s in text)


def test_a_change_within_one_design_is_measured_from_its_own_weeks(
    small_runs: dict[str, tuple[Lesson, PairResult]],
) -> None:
    lesson, result = small_runs["trust"]
    change = lesson.others[1]
    assert isinstance(change, lessons.Change) and change.design == 0

    def planted(d: int, r: int, frame: pd.DataFrame) -> None:
        frame["patient_trust"] = np.linspace(0.1, 0.7 + 0.02 * r, len(frame))

    planted_result = with_frames(result, planted)
    effect = change.effect(planted_result)
    # Each replication rises from 0.1 to 0.70 or 0.72: by 0.61 ± 12.7 × 0.01 = 0.48 to 0.74.
    assert effect.levels == pytest.approx((0.1, 0.71))
    assert effect.direction == UP
    assert effect_lines(effect, planted_result) == [
        f"With low starting trust, patients' trust in providers went from 1.0 out of 10 in week "
        f"0 to 7.1 out of 10 in week {lesson.weeks}.",
        "It rose by 6.1 out of 10 (95% interval 4.8 to 7.4).",
    ]


# --- plain words ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_every_text_a_lesson_shows_is_in_plain_words(
    key: str, small_runs: dict[str, tuple[Lesson, PairResult]]
) -> None:
    lesson = LESSON_BY_KEY[key]
    small, result = small_runs[key]
    effect = small.primary.effect(result)
    texts = {
        "title": lesson.title,
        "fact": lesson.fact,
        "question": lesson.question,
        "designs": designs_sentence(lesson),
        **{f"choice {i}": c.text for i, c in enumerate(lesson.choices)},
        **{f"info {i}": t for i, t in enumerate(lesson.info.texts())},
        **{f"narration {i}": t for i, t in enumerate(narration(small, result))},
        **{
            f"support {p}": " ".join(support_lines(small, effect, p))
            for p in (None, *range(len(lesson.choices)))
        },
    }
    problems = {where: plain_words_problems(text) for where, text in texts.items()}
    assert not {where: found for where, found in problems.items() if found}
    too_long = {where: long_sentences(text) for where, text in texts.items()}
    assert not {where: found for where, found in too_long.items() if found}
    assert all("_" not in text for text in texts.values())  # no field names, even short ones


def test_the_full_size_narration_is_in_plain_words(real: tuple[Lesson, PairResult]) -> None:
    lesson, result = real
    text = narration(lesson, result)
    assert text[0].startswith(f"{result.replications} paired replications of 78 weeks")
    assert not [p for line in text for p in plain_words_problems(line)]
    assert not [s for line in text for s in long_sentences(line)]


def test_the_checker_would_catch_code_names_in_a_narration() -> None:
    # The check above can fail: the same checker flags what a careless narration might say.
    for bad in ("See feedback.py.", "patient_originated rose.", "Set in app/lessons.py."):
        assert plain_words_problems(bad), bad


# --- plain units ------------------------------------------------------------------------------
def test_numbers_are_shown_in_plain_units() -> None:
    assert number(0.476, OUT_OF_10) == "4.8"
    assert OUT_OF_10.short == "out of 10" and PER_1000.short == "per 1,000"
    assert number(0.0123, PER_1000) == "12" and number(0.2345, PER_100) == "23"
    assert number(0.83, PER_1000) == "830" and number(1, PER_1000) == "1,000"
    assert number(1234.4, COUNT) == "1,234"
    assert number(-0.03, OUT_OF_10) == f"{MINUS}0.3"
    assert number(0.05, PER_100, signed=True) == "+5"
    assert number(-0.05, PER_100, signed=True) == f"{MINUS}5"
    assert number(0.0004, OUT_OF_10, signed=True) == "0.0"  # no sign on what shows as 0
    assert number(float("nan"), OUT_OF_10) == "unknown"
    assert moved(-0.23, PER_100) == "fell by 23" and moved(0.05, PER_100) == "rose by 5"
    assert moved(0.001, PER_100) == "did not change"
    # More digits only where a value that is not 0 would show as 0, two at most.
    assert shown_digits(OUT_OF_10, [0.3]) == 1
    assert shown_digits(OUT_OF_10, [0.3, 0.004]) == 2
    assert shown_digits(OUT_OF_10, [0.00001]) == 3
    assert shown_digits(COUNT, [0.0, 12.0]) == 0


def fake_result(column: str, a: list[float], b: list[float]) -> PairResult:
    """Two designs with one end value per replication in ``column``."""
    lesson = LESSON_BY_KEY["tokenism"]
    frames = tuple(
        [pd.DataFrame({"week": [0, 1], column: [0.5, x]}) for x in values] for values in (a, b)
    )
    return PairResult(
        names=lesson.names,
        scenarios=lesson.scenarios(),
        weeks=np.array([0, 1]),
        root_seed=1,
        collaborative=frames,
        groups=([], []),
    )


def test_an_interval_of_shares_never_goes_past_1000_per_1000() -> None:
    # B − A = 1 and 0: the t interval on one degree of freedom is 0.5 ± 6.35.
    result = fake_result("retention", [0.0, 0.0], [1.0, 0.0])
    effect = RETENTION.effect(result)
    assert (effect.low, effect.high) == (-1.0, 1.0)
    assert effect.direction == UNCLEAR
    lines = effect_lines(effect, result)
    assert lines[1] == (
        f"No clear difference: the difference, {MINUS}1,000 to +1,000 per 1,000, includes no "
        "change."
    )
    assert plain_effect(effect, result) == f"+500 per 1,000 ({MINUS}1,000 to +1,000)"
    assert "6,8" not in " ".join(lines) and "5,8" not in " ".join(lines)


def test_a_clear_share_difference_is_said_per_1000_with_its_interval() -> None:
    result = fake_result("retention", [0.80, 0.81, 0.79], [0.85, 0.87, 0.85])
    effect = RETENTION.effect(result)
    assert effect.direction == UP
    first, verdict = effect_lines(effect, result)
    assert first == (
        "Patients kept in care after 1 weeks: 857 per 1,000 with partnership and 800 per "
        "1,000 with consultation."
    )
    # B − A = 50, 60, 60 per 1,000: mean 56.7, sd 5.77, so 56.7 ± 4.303 × 3.33 = 42 to 71.
    assert verdict == (
        "57 more people per 1,000 were kept in care with partnership than with consultation "
        "(95% interval 42 to 71 more)."
    )


def test_a_change_within_a_design_is_cut_at_10_out_of_10() -> None:
    lesson = LESSON_BY_KEY["crisis"]
    change = lesson.others[0]
    assert isinstance(change, lessons.Change) and change.unit is OUT_OF_10
    # Made-up trust jumping from 0 to 1 or staying: the t interval would reach ±6.
    weeks = np.arange(0, 50)
    frames = [
        pd.DataFrame({"week": weeks, "patient_trust": np.where(weeks >= 42, jump, 0.0)})
        for jump in (1.0, 0.0)
    ]
    result = PairResult(
        names=lesson.names,
        scenarios=lesson.scenarios(),
        weeks=weeks,
        root_seed=1,
        collaborative=(frames, frames),
        groups=([], []),
    )
    effect = change.effect(result)
    assert (effect.low, effect.high) == (-1.0, 1.0)
    assert f"{MINUS}10.0 to +10.0 out of 10" in " ".join(effect_lines(effect, result))


def test_a_level_that_cannot_be_computed_is_said_to_be_unknown() -> None:
    # A share with nothing to share (no changes adopted yet): its level is NaN, which
    # number() shows as "unknown"; effect_lines formats every level with moved() too.
    lesson = small_lesson("careqic", weeks=2)
    result = run_replications(lesson, 0, 2)
    text = " ".join(narration(lesson, result))
    assert "unknown" in text


# --- the download -----------------------------------------------------------------------------
def test_the_download_has_a_row_per_design_and_replication_and_says_what_ran(
    real: tuple[Lesson, PairResult],
) -> None:
    lesson, result = real
    data = runs_csv(lesson, result)
    header = [line for line in data.decode().splitlines() if line.startswith("# ")]
    said = dict(line[2:].split(": ", 1) for line in header)
    assert said["root_seed"] == str(lesson.root_seed) == str(result.root_seed)
    assert said["replications"] == str(result.replications)
    assert said["weeks"] == str(lesson.weeks)
    assert said["coprod_sim"] == provenance.package_version()
    a, b = lesson.scenarios()
    assert said["scenario_sha256 A"] == provenance.scenario_sha256(a)
    assert said["scenario_sha256 B"] == provenance.scenario_sha256(b)
    assert said["lesson"].startswith(f"{lesson.key}: ")
    assert "deliberate" in said["design B"] and "convenience" in said["design A"]

    table = pd.read_csv(io.BytesIO(data), comment="#")
    measures = [m.key for m in lesson.measures()]
    assert list(table.columns) == [
        "lesson",
        "design",
        "design_name",
        "scenario",
        "scenario_sha256",
        "root_seed",
        "replication",
        "seed",
        "weeks",
        *measures,
    ]
    n = result.replications
    assert len(table) == 2 * n
    assert table.groupby("design")["replication"].apply(list).to_dict() == {
        "A": list(range(n)),
        "B": list(range(n)),
    }
    assert list(table["seed"]) == [replication_seed(lesson.root_seed, r) for r in range(n)] * 2
    assert set(table["design_name"]) == set(lesson.names)
    assert list(table["scenario_sha256"].unique()) == [
        said["scenario_sha256 A"],
        said["scenario_sha256 B"],
    ]
    for d, letter in enumerate("AB"):
        rows = table[table["design"] == letter]
        for m in lesson.measures():
            np.testing.assert_allclose(rows[m.key].to_numpy(), m.values(result, d), err_msg=m.key)


def test_the_real_lesson_follows_its_rule(real: tuple[Lesson, PairResult]) -> None:
    lesson, result = real
    rule = lesson.rule
    assert rule.first <= result.replications <= rule.cap
    first = lesson.primary.effect(
        replace(
            result,
            collaborative=tuple(f[: rule.first] for f in result.collaborative),
            groups=tuple(g[: rule.first] for g in result.groups),
        )
    )
    # Stopped after the first batch exactly when its interval was already clear.
    assert (result.replications == rule.first) == (first.direction != UNCLEAR)


# --- the Teach page ---------------------------------------------------------------------------
def buttons(rc: object, css: str) -> list[v.Btn]:
    return [w for w in rc.find(v.Btn).widgets if css in (w.class_ or "").split()]  # type: ignore[attr-defined]


def run_button(rc: object) -> v.Btn:
    return rc.find(v.Btn, children=["Run this lesson"]).widget  # type: ignore[attr-defined]


def more_button(rc: object, lesson: Lesson) -> v.Btn:
    label = f"More replications (+{lesson.rule.batch})"
    return rc.find(v.Btn, children=[label]).widget  # type: ignore[attr-defined]


def shown(rc: object, css: str) -> list[str]:
    """The texts inside the div of class ``css``; empty when there is none."""
    found = rc.find(v.Html, class_=css).widgets  # type: ignore[attr-defined]
    return [t for w in found for t in texts_in(w)]


def charts_drawn(rc: object) -> list[str]:
    return [
        w.class_
        for w in rc.find(v.Html).widgets  # type: ignore[attr-defined]
        if "coprod-chart" in (w.class_ or "").split()
    ]


def render_teach() -> object:
    _, rc = solara.render(teach.Page(), handle_error=False)
    return rc


@pytest.fixture
def injected(monkeypatch: pytest.MonkeyPatch) -> Lesson:
    """The inclusion lesson, small, in the lessons the page runs."""
    assert teach.LESSON_BY_KEY is LESSON_BY_KEY  # the page looks lessons up in this dict
    lesson = small_lesson("inclusion", weeks=20)
    monkeypatch.setitem(LESSON_BY_KEY, "inclusion", lesson)
    return lesson


@pytest.mark.usefixtures("session")
def test_the_page_has_ten_lessons_and_runs_only_after_a_prediction() -> None:
    rc = render_teach()
    chooser = buttons(rc, "lesson-button")
    assert [b.children for b in chooser] == [[lesson.short] for lesson in LESSONS]
    assert [b.outlined for b in chooser] == [False] + [True] * 9  # the first is chosen
    assert run_button(rc).disabled
    assert "Pick a prediction first." in shown(rc, "lesson-hint")
    choices = buttons(rc, "lesson-choice")
    assert [b.children for b in choices] == [[c.text] for c in LESSONS[0].choices]
    choices[1].click()
    assert teach.predictions.value == {LESSONS[0].key: 1}
    assert not run_button(rc).disabled
    assert not shown(rc, "lesson-hint")
    assert buttons(rc, "lesson-choice-picked")[0].children == [LESSONS[0].choices[1].text]
    assert more_button(rc, LESSONS[0]).disabled  # nothing to add to yet
    # Another lesson waits for its own prediction.
    chooser[3].click()
    assert teach.chosen.value == LESSONS[3].key
    assert run_button(rc).disabled
    assert shown(rc, "lesson-fact") == [LESSONS[3].fact]
    assert shown(rc, "lesson-designs") == [designs_sentence(LESSONS[3])]
    assert not charts_drawn(rc) and not shown(rc, "lesson-narration")


@pytest.mark.usefixtures("session")
def test_a_run_is_explained_and_kept_while_another_lesson_is_shown(injected: Lesson) -> None:
    lesson = injected
    teach.chosen.set(lesson.key)
    rc = render_teach()
    buttons(rc, "lesson-choice")[0].click()
    record = teach.run_now(lesson.key)
    assert teach.running.value is None and teach.failed.value is None
    done, planned = teach.progress.value
    assert done == planned == record.result.replications
    assert record.predicted == 0 and record.settings == lesson.settings()
    assert not teach.is_stale(lesson, record)
    effect = lesson.primary.effect(record.result)
    expected_support = support_lines(lesson, effect, 0)
    expected_story = narration(lesson, record.result)
    assert shown(rc, "lesson-verdict") == expected_support
    assert shown(rc, "lesson-narration") == expected_story
    assert expected_story[0].startswith(f"{record.result.replications} paired replications of 20")
    drawn = charts_drawn(rc)
    assert len(drawn) == len(lesson.charts)
    assert ["chart-highlighted" in c.split() for c in drawn] == [True] + [False] * (len(drawn) - 1)
    assert not rc.find(v.Html, class_="lesson-stale").widgets  # type: ignore[attr-defined]
    assert not more_button(rc, lesson).disabled

    teach.chosen.set("tokenism")
    assert not shown(rc, "lesson-narration") and not charts_drawn(rc)
    teach.chosen.set(lesson.key)
    assert teach.ran.value[lesson.key] is record
    assert shown(rc, "lesson-narration") == expected_story
    assert shown(rc, "lesson-verdict") == expected_support

    # More replications: one batch more, the prediction made before the run kept.
    teach.predict(lesson.key, 2)
    more = teach.run_now(lesson.key, more=True)
    assert more.result.replications == record.result.replications + lesson.rule.batch
    assert more.predicted == 0
    assert_same_runs(
        replace(
            more.result,
            collaborative=tuple(f[:-1] for f in more.result.collaborative),
            groups=tuple(g[:-1] for g in more.result.groups),
        ),
        record.result,
    )
    assert shown(rc, "lesson-narration") == narration(lesson, more.result)


@pytest.mark.usefixtures("session")
def test_a_result_run_with_other_settings_is_shown_as_stale(
    injected: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    lesson = injected
    teach.chosen.set(lesson.key)
    teach.predict(lesson.key, 0)
    record = teach.run_now(lesson.key)
    changed = replace(lesson, root_seed=lesson.root_seed + 1)
    monkeypatch.setitem(LESSON_BY_KEY, lesson.key, changed)
    assert teach.is_stale(changed, record)
    rc = render_teach()
    warning = " ".join(shown(rc, "lesson-stale"))
    assert warning.startswith("These results are stale")
    assert more_button(rc, changed).disabled
    assert shown(rc, "lesson-narration") == narration(lesson, record.result)  # still shown
    # "More" on a stale result runs the lesson afresh, with its new settings.
    again = teach.run_now(lesson.key, more=True)
    assert again.result.root_seed == changed.root_seed
    assert again.result.replications <= changed.rule.cap
    assert not teach.is_stale(changed, again)
    assert not rc.find(v.Html, class_="lesson-stale").widgets  # type: ignore[attr-defined]


@pytest.mark.usefixtures("session")
def test_a_lesson_that_fails_says_why_and_keeps_no_record(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = small_lesson("crisis", weeks=10)  # too short to reach six months after the crisis
    monkeypatch.setitem(LESSON_BY_KEY, "crisis", broken)
    teach.chosen.set("crisis")
    teach.predict("crisis", 0)
    rc = render_teach()
    with pytest.raises(ValueError, match="week 66 is not in these runs"):
        teach.run_now("crisis")
    assert teach.running.value is None and "crisis" not in teach.ran.value
    assert teach.failed.value is not None and teach.failed.value[0] == "crisis"
    errors = [str(w.children) for w in rc.find(v.Alert).widgets]  # type: ignore[attr-defined]
    assert any("The lesson could not be run: week 66" in e for e in errors)
    assert not run_button(rc).disabled  # it may be tried again


@pytest.mark.usefixtures("session")
def test_a_cancelled_run_keeps_the_previous_record(injected: Lesson) -> None:
    teach.predict(injected.key, 1)
    record = teach.run_now(injected.key)
    with pytest.raises(InterruptedError):
        teach.run_now(injected.key, more=True, cancelled=lambda: True)
    assert teach.ran.value[injected.key] is record
    assert teach.running.value is None and teach.failed.value is None


@pytest.mark.usefixtures("session")
def test_presenter_mode_shows_at_most_two_charts(injected: Lesson) -> None:
    assert len(injected.charts) == 3
    teach.chosen.set(injected.key)
    teach.predict(injected.key, 0)
    teach.run_now(injected.key)
    rc = render_teach()
    assert len(charts_drawn(rc)) == 3
    state.presenter.set(True)
    drawn = charts_drawn(rc)
    assert len(drawn) == 2 and "chart-highlighted" in drawn[0].split()
    assert f"chart-lesson-{injected.key}-{injected.charts[0].key}" in drawn[0].split()
    specs = [w.full_spec() for w in rc.find(VegaLiteLive).widgets]  # type: ignore[attr-defined]
    assert len(specs) == 2
    assert all(spec["config"]["axis"]["titleFontSize"] >= 18 for spec in specs)
