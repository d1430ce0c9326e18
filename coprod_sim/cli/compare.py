"""``coprod compare A B [C ...]``: scenarios paired under common random numbers, each
outcome's difference from the first framed for a decision: a Bonferroni-adjusted interval,
the people behind a share, the difference over the run, and a verdict against the smallest
difference that matters.

Exit codes as for ``coprod sweep`` (:mod:`coprod_sim.cli.sweep`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coprod_sim.cli.common import (
    AddressOpt,
    ExecutorName,
    ExecutorOpt,
    WorkersOpt,
    fail,
    out_console,
)
from coprod_sim.cli.sweep import run_and_report
from coprod_sim.errors import InputError, Problem
from coprod_sim.limits import MAX_STEPS

#: What compare keeps: the headline outcomes, the care cascade, and the people behind it.
CASCADE_OUTCOMES = ("suppression", "key_suppression", "key_retention")
PEOPLE = ("in_care", "suppressed", "key_suppressed", "key_in_care")
#: Weeks between the kept points of each series (for the mean level over the run).
SERIES_EVERY = 13


def compare(
    designs: Annotated[
        list[str],
        typer.Argument(
            help="Two or more scenarios (presets or TOML files); the first is the baseline "
            "the others are compared with."
        ),
    ],
    replications: Annotated[int, typer.Option(min=2, max=100_000)] = 10,
    steps: Annotated[int, typer.Option(min=1, max=MAX_STEPS, help="Weeks to simulate.")] = 78,
    seed: Annotated[
        int, typer.Option(min=0, max=2**63 - 1, help="Root seed of the replications.")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Keep the runs and a report here \\[default: don't keep].")
    ] = None,
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            help="A coprod calibrate folder: each replication runs both designs on its own "
            "posterior draw, so the intervals include parameter uncertainty."
        ),
    ] = None,
    mid: Annotated[
        list[str] | None,
        typer.Option(
            help="OUTCOME=X: the smallest difference in OUTCOME that matters (repeatable); "
            "outcomes left out use the defaults of coprod_sim.experiments.decision."
        ),
    ] = None,
) -> None:
    """Compare scenarios with common random numbers: each outcome's difference from the
    first (B - A) with its paired interval, in people too, over the run as well as at its
    end, and a verdict against the smallest difference that matters."""
    from coprod_sim.experiments import analysis
    from coprod_sim.experiments.posterior import describe
    from coprod_sim.experiments.spec import DEFAULT_OUTCOMES, parse_spec, resolve

    labels = _labels(designs)
    outcomes = list(dict.fromkeys([*DEFAULT_OUTCOMES, *CASCADE_OUTCOMES]))
    try:
        minimum = _minimums(mid or [], outcomes)
        if len(designs) < 2:
            raise InputError([Problem("DESIGNS", designs, "give at least two scenarios")])
        spec = parse_spec(
            {
                "name": " vs ".join(labels)[:80],  # the spec's limit; labels stay whole
                "description": f"coprod compare {' '.join(designs)}",
                "scenarios": {
                    label: {"scenario": d} for label, d in zip(labels, designs, strict=True)
                },
                "replications": replications,
                "steps": steps,
                "seed": seed,
                "outcomes": {
                    "final": [*outcomes, *PEOPLE],
                    "series": outcomes,
                    "series_steps": sorted({0, steps, *range(SERIES_EVERY, steps, SERIES_EVERY)}),
                },
                **({"posterior": str(posterior)} if posterior else {}),
            },
            "coprod compare",
        )
        experiment = resolve(spec, "coprod compare")
    except InputError as error:
        raise fail(error) from None
    with tempfile.TemporaryDirectory(prefix="coprod-compare-") as scratch:
        folder = out or Path(scratch) / "runs"
        run_and_report(
            experiment, folder, executor, workers, address, print_summary=False, keep=bool(out)
        )
        runs, series = analysis.load_runs(folder), analysis.load_series(folder)
    table, family, each = analysis.decisions(runs, series, outcomes, labels[0], minimum=minimum)
    for label in labels[1:]:
        _print_table(table[table["scenario"] == label], labels[0], label, replications, steps,
                     describe(experiment.posterior) if experiment.posterior else None)  # fmt: skip
    out_console.print(
        f"{family} comparisons ({len(labels) - 1} design(s) x {len(outcomes)} outcomes): each "
        f"interval is Bonferroni-adjusted to {each:.3%}, so that all of them hold together "
        "with 95% confidence. A verdict is 'better/worse by at least' the outcome's minimum "
        "important difference (MID) when the whole interval lies beyond it, 'no important "
        "difference' when it lies within it, 'unclear' otherwise; 'over the run' is the "
        "difference in mean level over the weeks, not only the last."
    )


def _print_table(
    rows, label_a: str, label_b: str, replications: int, steps: int, posterior: str | None
) -> None:
    title = f"{label_b} minus {label_a}: {replications} paired replications, {steps} weeks"
    if posterior:
        title += f"\n({posterior})"
    table = Table(title=title, header_style="bold")
    # Outcome names stay whole (they are what users grep for); the numbers fold.
    table.add_column("outcome", no_wrap=True, min_width=max(map(len, rows["outcome"])))
    for column in (label_a, label_b, "difference [interval]", "people", "over the run"):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column("verdict", overflow="fold")
    differs = []
    for row in rows.to_dict("records"):
        people, over = row.get("people"), row.get("over_time")
        verdict = _verdict_words(row["verdict"], row["minimum_important"])
        table.add_row(
            row["outcome"],
            f"{row['baseline_mean']:.3g}",
            f"{row['mean_value']:.3g}",
            f"{row['difference']:+.3g} [{row['low']:+.3g}, {row['high']:+.3g}]",
            "" if people is None or people != people else f"{people:+.0f}",
            "" if over is None or over != over else f"{over:+.3g}",
            verdict,
        )
        over_verdict = row.get("over_time_verdict")
        if isinstance(over_verdict, str) and over_verdict != row["verdict"]:
            words = _verdict_words(over_verdict, row["minimum_important"])
            differs.append(f"{row['outcome']}: {words} over the run, {verdict} at the end")
    out_console.print(table)
    if differs:
        out_console.print("Where the run and its end disagree: " + "; ".join(differs) + ".")


def _verdict_words(verdict: str, margin: float) -> str:
    """'better by at least 0.02', or 'better' when no difference is too small to matter."""
    if verdict.endswith("at least"):
        return f"{verdict} {margin:g}" if margin > 0 else verdict.split()[0]
    return verdict


def _minimums(given: list[str], outcomes: list[str]) -> dict[str, float]:
    """``--mid OUTCOME=X`` options as {outcome: X}, or InputError naming the bad one."""
    minimum, problems = {}, []
    for item in given:
        name, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if name not in outcomes:
            problems.append(
                Problem("--mid", item, f"OUTCOME must be one of: {', '.join(outcomes)}")
            )
        elif not number >= 0 or number == float("inf"):
            problems.append(Problem("--mid", item, "X must be a number, 0 or more"))
        else:
            minimum[name] = number
    if problems:
        raise InputError(problems, "coprod compare")
    return minimum


def _labels(designs: list[str]) -> list[str]:
    """Each scenario's label in the tables: a file's stem or the preset's name, lettered when
    two are the same."""
    labels = [_label(d) for d in designs]
    if len(set(labels)) < len(labels):
        labels = [f"{chr(65 + k)}:{label}" if k < 26 else f"{k}:{label}"
                  for k, label in enumerate(labels)]  # fmt: skip
    return labels


def _label(reference: str) -> str:
    """A scenario's label in the table: a file's stem, or the preset's name."""
    return Path(reference).stem if reference.endswith(".toml") else reference
