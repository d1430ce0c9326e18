"""The Teach page: lessons for a class (see ``app.lessons``), each as predict, run, explain.

The class picks a prediction; the app runs the lesson's two designs in a background thread
under the lesson's sequential rule, with a progress bar; then it says which prediction the
runs support and tells the story of the runs, pointing at the highlighted chart. "More
replications" adds a batch to the result shown. There is no seed control: each lesson's
root seed is fixed, and shown with the result and in the download.

The last result of each lesson is kept in session state (:data:`ran`), not only in the task,
so it survives a visit to another page; a result run with settings the lesson no longer has
is marked stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import solara
import solara.lab

from app import lessons, state
from app.components import Chart, StaleWarning
from app.info import PAGES, Glossary, InfoPanel
from app.lessons import LESSON_BY_KEY, LESSONS, Lesson
from app.pairs import PairResult


@dataclass(frozen=True)
class Ran:
    """A lesson's last result: the runs, the settings they were run with, and the
    prediction the class had made when they were run."""

    key: str
    result: PairResult
    settings: tuple
    predicted: int | None


# Session state: one value per browser session. The dicts are never changed in place (a
# default is shared by every session): each update sets a new one.
chosen = solara.reactive(LESSONS[0].key)
predictions: solara.Reactive[dict[str, int]] = solara.reactive({})
ran: solara.Reactive[dict[str, Ran]] = solara.reactive({})
progress = solara.reactive((0, 0))  # replications done, replications planned
running: solara.Reactive[str | None] = solara.reactive(None)  # the lesson being run
failed: solara.Reactive[tuple[str, str] | None] = solara.reactive(None)  # (lesson, why)


def predict(key: str, choice: int) -> None:
    predictions.set({**predictions.value, key: choice})


def is_stale(lesson: Lesson, record: Ran) -> bool:
    """Whether ``record`` was run with other settings than the lesson has now."""
    return record.settings != lesson.settings()


def run_now(key: str, more: bool = False, cancelled: Callable[[], bool] | None = None) -> Ran:
    """Run a lesson (or, with ``more``, add a batch to its current result) and keep the
    result in the session. The background task calls this; tests may call it directly."""
    lesson = LESSON_BY_KEY[key]
    running.set(key)
    failed.set(None)
    before = ran.value.get(key)
    adding = more and before is not None and not is_stale(lesson, before)
    start = before.result.replications if adding else 0
    progress.set((start, start + (lesson.rule.batch if adding else lesson.rule.first)))
    try:

        def report(done: int, planned: int) -> None:
            progress.set((done, planned))

        if adding:
            result = lessons.add_replications(
                lesson, before.result, progress=report, cancelled=cancelled
            )
            predicted = before.predicted
        else:
            result = lessons.run_lesson(lesson, progress=report, cancelled=cancelled)
            predicted = predictions.value.get(key)
        record = Ran(key, result, lesson.settings(), predicted)
        ran.set({**ran.value, key: record})
        return record
    except InterruptedError:
        raise
    except Exception as error:
        failed.set((key, str(error)))
        raise
    finally:
        running.set(None)


@solara.lab.task(prefer_threaded=True)
def lesson_task(key: str, more: bool) -> str:
    """Run a lesson in a background thread (see :func:`run_now`)."""
    run_now(key, more, cancelled=lambda: not lesson_task.is_current())
    return key


@solara.component
def LessonChooser() -> None:
    """One button per lesson; the chosen one filled."""
    with solara.Row(classes=["lesson-chooser"], style={"flex-wrap": "wrap", "gap": "6px"}):
        for lesson in LESSONS:
            current = lesson.key == chosen.value
            solara.Button(
                lesson.short,
                color="primary",
                outlined=not current,
                classes=["lesson-button"] + (["lesson-current"] if current else []),
                style={"text-transform": "none"},
                on_click=lambda key=lesson.key: chosen.set(key),
            )


_CHOICE_STYLE = {
    "text-transform": "none",
    "white-space": "normal",
    "height": "auto",
    "min-height": "36px",
    "padding": "6px 12px",
    "justify-content": "flex-start",
    "text-align": "left",
    "margin": "3px 0",
}


@solara.component
def Predict(lesson: Lesson) -> None:
    """Step 1: the question and the choices; the class picks one before the run."""
    picked = predictions.value.get(lesson.key)
    with solara.Div(classes=["lesson-predict"]):
        solara.Markdown(f"**1. Predict.** {lesson.question}")
        with solara.Column(gap="2px", style={"max-width": "760px"}):
            for i, choice in enumerate(lesson.choices):
                solara.Button(
                    choice.text,
                    color="primary",
                    outlined=picked != i,
                    classes=["lesson-choice"] + (["lesson-choice-picked"] if picked == i else []),
                    style=_CHOICE_STYLE,
                    on_click=lambda i=i: predict(lesson.key, i),
                )


@solara.component
def RunControls(lesson: Lesson, record: Ran | None, stale: bool) -> None:
    """Step 2: run the lesson, or add replications to its result."""
    picked = predictions.value.get(lesson.key)
    busy = lesson_task.pending or running.value is not None
    rule = lesson.rule
    solara.Markdown(
        f"**2. Run.** Both designs run {lesson.weeks} weeks, {rule.first} paired replications "
        f"first, then {rule.batch} more at a time while the answer is unclear, up to "
        f"{rule.cap}."
    )
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(
            "Run this lesson",
            color="primary",
            disabled=busy or picked is None,
            classes=["lesson-run"],
            on_click=lambda: lesson_task(lesson.key, False),
        )
        more_allowed = (
            record is not None
            and not stale
            and record.result.replications < lessons.MAX_REPLICATIONS
        )
        solara.Button(
            f"More replications (+{rule.batch})",
            outlined=True,
            color="primary",
            disabled=busy or not more_allowed,
            classes=["lesson-more"],
            on_click=lambda: lesson_task(lesson.key, True),
        )
        if picked is None:
            solara.Text("Pick a prediction first.", classes=["lesson-hint"])
    if running.value == lesson.key:
        done, planned = progress.value
        solara.ProgressLinear(value=100 * done / planned if planned else 0)
        solara.Text(
            f"Running replication {done} of {planned}…",
            classes=["lesson-progress"],
            style={"display": "block"},
        )
    elif failed.value is not None and failed.value[0] == lesson.key:
        solara.Error(f"The lesson could not be run: {failed.value[1]}")


@solara.component
def Explain(lesson: Lesson, record: Ran, stale: bool) -> None:
    """Step 3: which prediction the runs support, the story of the runs, the charts."""
    presenter = state.presenter.value
    result = record.result
    primary = solara.use_memo(
        lambda: lesson.primary.effect(result), dependencies=[lesson.key, id(result)]
    )
    lines = solara.use_memo(
        lambda: lessons.narration(lesson, result), dependencies=[lesson.key, id(result)]
    )
    specs = solara.use_memo(
        lambda: [chart.spec(result) for chart in lesson.charts],
        dependencies=[lesson.key, id(result)],
    )
    solara.Markdown("**3. Explain.**")
    if stale:
        StaleWarning(
            "the lesson's settings changed after they were run",
            "Run it again to update them.",
            ["lesson-stale"],
        )
    size = "1.25em" if presenter else "1.05em"
    with solara.Div(classes=["lesson-verdict"], style={"max-width": "820px"}):
        for line in lessons.support_lines(lesson, primary, record.predicted):
            solara.Text(line, style={"display": "block", "font-weight": "bold", "font-size": size})
    # The highlighted chart first; on a projector, one more beside it at most.
    shown = list(enumerate(specs))[: 2 if presenter else None]
    with solara.Row(classes=["lesson-charts"], style={"flex-wrap": "wrap", "gap": "8px"}):
        for i, spec in shown:
            Chart(f"lesson-{lesson.key}-{lesson.charts[i].key}", spec, highlighted=i == 0)
    with solara.Div(classes=["lesson-narration"], style={"max-width": "820px"}):
        for line in lines:
            solara.Text(line, style={"display": "block", "margin-bottom": "6px"})
    solara.FileDownload(
        lambda: lessons.runs_csv(lesson, result),
        filename=f"lesson-{lesson.key}-seed{result.root_seed}-{result.replications}reps.csv",
        label="Download the runs (CSV)",
    )


@solara.component
def LessonView(lesson: Lesson) -> None:
    """One lesson: the fact and the designs, then predict, run and explain."""
    record = ran.value.get(lesson.key)
    settings = solara.use_memo(lesson.settings, dependencies=[lesson])
    stale = record is not None and record.settings != settings
    solara.Markdown(f"### {lesson.title}")
    solara.Text(lesson.fact, classes=["lesson-fact"], style={"display": "block"})
    solara.Text(
        lessons.designs_sentence(lesson),
        classes=["lesson-designs"],
        style={"display": "block", "margin": "6px 0", "color": "#444"},
    )
    InfoPanel(lesson.info, title="About this lesson")
    Predict(lesson)
    RunControls(lesson, record, stale)
    if record is not None:
        Explain(lesson, record, stale)


@solara.component
def Page() -> None:
    """The Teach page."""
    if not state.presenter.value:
        solara.Markdown(
            "## Teach\nTen lessons, one for each stylized fact the model must show and one for "
            "the CaReQIC story. In each, the class predicts, the app runs two designs that "
            "differ in one respect, and the story is told from the runs."
        )
        with solara.Row(style={"gap": "8px", "flex-wrap": "wrap"}):
            InfoPanel(PAGES["teach"])
            Glossary()
    LessonChooser()
    LessonView(LESSON_BY_KEY[chosen.value])
