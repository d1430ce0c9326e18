"""``coprod sweep SPEC --out DIR``: run (or resume) an experiment, and the run-and-report step
that ``sensitivity`` and ``compare`` share with it.

Exit codes of the experiment commands: 0 done; 1 some runs failed (recorded in DIR/errors,
retried on a re-run) or a worker process died (resumable); 2 bad input (nothing written);
130 interrupted by Ctrl-C (resumable).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coprod_sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_RUNS_FAILED,
    AddressOpt,
    ExecutorName,
    ExecutorOpt,
    ReplicationsOpt,
    RetriesOpt,
    StepsOpt,
    WorkersOpt,
    err_console,
    fail,
    out_console,
    stopping,
)
from coprod_sim.errors import InputError


def sweep(
    spec: Annotated[Path, typer.Argument(help="The experiment spec (TOML).")],
    out: Annotated[Path, typer.Option(help="Results folder; re-run on it to resume.")],
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
    replications: ReplicationsOpt = None,
    steps: StepsOpt = None,
    retries: RetriesOpt = None,
) -> None:
    """Run an experiment spec, streaming results to Parquet; re-running resumes."""
    from coprod_sim.experiments.spec import load_experiment

    try:
        experiment = load_experiment(spec, replications=replications, steps=steps, retries=retries)
    except InputError as error:
        raise fail(error) from None
    run_and_report(experiment, out, executor, workers, address)


def run_and_report(
    experiment, out, executor, workers, address, print_summary=True, keep=True
) -> None:
    """Run what is missing, say how it went, and write the report when complete
    (``keep=False``: a scratch folder, neither reported nor named)."""
    from coprod_sim.experiments.engine import run_experiment
    from coprod_sim.experiments.report import write_report

    command = shlex.join(["coprod", *sys.argv[1:]])
    try:
        summary = run_experiment(
            experiment,
            out,
            executor=executor.value,
            workers=workers,
            address=address,
            progress=err_console.is_terminal,
            command=command,
        )
    except InputError as error:
        raise fail(error) from None
    for name in summary.partial_files:
        err_console.print(f"removed a partial file left by an interrupted writer: {name}")
    for name in summary.quarantined:
        why = summary.reasons.get(name, "unreadable, or its flush is incomplete")
        err_console.print(f"set aside {name}: {why} (its runs re-run)", soft_wrap=True)
    for name in summary.rebuilt:
        err_console.print(f"rebuilt {name} from the spec", soft_wrap=True)
    out_console.print(
        f"[bold]{experiment.spec.name}[/]: {summary.done} of {summary.planned} runs done "
        f"({summary.completed} now, {summary.already_done} before), {summary.failed} failed, "
        f"{summary.elapsed:.1f} s"
    )
    if summary.interrupted:
        stopping()
        if not summary.opened:
            kept = "nothing was written"
        elif keep:
            kept = f"finished runs are saved in {out}; run the same command to resume"
        else:
            kept = "nothing was kept (give --out DIR to keep the runs and resume)"
        err_console.print(f"interrupted ({summary.stopped_by}): {kept}", soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED if summary.stopped_by_user else EXIT_RUNS_FAILED)
    if summary.failed:
        err_console.print(
            f"{summary.failed} run(s) failed; their errors are in {out}/errors/ and a re-run "
            "retries them"
        )
    if summary.missing == 0 and keep:
        try:
            path = write_report(out)
            if print_summary:
                _print_outcomes(out)
        except InputError as error:  # e.g. a part damaged since, or a full disk
            raise fail(error) from None
        out_console.print(f"results in [bold]{out}[/] (runs/*.parquet); report: {path}")
    if summary.failed:
        raise typer.Exit(EXIT_RUNS_FAILED)


def _print_outcomes(out: Path, limit: int = 24) -> None:
    from coprod_sim.experiments import analysis

    header = analysis.read_header(out)
    runs = analysis.load_runs(out)
    outcomes = analysis.outcomes_of(header)[:4]
    by = [c for c in analysis.point_columns(header) if c in runs.columns and c != "scenario_id"]
    summary = analysis.summarise(runs, outcomes, by)
    table = Table(title="Mean [95% interval] over replications", header_style="bold")
    for column in by:  # the design point stays readable; the numbers fold
        table.add_column(column, no_wrap=True)
    for column in outcomes:
        table.add_column(column, justify="right", overflow="fold")
    for keys, group in list(summary.groupby(by, sort=False))[:limit]:
        cells = {r.outcome: f"{r.mean:.3g} [{r.low:.3g}, {r.high:.3g}]" for r in group.itertuples()}
        table.add_row(*map(str, keys), *(cells[o] for o in outcomes))
    out_console.print(table)
