"""Compare two to four designs with common random numbers over several replications.

Each design is a preset with the main controls changed, described in plain words. All run
the same replications (replication r of each uses ``replication_seed(root, r)``), and each
design after the first is compared with the first (the reference). The page frames the
differences as a decision: for each outcome a minimum important difference (a control, in
the outcome's units), and a verdict per difference, "better by at least X", "worse by at
least X", "no important difference" or "unclear"
(``coprod_sim.experiments.stats.decision_verdict``), after the last week and as the mean
level over the run, with the difference in people beside a share of patients. It says how
many intervals are shown and whether they are adjusted for that number. The runs happen in a
background thread (``solara.lab.task``), so the page stays responsive, with a progress bar;
results are marked stale as soon as a design or a run setting changes after the run.
"""

from __future__ import annotations

import html
from typing import Any

import solara
import solara.lab

from app import charts, state
from app.components import Chart, ControlInput, ProblemList, SeedField, StaleWarning
from app.info import PAGES, InfoPanel
from app.pairs import (
    Finding,
    PairResult,
    decision,
    findings,
    framing,
    interval_level,
    results_bundle,
    run_designs,
    verdict_words,
)
from coprod_sim import Problem, Scenario, ScenarioError, load_scenario, preset_names

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
#: A third design, and a fourth, start from these presets.
ADDED_DESIGNS = ("staff-led", "partnership")
MAX_DESIGNS = 4
LETTERS = "ABCD"

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
#: Minimum important differences set by the user, by outcome key (the rest: defaults).
minimums: solara.Reactive[tuple[tuple[str, float], ...]] = solara.reactive(())
adjusted = solara.reactive(False)  # Bonferroni-adjust the intervals
#: What the results shown were run with (see :func:`inputs`), to mark them stale.
ran_with: solara.Reactive[tuple | None] = solara.reactive(None)


def design(index: int) -> Scenario:
    """Design ``index`` (0 is A): its preset with its overrides (already validated)."""
    scenario = load_scenario(design_presets.value[index])
    kept = design_overrides.value
    overrides = dict(kept[index]) if index < len(kept) else {}
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


def add_design() -> None:
    """One more design (up to four), starting from the next preset not yet used."""
    count = len(design_presets.value)
    if count >= MAX_DESIGNS:
        return
    used = set(design_presets.value)
    preset = next((p for p in ADDED_DESIGNS if p not in used), ADDED_DESIGNS[0])
    # The overrides first: a page drawn between the two sets must find every design's.
    design_overrides.set((*design_overrides.value, ()))
    design_presets.set((*design_presets.value, preset))


def remove_design(index: int) -> None:
    """Remove a design (never below two); the later ones move up a letter."""
    if len(design_presets.value) <= 2:
        return
    # The presets first (fewer designs drawn), then their overrides.
    design_presets.set(tuple(p for i, p in enumerate(design_presets.value) if i != index))
    design_overrides.set(tuple(o for i, o in enumerate(design_overrides.value) if i != index))


def inputs() -> tuple:
    """Everything a run depends on: a changed value makes earlier results stale."""
    return (
        design_presets.value,
        design_overrides.value,
        replications.value,
        weeks.value,
        root_seed.value,
    )


def stale_reasons(current: tuple, before: tuple | None) -> list[str]:
    """What changed since the results shown were run, in words (empty: they are current)."""
    if before is None or current == before:
        return []
    reasons = []
    old_designs = list(zip(before[0], before[1], strict=False))
    new_designs = list(zip(current[0], current[1], strict=False))
    if len(old_designs) != len(new_designs):
        reasons.append(f"the number of designs went from {len(old_designs)} to {len(new_designs)}")
    for i, (old, new) in enumerate(zip(old_designs, new_designs, strict=False)):
        if old != new:
            reasons.append(f"design {LETTERS[i]} changed")
    for k, what in ((2, "the replications"), (3, "the weeks"), (4, "the root seed")):
        if before[k] != current[k]:
            reasons.append(f"{what} changed ({before[k]} → {current[k]})")
    return reasons


def minimum_of(key: str) -> float:
    """The minimum important difference in use for an outcome."""
    return dict(minimums.value).get(key, state.OUTCOME_BY_KEY[key].minimum)


def set_minimum(key: str, value: float | None) -> None:
    if value is None or not value >= 0:
        return
    chosen = dict(minimums.value)
    chosen[key] = float(value)
    minimums.set(tuple(sorted(chosen.items())))


