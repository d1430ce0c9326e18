"""Explore one scenario live: pick a preset or import one, change it, play, step, reset.

The model runs in the server; each step redraws the charts from
``model.outputs.collaborative()``. Playing runs in a background thread
(``solara.use_thread``), so buttons and controls stay usable while it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara

from app import charts, state
from app.components import Chart, ControlInput, ProblemList, SeedField
from app.info import PAGES, Glossary, InfoPanel
from app.network import NetworkView
from coprod_sim import CoproductionModel, preset_names

#: Pause between weeks while playing, so a class can follow (seconds).
PLAY_INTERVAL = 0.15
#: While playing, a session rests at least this many times as long as its last week took
#: (the step and its redraw): every session shares the server's processor, and a large
#: run that took it all would stall the other classes' steps. A CaReQIC week takes a few
#: tens of milliseconds, so its pace is PLAY_INTERVAL's.
PLAY_REST_FACTOR = 3.0


def step_once() -> None:
    """One week, unless the run has reached its horizon."""
    with state.session_lock():
        model = state.current_model()
        if model.week < state.weeks.value:
            state.step_model(1)


def reset() -> None:
    """Back to week 0 of the current scenario and seed."""
    with state.session_lock():
        state.reset_model()


# ---------------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------------
@solara.component
def CrisisControls(values: dict[str, Any]) -> None:
    """A crisis on or off, when it strikes, how long it lasts and how sites recover."""
    on = values["crisis_week"] is not None

    def toggle(checked: bool) -> None:
        with state.session_lock():
            state.set_controls({"crisis_week": 30 if checked else None})

    solara.Checkbox(label="A crisis strikes (command-and-control)", value=on, on_value=toggle)
    if not on:
        return

    def set_field(name: str):
        def apply(new: Any) -> None:
            with state.session_lock():
                state.set_controls({name: new})

        return apply

    solara.SliderInt(
        f"Crisis starts in week {values['crisis_week']}",
        value=int(values["crisis_week"]),
        min=1,
        max=104,
        on_value=set_field("crisis_week"),
    )
    solara.SliderInt(
        f"Crisis lasts {values['crisis_duration']} weeks",
        value=int(values["crisis_duration"]),
        min=1,
        max=52,
        on_value=set_field("crisis_duration"),
    )
    solara.Select(
        "Recovery",
        value=values["recovery"],
        values=list(state.CRISIS_RECOVERY),
        on_value=set_field("recovery"),
    )
    solara.Text(state.CRISIS_RECOVERY[values["recovery"]], style={"font-size": "0.8em"})


def _heading(text: str) -> None:
    # Plain bold text, not solara.Markdown: Markdown is costly to re-render on every step.
    solara.Text(text, style={"font-weight": "bold", "display": "block", "margin-top": "12px"})


@solara.component
def Import() -> None:
    """Import a TOML scenario, dropped as a file or pasted as text; its problems, or a
    confirmation, are shown right here."""
    _heading("Import a scenario")
    pasted, set_pasted = solara.use_state("")

    def on_file(info: dict) -> None:
        data = info["data"] if info.get("data") is not None else info["file_obj"].read()
        with state.session_lock():
            state.import_scenario(info["name"], data)

    def import_pasted() -> None:
        with state.session_lock():
            state.import_scenario("pasted.toml", pasted.encode())

    solara.FileDrop(label="Drop a scenario .toml file here", on_file=on_file, lazy=False)
    with solara.Div(classes=["paste-import"]):
        solara.InputTextArea(
            "…or paste a scenario's TOML here",
            value=pasted,
            on_value=set_pasted,
            rows=3,
            continuous_update=True,  # the button reads what is typed, not what was left
        )
        solara.Button(
            "Import the pasted scenario",
            on_click=import_pasted,
            disabled=not pasted.strip(),
            outlined=True,
            color="primary",
        )
    ProblemList(
        state.import_problems.value,
        state.import_message.value,
        ["import-errors"],
    )
    if state.import_message.value and not state.import_problems.value:
        solara.Success(state.import_message.value, dense=True, icon=False)


@solara.component
def Downloads(model: CoproductionModel | None) -> None:
    """The scenario as TOML, and the run so far with everything needed to make it again,
    built on click."""
    _heading("Download")
    scenario = state.scenario.value
    solara.FileDownload(
        lambda: scenario.to_toml().encode(),
        filename=f"{scenario.name}.toml",
        label="Scenario (TOML)",
    )
    if model is not None:
        seed = state.seed.value
        # Built when clicked, so it holds every week run so far (its folder inside names
        # the week). The file's name leaves the week out: this is not redrawn each step.
        solara.FileDownload(
            lambda: state.results_bundle(model, seed),
            filename=f"{model.parameters.name}-seed{seed}.zip",
            label="Results so far (ZIP)",
        )
        # A button's label does not wrap: a long one would widen the sidebar over the page.
        solara.Text(
            "The four tables, the scenario, the seed, the version and the command that makes "
            "the same run again.",
            style={"display": "block", "font-size": "0.85em", "color": "#555"},
        )


@solara.component
def Sidebar(model: CoproductionModel | None) -> None:
    """Scenario, seed, the controls, import and download."""
    presets = preset_names()
    shown = state.preset.value

    def choose(name: str) -> None:
        if name in presets:
            with state.session_lock():
                state.choose_preset(name)

    solara.Select(
        "Scenario",
        value=shown,
        values=presets if shown in presets else [*presets, shown],
        on_value=choose,
    )
    solara.Text(
        state.scenario.value.description.strip().splitlines()[0]
        if state.scenario.value.description
        else "",
        style={"font-size": "0.85em"},
    )

    def set_seed(seed: int) -> None:
        with state.session_lock():
            state.seed.set(seed)
            state.reset_model()

    SeedField("Seed", state.seed.value, set_seed)
    _heading("Settings (a change starts the run again from week 0)")
    values = state.control_values(state.scenario.value)
    for control in state.CONTROLS:
        # Keyed by refusals: after a refused value every control shows the scenario's.
        ControlInput(control, values[control.field]).key(f"{control.field}-{state.refusals.value}")
    CrisisControls(values)
    ProblemList(
        state.control_problems.value,
        "That setting cannot be used; the previous scenario is kept:",
        ["control-errors"],
    )
    Import()
    Downloads(model)


@dataclass(frozen=True)
class Intervention:
    """A change a class can make during a run, in its words, and the settings it sets when
    made at a week (under the settings then in force)."""

    label: str
    changes: Callable[[CoproductionModel, int], dict[str, Any]]


#: What can change during a run, as a teacher would put it.
INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention("Managers withdraw their support", lambda m, w: {"authority_support": 0.1}),
    Intervention("Managers back the work fully", lambda m, w: {"authority_support": 0.9}),
    Intervention("A crisis begins (12 weeks)", lambda m, w: {"crisis_week": w + 1}),
    Intervention(
        "One more seat for patient representatives",
        lambda m, w: {"representative_seats": m.settings.representative_seats + 1},
    ),
    Intervention("The team stops reporting back", lambda m, w: {"feedback_loop": 0.0}),
    Intervention("The team always reports back", lambda m, w: {"feedback_loop": 1.0}),
    Intervention("Power is delegated to patients (rung 7)", lambda m, w: {"power_sharing": 7}),
    Intervention("Patients are only informed (rung 3)", lambda m, w: {"power_sharing": 3}),
)
INTERVENTION_BY_LABEL = {i.label: i for i in INTERVENTIONS}


@solara.component
def Interventions(model: CoproductionModel) -> None:
    """Change a setting at a chosen week (now, by default) without starting again; each
    change is marked on every chart and kept in the scenario (Reset replays it). Only the
    part that follows the week (``InterventionWhen``) is redrawn at each step."""
    chosen, set_chosen = solara.use_state(INTERVENTIONS[0].label)
    with solara.Div(classes=["interventions"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Div(style={"width": "360px"}):
                solara.Select(
                    "Change without starting again",
                    value=chosen,
                    values=[i.label for i in INTERVENTIONS],
                    on_value=set_chosen,
                )
            InterventionWhen(model, chosen)
        ProblemList(
            state.intervention_problems.value,
            "That change cannot be made:",
            ["intervention-errors"],
        )


@solara.component
def InterventionWhen(model: CoproductionModel, chosen: str) -> None:
    """The week of the change, the button that makes it, and the changes made so far."""
    state.tick.get()  # the week and the list of changes follow each step
    planned, set_planned = solara.use_state(0)  # 0: the week reached
    horizon = state.weeks.value
    # A change is made once a week has run: the earliest is the week reached (week 1 at the
    # start), and one made at the horizon would hold for no week.
    earliest = max(model.week, 1)
    at = max(planned, earliest)

    def make() -> None:
        with state.session_lock():
            built = state.current_model()
            when = max(at, built.week, 1)  # Play may have moved on since the render
            changes = INTERVENTION_BY_LABEL[chosen].changes(built, when)
            if state.intervene(changes, week=when, label=chosen):
                set_planned(0)

    def clear() -> None:
        with state.session_lock():
            state.clear_interventions()

    made = model.parameters.interventions or []
    with solara.Column(gap="0px"):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if earliest < horizon:
                with solara.Div(style={"width": "220px"}, classes=["intervention-week"]):
                    solara.SliderInt(
                        f"at week {at}",
                        value=at,
                        min=earliest,
                        max=horizon - 1,
                        on_value=set_planned,
                    )
            solara.Button(
                f"Make this change at week {at}",
                on_click=make,
                color="primary",
                outlined=True,
                disabled=at >= horizon,
            )
            if made:
                solara.Button("Remove the changes (start again)", on_click=clear, text=True)
        if made:
            solara.Text(
                "Changes made: " + "; ".join(i.describe() for i in made),
                classes=["interventions-made"],
                style={"display": "block", "font-size": "0.9em"},
            )


@solara.component
def Player(model: CoproductionModel) -> None:
    """Reset, play or pause, step; and how far the run is."""
    playing = state.playing.value

    def play_loop(cancel: threading.Event) -> None:
        # Stops between weeks only: on Pause, a new horizon or leaving the page (``cancel``).
        lock = state.session_lock()
        while state.playing.value and not cancel.is_set():
            started = time.perf_counter()
            with lock:
                current = state.current_model()
                if current.week >= state.weeks.value:
                    state.playing.set(False)
                    break
                state.step_model(1)  # the redraw is rendered here too
            took = time.perf_counter() - started
            cancel.wait(max(PLAY_INTERVAL, PLAY_REST_FACTOR * took))

    # Not Solara's default "intrusive" cancelling, which raises inside the thread wherever it
    # is, and could leave a model half way through a week.
    solara.use_thread(play_loop, dependencies=[playing], intrusive_cancel=False)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Reset", on_click=reset, color="primary", outlined=True)
        solara.Button(
            "Pause" if playing else "Play",
            on_click=lambda: state.playing.set(not playing),
            color="primary",
            disabled=not playing and model.week >= state.weeks.value,
        )
        solara.Button("Step", on_click=step_once, color="primary", disabled=playing)
        Horizon(model)
        WeekCounter(model)


@solara.component
def Horizon(model: CoproductionModel) -> None:
    """The week to run to: never before the week already reached."""
    state.tick.get()
    reached = model.week
    with solara.Div(classes=["horizon"], style={"width": "220px"}):
        solara.SliderInt(
            f"Run to week {state.weeks.value}",
            value=state.weeks.value,
            min=max(4, reached),
            max=state.MAX_SESSION_WEEKS,
            step=1,
            on_value=state.set_horizon,
        )


@solara.component
def WeekCounter(model: CoproductionModel) -> None:
    """ "Week n of N", redrawn after every step."""
    # Reading the tick subscribes a component to every step (the model object stays the
    # same). Only the small parts that change with each week subscribe, so a step re-renders
    # as little as it can: a step plus its redraw must stay within 200 ms.
    state.tick.get()
    solara.Text(
        f"Week {model.week} of {state.weeks.value}",
        classes=["week-counter"],
        style={"font-weight": "bold", "font-size": "1.1em"},
    )


#: The charts shown together in presenter mode, one or two at a time; "network" is the
#: network view of one site, with its choices (drawn for a projector by ``app.network``).
PRESENTER_VIEWS = {
    "Trust and stigma": ("trust", "stigma"),
    "Changes and value": ("changes", "value"),
    "Retention in care": ("retention",),
    "Site network": ("network",),
}
presenter_view = solara.reactive(next(iter(PRESENTER_VIEWS)))  # one value per session


@solara.component
def Charts(model: CoproductionModel, only: tuple[str, ...] | None = None) -> None:
    """The live charts (``only`` those named); rebuilt only when the model has stepped."""
    tick = state.tick.value
    scenario = model.parameters
    horizon = state.weeks.value
    specs = solara.use_memo(
        lambda: charts.explore_charts(model.outputs.collaborative(), scenario, horizon),
        dependencies=[id(model), tick, horizon, id(scenario)],
    )
    shown = [name for name in specs if only is None or name in only]
    if shown:
        with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
            for name in shown:
                Chart(name, specs[name])
    if only is not None and "network" in only:
        NetworkView(model)  # its choices above its chart, not beside the charts in the row


@solara.component
def Page() -> None:
    """The Explore page; the model is built after the first render, per session."""
    model = state.model.value
    presenter = state.presenter.value

    def build_first() -> None:
        if state.model.value is None:
            reset()

    solara.use_effect(build_first, [])
    if not presenter:  # on a projector the controls give way to the charts
        with solara.Sidebar():
            Sidebar(model)
    if model is None:
        solara.SpinnerSolara()
        solara.Text("Building the collaborative…")
        return
    scenario = model.parameters
    solara.Text(
        f"{scenario.name} · {len(model.sites)} sites · {model.patients.n:,} patients · "
        f"seed {state.seed.value}",
        classes=["explore-title"],
        style={"font-weight": "bold", "font-size": "1.3em", "display": "block"},
    )
    Player(model)
    Interventions(model)
    if presenter:
        solara.ToggleButtonsSingle(
            value=presenter_view.value,
            values=list(PRESENTER_VIEWS),
            on_value=presenter_view.set,
            classes=["presenter-views"],
        )
        Charts(model, only=PRESENTER_VIEWS[presenter_view.value])
        return
    with solara.Row(style={"gap": "8px", "flex-wrap": "wrap"}):
        InfoPanel(PAGES["explore"])
        Glossary()
    Charts(model)
    NetworkView(model)
