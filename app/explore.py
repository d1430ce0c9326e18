"""Explore one scenario live: pick a preset or import one, change it, play, step, reset.

The model runs in the server; each step redraws the charts from
``model.outputs.collaborative()``. Playing runs in a background thread
(``solara.use_thread``), so buttons and controls stay usable while it runs.
"""

from __future__ import annotations

import threading
from typing import Any

import solara

from app import charts, state
from app.network import network_spec, site_network
from app.vega import VegaLiteLive, split_data
from coprod_sim import CoproductionModel, Problem, preset_names

#: Pause between weeks while playing, so a class can follow (seconds).
PLAY_INTERVAL = 0.15
# One lock for stepping and rebuilding: the play thread and a button press must never
# touch a model at the same time. Steps take milliseconds, so sharing it is cheap.
_LOCK = threading.RLock()


def step_once() -> None:
    """One week, unless the run has reached its horizon."""
    with _LOCK:
        model = state.current_model()
        if model.week < state.weeks.value:
            state.step_model(1)


def reset() -> None:
    """Back to week 0 of the current scenario and seed."""
    with _LOCK:
        state.reset_model()


# ---------------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------------
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
def Chart(name: str, spec: charts.Spec) -> None:
    """One Vega-Lite chart in a wrapper the tests can find by class."""
    shape, data = split_data(spec)  # a millisecond or two; only charts that changed render
    with solara.Div(classes=["coprod-chart", f"chart-{name}"]):
        VegaLiteLive.element(spec=shape, datasets_json=data)


@solara.component
def ControlInput(control: state.Control, value: Any, on_value: Any = None) -> None:
    """One scenario field as a slider or a choice, its label and value above it (a label
    beside the slider would squeeze it). A change calls ``on_value`` (by default: rebuild
    the explorer's model with the new value)."""

    def apply(new: Any) -> None:
        if on_value is not None:
            on_value(new)
            return
        with _LOCK:
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


@solara.component
def CrisisControls(values: dict[str, Any]) -> None:
    """A crisis on or off, when it strikes, how long it lasts and how sites recover."""
    on = values["crisis_week"] is not None

    def toggle(checked: bool) -> None:
        with _LOCK:
            state.set_controls({"crisis_week": 30 if checked else None})

    solara.Checkbox(label="A crisis strikes (command-and-control)", value=on, on_value=toggle)
    if not on:
        return

    def set_field(name: str):
        def apply(new: Any) -> None:
            with _LOCK:
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
    """Import a TOML scenario; its problems, or a confirmation, are shown right here."""
    _heading("Import a scenario")

    def on_file(info: dict) -> None:
        data = info["data"] if info.get("data") is not None else info["file_obj"].read()
        with _LOCK:
            state.import_scenario(info["name"], data)

    solara.FileDrop(label="Drop a scenario .toml file here", on_file=on_file, lazy=False)
    ProblemList(
        state.import_problems.value,
        state.import_message.value,
        ["import-errors"],
    )
    if state.import_message.value and not state.import_problems.value:
        solara.Success(state.import_message.value, dense=True, icon=False)


@solara.component
def Downloads(model: CoproductionModel | None) -> None:
    """The scenario as TOML and the results so far as CSV or Parquet, built on click."""
    _heading("Download")
    scenario = state.scenario.value
    solara.FileDownload(
        lambda: scenario.to_toml().encode(),
        filename=f"{scenario.name}.toml",
        label="Scenario (TOML)",
    )
    if model is not None:
        seed = state.seed.value
        # The files are built when clicked, so they hold every week run so far.
        stem = f"{scenario.name}-seed{seed}"
        solara.FileDownload(
            lambda: state.results_csv(model), filename=f"{stem}.csv", label="Results (CSV)"
        )
        solara.FileDownload(
            lambda: state.results_parquet(model, seed),
            filename=f"{stem}.parquet",
            label="Results (Parquet)",
        )


@solara.component
def Sidebar(model: CoproductionModel | None) -> None:
    """Scenario, seed, the controls, import and download."""
    presets = preset_names()
    shown = state.preset.value

    def choose(name: str) -> None:
        if name in presets:
            with _LOCK:
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

    def set_seed(value: int | None) -> None:
        if value is not None and value >= 0 and value != state.seed.value:
            state.seed.set(int(value))
            reset()

    solara.InputInt("Seed", value=state.seed.value, on_value=set_seed)
    values = state.control_values(state.scenario.value)
    for control in state.CONTROLS:
        ControlInput(control, values[control.field])
    CrisisControls(values)
    ProblemList(
        state.control_problems.value,
        "That setting cannot be used; the previous scenario is kept:",
        ["control-errors"],
    )
    Import()
    Downloads(model)


