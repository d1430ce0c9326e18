"""Compare two designs with common random numbers over several replications.

Each design is a preset with the main controls changed. Both run the same
replications (replication r of each uses ``replication_seed(root, r)``); the
page shows each outcome's paired difference B − A over time with its 95% band,
and a sentence per outcome saying which design did better and how sure that is.
The runs happen in a background thread (``solara.lab.task``), so the page stays
responsive, with a progress bar.
"""

from __future__ import annotations

from typing import Any

import solara
import solara.lab

from app import charts, state
from app.explore import Chart, ControlInput, ProblemList
from app.pairs import PairResult, run_pair, summary
from coprod_sim import Problem, Scenario, ScenarioError, load_scenario, preset_names
from coprod_sim.mechanisms.power import rung_name

#: The controls offered per design (the crisis is left to the explorer).
DESIGN_FIELDS = (
    "power_sharing",
    "inclusion",
    "team_size",
    "representative_seats",
    "feedback_loop",
    "authority_support",
)
DEFAULT_DESIGNS = ("tokenistic", "careqic")

# Session state: one value per browser session (see app.state).
design_presets = solara.reactive(DEFAULT_DESIGNS)
design_overrides: solara.Reactive[tuple[tuple[tuple[str, Any], ...], ...]] = solara.reactive(
    ((), ())
)
replications = solara.reactive(5)
weeks = solara.reactive(78)
root_seed = solara.reactive(2024)
progress = solara.reactive(0.0)
problems: solara.Reactive[tuple[Problem, ...]] = solara.reactive(())


def design(index: int) -> Scenario:
    """Design A (0) or B (1): its preset with its overrides (already validated)."""
    scenario = load_scenario(design_presets.value[index])
    overrides = dict(design_overrides.value[index])
    return scenario.with_overrides(overrides) if overrides else scenario


def set_design(index: int, preset: str | None = None, **changes: Any) -> None:
    """Change a design; a bad value is refused with its problems and the design kept."""
    presets = list(design_presets.value)
    overrides = [dict(o) for o in design_overrides.value]
    if preset is not None:
        presets[index], overrides[index] = preset, {}
    overrides[index].update(changes)
    try:
        load_scenario(presets[index]).with_overrides(overrides[index])
    except ScenarioError as error:
        problems.set(tuple(error.problems))
        return
    problems.set(())
    design_presets.set(tuple(presets))
    design_overrides.set(tuple(tuple(sorted(o.items())) for o in overrides))


@solara.lab.task(prefer_threaded=True)
def comparison(
    a: Scenario, b: Scenario, descriptions: tuple[str, str], reps: int, n_weeks: int, seed: int
) -> PairResult:
    """Both designs over ``reps`` paired replications (in a background thread)."""
    progress.set(0.0)
    return run_pair(
        a,
        b,
        names=("A", "B"),
        descriptions=descriptions,
        replications=reps,
        weeks=n_weeks,
        root_seed=seed,
        progress=progress.set,
        cancelled=lambda: not comparison.is_current(),
    )


def design_label(index: int) -> str:
    """'A = tokenistic: rung 4 (consultation), convenience recruitment, ...'."""
    s = design(index)
    changed = dict(design_overrides.value[index])
    return (
        f"{'AB'[index]} = {design_presets.value[index]}"
        + (
            " with " + ", ".join(f"{k} = {v}" for k, v in sorted(changed.items()))
            if changed
            else ""
        )
        + f": power sharing rung {s.power_sharing} ({rung_name(s.power_sharing)}), "
        f"{s.inclusion} recruitment, team of {s.team_size} with {s.representative_seats} "
        f"representative seat(s), feedback loop {s.feedback_loop:.2f}, managers' support "
        f"{s.authority_support:.2f}"
    )


@solara.component
def DesignCard(index: int) -> None:
    """One design: the preset it starts from and the main controls."""
    scenario = design(index)
    letter = "AB"[index]
    values = state.control_values(scenario)
    with solara.Card(f"Design {letter}", classes=[f"design-{letter.lower()}"]):
        solara.Select(
            "Start from",
            value=design_presets.value[index],
            values=preset_names(),
            on_value=lambda name: set_design(index, preset=name),
        )
        for field in DESIGN_FIELDS:

            def apply(new: Any, field: str = field) -> None:
                set_design(index, **{field: new})

            ControlInput(state.CONTROL_BY_FIELD[field], values[field], on_value=apply)


@solara.component
def Results(result: PairResult) -> None:
    """The verdicts in words, then each outcome's difference B − A over the weeks."""
    solara.Markdown("### Which design did better, and how sure is that?")
    for description in result.descriptions:
        solara.Text(description, style={"display": "block", "font-weight": "bold"})
    with solara.Div(classes=["compare-summary"]):
        for line in summary(result):
            solara.Text(line, style={"display": "block", "margin-bottom": "6px"})
    solara.Markdown(
        f"Differences are **{result.names[1]} − {result.names[0]}**, the mean over "
        f"{result.replications} paired replications (root seed {result.root_seed}) with "
        "its 95% paired t band; the dashed line is no difference."
    )
    specs = solara.use_memo(
        lambda: {
            o.key: charts.difference_band(
                result.weeks,
                *(result.difference(o)[:3]),
                title=o.label + (" (lower is better)" if o.better == "lower" else ""),
                y_title="B − A",
            )
            for o in state.OUTCOMES
        },
        dependencies=[id(result)],
    )
    with solara.Row(classes=["compare-charts"], style={"flex-wrap": "wrap", "gap": "8px"}):
        for key, spec in specs.items():
            Chart(f"diff-{key}", spec)


@solara.component
def Page() -> None:
    """The Compare page."""
    solara.Markdown(
        "## Compare two designs\n"
        "Set two designs side by side and run them with common random numbers: "
        "replication *r* of each starts from the same seed, so the differences are paired."
    )
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Div(style={"width": "380px"}):
            DesignCard(0)
        with solara.Div(style={"width": "380px"}):
            DesignCard(1)
        with solara.Card("Runs", style={"width": "300px"}):
            solara.SliderInt(
                f"Replications: {replications.value}",
                value=replications.value,
                min=2,
                max=20,
                on_value=replications.set,
            )
            solara.SliderInt(
                f"Weeks: {weeks.value}", value=weeks.value, min=4, max=156, on_value=weeks.set
            )

            def set_seed(value: int | None) -> None:
                if value is not None and value >= 0:
                    root_seed.set(int(value))

            solara.InputInt("Root seed", value=root_seed.value, on_value=set_seed)
            solara.Button(
                "Run comparison",
                color="primary",
                disabled=comparison.pending,
                on_click=lambda: comparison(
                    design(0),
                    design(1),
                    (design_label(0), design_label(1)),
                    replications.value,
                    weeks.value,
                    root_seed.value,
                ),
            )
    ProblemList(
        problems.value, "That setting cannot be used; the design is kept:", ["design-errors"]
    )
    if comparison.pending:
        solara.ProgressLinear(value=progress.value * 100)
        solara.Text(f"Running… {progress.value:.0%}", classes=["compare-progress"])
    elif comparison.error:
        solara.Error(f"The comparison failed: {comparison.exception}")
    elif comparison.finished and comparison.value is not None:
        Results(comparison.value)