@solara.lab.task(prefer_threaded=True)
def comparison(
    scenarios: tuple[Scenario, ...],
    descriptions: tuple[str, ...],
    reps: int,
    n_weeks: int,
    seed: int,
) -> PairResult:
    """Every design over ``reps`` paired replications (in a background thread)."""
    progress.set(0.0)
    return run_designs(
        scenarios,
        names=tuple(LETTERS[: len(scenarios)]),
        descriptions=descriptions,
        replications=reps,
        weeks=n_weeks,
        root_seed=seed,
        progress=progress.set,
        cancelled=lambda: not comparison.is_current(),
    )


def design_label(index: int) -> str:
    """'A = tokenistic: power sharing at rung 4 of 8 (consultation); 2 seats ...', in plain
    words (what the preset's controls were changed to is in the words themselves)."""
    kept = design_overrides.value
    changed = " (changed)" if index < len(kept) and kept[index] else ""
    return (
        f"{LETTERS[index]} = {design_presets.value[index]}{changed}: "
        f"{state.describe_design(design(index))}"
    )


def start() -> None:
    """Run every design (the click on Run comparison)."""
    count = len(design_presets.value)
    ran_with.set(inputs())
    comparison(
        tuple(design(i) for i in range(count)),
        tuple(design_label(i) for i in range(count)),
        replications.value,
        weeks.value,
        root_seed.value,
    )


@solara.component
def DesignCard(index: int) -> None:
    """One design: the preset it starts from, the main controls, and the design in words."""
    scenario = design(index)
    letter = LETTERS[index]
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
        solara.Text(
            state.describe_design(scenario),
            classes=["design-words"],
            style={"font-size": "0.85em", "display": "block", "color": "#444"},
        )
        if index >= 2:
            solara.Button(
                f"Remove design {letter}",
                text=True,
                color="secondary",
                on_click=lambda: remove_design(index),
            )


@solara.component
def Minimums() -> None:
    """What difference matters: one control per outcome, in the outcome's units."""
    with solara.Card("What difference matters", style={"width": "380px"}):
        solara.Text(
            "The smallest difference that would change a decision, per outcome (in its own "
            "units: a share of 0.02 is two percentage points). The defaults are assumptions.",
            style={"font-size": "0.85em", "display": "block"},
        )
        for outcome in state.OUTCOMES:
            solara.InputFloat(
                outcome.label,
                value=minimum_of(outcome.key),
                on_value=lambda value, key=outcome.key: set_minimum(key, value),
                classes=[f"mid-{outcome.key}"],
            )
        solara.Checkbox(
            label="Bonferroni-adjust the intervals for how many are shown",
            value=adjusted.value,
            on_value=adjusted.set,
        )


_CELL = "border: 1px solid #ccc; padding: 2px 6px; text-align: left"


def _cell(text: str) -> str:
    return f"<td style='{_CELL}'>{html.escape(text)}</td>"


def _head(text: str) -> str:
    return f"<th style='{_CELL}; background: #f3f3f3'>{html.escape(text)}</th>"


@solara.component
def OverRunTable(result: PairResult, found: list[Finding]) -> None:
    """Each outcome's mean level over the run per design, and each design's difference from
    the reference with its verdict."""
    found = [f for f in found if f.when == "run"]
    ref = result.names[0]
    head = "".join(_head(n) for n in result.names) + "".join(
        _head(f"{n} − {ref} (interval): verdict") for n in result.names[1:]
    )
    rows = []
    for outcome in state.OUTCOMES:
        mine = [f for f in found if f.outcome.key == outcome.key]
        d = outcome.digits
        levels = [mine[0].levels[0], *(f.levels[1] for f in mine)]
        cells = "".join(_cell(f"{v:,.{d}f}") for v in levels)
        cells += "".join(
            _cell(f"{f.mean:+.{d}f} ({f.low:+.{d}f} to {f.high:+.{d}f}): {verdict_words(f)}")
            for f in mine
        )
        rows.append(f"<tr>{_cell(outcome.label)}{cells}</tr>")
    solara.HTML(
        tag="table",
        unsafe_innerHTML=f"<tr>{_head('mean level over the run')}{head}</tr>" + "".join(rows),
        classes=["compare-over-time"],
        style="border-collapse: collapse; font-size: 0.85em; margin: 8px 0",
    )