@solara.component
def Player(model: CoproductionModel) -> None:
    """Reset, play or pause, step; and how far the run is."""
    playing = state.playing.value

    def play_loop(cancel: threading.Event) -> None:
        # Stops between weeks only: on Pause, a new horizon or leaving the page (``cancel``).
        while state.playing.value and not cancel.is_set():
            with _LOCK:
                current = state.current_model()
                if current.week >= state.weeks.value:
                    state.playing.set(False)
                    break
                state.step_model(1)
            cancel.wait(PLAY_INTERVAL)

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

        def set_weeks(value: int) -> None:
            state.weeks.set(int(value))

        with solara.Div(style={"width": "220px"}):
            solara.SliderInt(
                f"Run to week {state.weeks.value}",
                value=state.weeks.value,
                min=4,
                max=208,
                step=1,
                on_value=set_weeks,
            )
        WeekCounter(model)


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


@solara.component
def Charts(model: CoproductionModel) -> None:
    """The live charts; rebuilt only when the model has stepped."""
    tick = state.tick.value
    scenario = model.parameters
    horizon = state.weeks.value
    specs = solara.use_memo(
        lambda: charts.explore_charts(model.outputs.collaborative(), scenario, horizon),
        dependencies=[id(model), tick, horizon],
    )
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for name, spec in specs.items():
            Chart(name, spec)


@solara.component
def NetworkView(model: CoproductionModel) -> None:
    """One site's people and ties, coloured by trust or stigma: the choices here, the
    drawing (redrawn every week) in ``NetworkChart``."""
    site_names = [site.name for site in model.sites]
    site, set_site = solara.use_state(0)
    colour_by, set_colour_by = solara.use_state("trust")
    site = min(site, len(site_names) - 1)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        with solara.Div(style={"width": "220px"}):
            solara.Select(
                "Site",
                value=site_names[site],
                values=site_names,
                on_value=lambda name: set_site(site_names.index(name)),
            )
        solara.ToggleButtonsSingle(
            value=colour_by, values=["trust", "stigma"], on_value=set_colour_by
        )
    solara.Text(
        "■ manager · ◆ provider · ▲ patient representative · ● patient (faded: out of care). "
        "Orange ties: the improvement team; dark: colleagues; light: who sees whom. "
        + (
            "Colour: patients' trust in providers, providers' regard for patients."
            if colour_by == "trust"
            else "Colour: stigma a patient meets from their provider toward their group; a "
            "provider's mean stigma toward the key populations."
        ),
        style={"font-size": "0.8em", "display": "block", "max-width": "640px"},
    )
    NetworkChart(model, site, colour_by)


@solara.component
def NetworkChart(model: CoproductionModel, site: int, colour_by: str) -> None:
    """The site network, redrawn after every step."""
    tick = state.tick.value
    network = solara.use_memo(
        lambda: site_network(model, site, colour_by),  # type: ignore[arg-type]
        dependencies=[id(model), tick, site, colour_by],
    )
    solara.Text(
        f"{network['site']}: {network['providers']} providers "
        f"({network['team_providers']} on the team), {network['representatives']} "
        f"representative(s) on the team, {network['patients']} patients.",
        style={"font-size": "0.85em", "display": "block"},
    )
    Chart("network", network_spec(network, colour_by))  # type: ignore[arg-type]


@solara.component
def Page() -> None:
    """The Explore page; the model is built after the first render, per session."""
    model = state.model.value

    def build_first() -> None:
        if state.model.value is None:
            reset()

    solara.use_effect(build_first, [])
    with solara.Sidebar():
        Sidebar(model)
    if model is None:
        solara.SpinnerSolara()
        solara.Text("Building the collaborative…")
        return
    scenario = model.parameters
    solara.Markdown(
        f"### {scenario.name} · {len(model.sites)} sites · {model.patients.n:,} patients · "
        f"seed {state.seed.value}"
    )
    Player(model)
    Charts(model)
    NetworkView(model)
