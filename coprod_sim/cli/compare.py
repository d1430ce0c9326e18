"""``coprod compare A B``: two scenarios, paired under common random numbers, each outcome's
difference with its 95% interval.

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
from coprod_sim.errors import InputError
from coprod_sim.limits import MAX_STEPS


def compare(
    a: Annotated[str, typer.Argument(help="The baseline scenario: a preset or a TOML file.")],
    b: Annotated[str, typer.Argument(help="The scenario to compare with it.")],
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
) -> None:
    """Compare two scenarios with common random numbers: each outcome's difference B - A
    with its 95% paired interval (with --posterior, over parameter draws too)."""
    from coprod_sim.experiments import analysis
    from coprod_sim.experiments.posterior import describe
    from coprod_sim.experiments.spec import parse_spec, resolve

    label_a, label_b = _label(a), _label(b)
    if label_b == label_a:
        label_a, label_b = f"A:{label_a}", f"B:{label_b}"
    try:
        spec = parse_spec(
            {
                "name": f"{label_a} vs {label_b}"[:80],  # the spec's limit; labels stay whole
                "description": f"coprod compare {a} {b}",
                "scenarios": {label_a: {"scenario": a}, label_b: {"scenario": b}},
                "replications": replications,
                "steps": steps,
                "seed": seed,
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
        runs = analysis.load_runs(folder)
    outcomes = list(experiment.spec.outcomes.final)
    diffs = analysis.paired_differences(runs, outcomes, label_a, by="scenario")
    title = f"{label_b} minus {label_a}: {replications} paired replications, {steps} weeks"
    if experiment.posterior:
        title += f"\n({describe(experiment.posterior)})"
    table = Table(title=title, header_style="bold")
    # Outcome names stay whole (they are what users grep for); the numbers fold.
    table.add_column("outcome", no_wrap=True, min_width=max(map(len, outcomes)))
    for column in (label_a, label_b, "difference", "95% interval", "verdict"):
        table.add_column(column, justify="right", overflow="fold")
    for row in diffs.itertuples():
        table.add_row(
            row.outcome,
            f"{row.baseline_mean:.4g}",
            f"{row.mean_value:.4g}",
            f"{row.difference:+.4g}",
            f"[{row.low:+.4g}, {row.high:+.4g}]",
            analysis.verdict(row.low, row.high),
        )
    out_console.print(table)
    out_console.print(
        "Each interval is a 95% paired t interval on its own: across many outcomes, about one "
        "in twenty may exclude 0 by chance alone."
    )


def _label(reference: str) -> str:
    """A scenario's label in the table: a file's stem, or the preset's name."""
    return Path(reference).stem if reference.endswith(".toml") else reference