@solara.component
def Results(result: PairResult, stale: list[str]) -> None:
    """The verdicts in words, the means over the run, then each outcome's difference from
    the reference over the weeks."""
    solara.Markdown("### Which design did better, and how sure is that?")
    if stale:
        StaleWarning(
            "; ".join(stale) + " after they were run",
            "Run the comparison again to update them.",
            ["compare-stale"],
        )
    for description in result.descriptions:
        solara.Text(description, style={"display": "block", "font-weight": "bold"})
    chosen = {o.key: minimum_of(o.key) for o in state.OUTCOMES}
    adjust = adjusted.value
    solara.Text(
        framing(result, state.OUTCOMES, adjust),
        classes=["compare-framing"],
        style={"display": "block", "margin": "8px 0", "font-style": "italic"},
    )
    found = solara.use_memo(
        lambda: findings(result, chosen, adjusted=adjust, outcomes=state.OUTCOMES),
        dependencies=[id(result), tuple(sorted(chosen.items())), adjust],
    )
    with solara.Div(classes=["compare-summary"]):
        for d in range(1, result.designs):
            solara.Text(
                f"{result.names[d]} against {result.names[0]}, after {int(result.weeks[-1])} "
                "weeks:",
                style={"display": "block", "font-weight": "bold", "margin-top": "6px"},
            )
            for f in found:
                if f.design == d and f.when == "end":
                    solara.Text(
                        decision(result, f), style={"display": "block", "margin-bottom": "6px"}
                    )
    OverRunTable(result, found)
    level = interval_level(result, state.OUTCOMES, adjust)
    others = ", ".join(f"{n} − {result.names[0]}" for n in result.names[1:])
    solara.Markdown(
        f"Differences over the weeks are **{others}**, the mean over "
        f"{result.replications} paired replications (root seed {result.root_seed}) with its "
        f"{level:.2%} paired t band; the dashed line is no difference."
    )

    def build() -> dict[str, charts.Spec]:
        out = {}
        for o in state.OUTCOMES:
            bands = {}
            for d in range(1, result.designs):
                diff = result.difference(o, d, 0, level)
                bands[f"{result.names[d]} − {result.names[0]}"] = (diff.mean, diff.low, diff.high)
            out[o.key] = charts.difference_bands(
                result.weeks,
                bands,
                title=o.label + (" (lower is better)" if o.better == "lower" else ""),
                y_title="difference from " + result.names[0],
            )
        return out

    specs = solara.use_memo(build, dependencies=[id(result), level])
    with solara.Row(classes=["compare-charts"], style={"flex-wrap": "wrap", "gap": "8px"}):
        for key, spec in specs.items():
            Chart(f"diff-{key}", spec)
    solara.FileDownload(
        lambda: results_bundle(result, "comparison"),
        filename=f"comparison-seed{result.root_seed}.zip",
        label="Download the runs: designs, seeds, version (ZIP)",
    )


@solara.component
def Page() -> None:
    """The Compare page."""
    count = len(design_presets.value)
    solara.Markdown(
        "## Compare designs\n"
        "Set two to four designs side by side and run them with common random numbers: "
        "replication *r* of each starts from the same seed, so the differences are paired. "
        "Each design after A is compared with A."
    )
    InfoPanel(PAGES["compare"], title="About Compare")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for index in range(count):
            with solara.Div(style={"width": "380px"}):
                DesignCard(index)
        with solara.Card("Runs", style={"width": "300px"}):
            if count < MAX_DESIGNS:
                solara.Button(
                    f"Add design {LETTERS[count]}",
                    on_click=add_design,
                    outlined=True,
                    color="primary",
                )
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

            SeedField("Root seed", root_seed.value, root_seed.set)
            solara.Button(
                "Run comparison",
                color="primary",
                disabled=comparison.pending,
                on_click=start,
            )
        Minimums()
    ProblemList(
        problems.value, "That setting cannot be used; the design is kept:", ["design-errors"]
    )
    if comparison.pending:
        solara.ProgressLinear(value=progress.value * 100)
        solara.Text(f"Running… {progress.value:.0%}", classes=["compare-progress"])
    elif comparison.error:
        solara.Error(f"The comparison failed: {comparison.exception}")
    elif comparison.finished and comparison.value is not None:
        Results(comparison.value, stale_reasons(inputs(), ran_with.value))
