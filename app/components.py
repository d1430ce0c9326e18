"""Pieces every page uses: a chart, a control, a list of problems, a stale marker.

A chart takes the session's presenter mode into account (larger, thicker, fewer), so every
page shows the same chart the same way on a projector.
"""

from __future__ import annotations

from typing import Any

import solara

from app import charts, state
from app.vega import VegaLiteLive, split_data
from coprod_sim import Problem


@solara.component
def ProblemList(problems: tuple[Problem, ...], title: str, classes: list[str]) -> None:
    """Problems as 'field = value: what is allowed', one per line, under a title."""
    if not problems:
        return
    with solara.Div(classes=classes), solara.Error(icon=False, dense=True):
        solara.Text(title, style={"font-weight": "bold", "display": "block"})
        for problem in problems:
            solara.Text(f"• {problem}", style={"display": "block"})


@solara.component
def StaleWarning(what: str, again: str, classes: list[str]) -> None:
    """Results no longer match the settings: "These results are stale: WHAT. AGAIN."."""
    with solara.Div(classes=classes):
        solara.Warning(f"These results are stale: {what}. {again}", dense=True)


@solara.component
def Chart(name: str, spec: charts.Spec, highlighted: bool = False) -> None:
    """One Vega-Lite chart in a wrapper the tests can find by class; in presenter mode it is
    drawn large, with 18 px text and thick lines. ``highlighted`` outlines it (a lesson's
    narration points at it)."""
    presenter = state.presenter.value
    if presenter:
        spec = charts.presented(spec)
    shape, data = split_data(spec)  # a millisecond or two; only charts that changed render
    classes = ["coprod-chart", f"chart-{name}"] + (["chart-highlighted"] if highlighted else [])
    style = {"outline": "4px solid #f28e2b", "outline-offset": "2px"} if highlighted else {}
    with solara.Div(classes=classes, style=style):
        VegaLiteLive.element(spec=shape, datasets_json=data)


@solara.component
def ControlInput(control: state.Control, value: Any, on_value: Any = None) -> None:
    """One scenario field as a slider or a choice, its label and value above it (a label
    beside the slider would squeeze it). A change calls ``on_value`` (by default: rebuild
    the explorer's model with the new value).

    The slider shows ``value``, the scenario's: a value the app refused springs back, and
    the refusal is shown beside the control by the caller."""

    def apply(new: Any) -> None:
        if on_value is not None:
            on_value(new)
            return
        with state.session_lock():
            state.set_controls({control.field: new})

    with solara.Div(classes=["control", f"control-{control.field}"], style={"margin": "4px 0"}):
        solara.Text(
            f"{control.label}: {control.describe(value)}",
            classes=["control-label"],
            style={"font-size": "0.9em", "display": "block"},
        )
        if control.kind == "int":
            solara.SliderInt(
                "",
                value=int(value),
                min=int(control.low),
                max=int(control.high),
                step=int(control.step),
                on_value=apply,
                thumb_label=True,
            )
        elif control.kind == "float":
            solara.SliderFloat(
                "",
                value=float(value),
                min=control.low,
                max=control.high,
                step=control.step,
                on_value=apply,
                thumb_label=True,
            )
        elif control.kind == "choice":
            solara.Select("", value=value, values=list(control.choices), on_value=apply)


#: The largest seed (NumPy's seeds are unsigned; the command line takes up to this).
MAX_SEED = 2**63 - 1


def read_seed(text: str) -> int | None:
    """A seed typed by a user: a whole number from 0 to 2**63 − 1, or None."""
    cleaned = text.strip()
    if not cleaned.isdigit() or int(cleaned) > MAX_SEED:
        return None
    return int(cleaned)


@solara.component
def SeedField(label: str, value: int, on_seed: Any) -> None:
    """A seed typed into a field: a whole number from 0 calls ``on_seed``; anything else
    ("-5", "3.7") is refused beside the field, which goes back to the seed in use."""
    problem, set_problem = solara.use_state("")
    attempts, set_attempts = solara.use_state(0)

    def apply(text: str) -> None:
        seed = read_seed(text)
        if seed is None:
            set_problem(
                f"{label} = {text!r}: a seed is a whole number from 0 to {MAX_SEED:,}; "
                f"seed {value} is kept."
            )
            set_attempts(attempts + 1)  # the field shows the seed in use again
            return
        set_problem("")
        if seed != value:
            on_seed(seed)

    with solara.Div(classes=["seed-field"]):
        solara.InputText(label, value=str(value), on_value=apply, continuous_update=False).key(
            f"{label}-{attempts}"
        )
        if problem:
            solara.Error(problem, dense=True, icon=False, classes=["seed-error"])
