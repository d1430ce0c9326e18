"""The experiment commands of ``coprod``: sweep, compare, sensitivity and report.

``coprod sweep SPEC --out DIR``        runs (or resumes) an experiment.
``coprod compare A B``                 compares two scenarios, paired, with 95% intervals.
``coprod sensitivity SPEC --out DIR``  runs a Sobol or Morris design and prints the indices.
``coprod report DIR``                  writes DIR/report.html.

Exit codes: 0 done; 1 some runs failed (recorded in DIR/errors, retried on a
re-run) or a worker process died (resumable); 2 bad input (nothing written);
130 interrupted by Ctrl-C (resumable).
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coprod_sim.cli import _fail, app, err_console, out_console
from coprod_sim.errors import Problem, ScenarioError, SpecError

EXIT_RUNS_FAILED = 1
EXIT_INTERRUPTED = 130


class ExecutorName(StrEnum):
    local = "local"
    sequential = "sequential"
    dask = "dask"


ExecutorOpt = Annotated[
    ExecutorName,
    typer.Option(help="local: a process pool on this machine; sequential: one by one, here; "
                 "dask: a Dask cluster at --address."),
]  # fmt: skip
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, max=4096, help="Worker processes [default: all cores].")
]
AddressOpt = Annotated[
    str | None, typer.Option(help="Dask scheduler, tcp://HOST:PORT (with --executor dask).")
]
ReplicationsOpt = Annotated[
    int | None, typer.Option(min=1, max=100_000, help="Replace the spec's replications.")
]
StepsOpt = Annotated[int | None, typer.Option(min=1, max=100_000, help="Replace the weeks.")]
RetriesOpt = Annotated[
    int | None, typer.Option(min=0, max=10, help="Extra attempts for a run that fails.")
]


@app.command()
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
    except ScenarioError as error:
        raise _fail(error) from None
    _run_and_report(experiment, out, executor, workers, address)


@app.command()
def sensitivity(
    spec: Annotated[Path, typer.Argument(help="An experiment spec with a sobol or morris design.")],
    out: Annotated[Path, typer.Option(help="Results folder; re-run on it to resume.")],
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
    replications: ReplicationsOpt = None,
    steps: StepsOpt = None,
    retries: RetriesOpt = None,
) -> None:
    """Run a Sobol or Morris design and print each factor's sensitivity indices."""
    import pandas as pd

    from coprod_sim.experiments import analysis
    from coprod_sim.experiments.spec import load_experiment

    try:
        experiment = load_experiment(spec, replications=replications, steps=steps, retries=retries)
        kind = experiment.spec.design.kind
        if kind not in ("sobol", "morris"):
            raise SpecError(
                [
                    Problem(
                        "design.kind",
                        kind,
                        "coprod sensitivity needs a sobol or morris design; use coprod sweep "
                        "for other designs",
                    )
                ],
                experiment.source,
            )
    except ScenarioError as error:
        raise _fail(error) from None
    _run_and_report(experiment, out, executor, workers, address, print_summary=False)
    indices = analysis.sensitivity(out)
    sobol = kind == "sobol"
    columns = ["S1", "S1_conf", "ST", "ST_conf"] if sobol else ["mu_star", "mu_star_conf", "sigma"]
    columns += [c for c in ("S2", "S2_conf") if c in indices]  # pairs, with second_order
    table = Table(title=f"{'Sobol' if sobol else 'Morris'} indices", header_style="bold")
    for column in ("outcome", "factor", *columns):
        table.add_column(column, justify="left" if column in ("outcome", "factor") else "right")
    for row in indices.to_dict("records"):
        if isinstance(row.get("note"), str):  # e.g. a constant outcome: nothing to apportion
            cells = [row["note"], *[""] * (len(columns) - 1)]
        else:
            cells = ["" if pd.isna(row.get(c)) else f"{row[c]:.3f}" for c in columns]
        table.add_row(row["outcome"], row["factor"], *cells)
    out_console.print(table)
    if sobol:
        pairs = "; S2: due to a pair together" if "S2" in indices else ""
        out_console.print(
            "S1: the share of an outcome's variance due to the factor alone; ST: with its "
            f"interactions{pairs}; _conf: half-width of the 95% bootstrap interval."
        )


@app.command()
def compare(
    a: Annotated[str, typer.Argument(help="The baseline scenario: a preset or a TOML file.")],
    b: Annotated[str, typer.Argument(help="The scenario to compare with it.")],
    replications: Annotated[int, typer.Option(min=2, max=100_000)] = 10,
    steps: Annotated[int, typer.Option(min=1, max=100_000, help="Weeks to simulate.")] = 78,
    seed: Annotated[
        int, typer.Option(min=0, max=2**63 - 1, help="Root seed of the replications.")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Keep the runs and a report here [default: don't keep].")
    ] = None,
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
) -> None:
    """Compare two scenarios with common random numbers: each outcome's difference B - A
    with its 95% paired interval."""
    from coprod_sim.experiments import analysis
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
            },
            "coprod compare",
        )
        experiment = resolve(spec, "coprod compare")
    except ScenarioError as error:
        raise _fail(error) from None
    with tempfile.TemporaryDirectory(prefix="coprod-compare-") as scratch:
        folder = out or Path(scratch) / "runs"
        _run_and_report(
            experiment, folder, executor, workers, address, print_summary=False, keep=bool(out)
        )
        runs = analysis.load_runs(folder)
    outcomes = list(experiment.spec.outcomes.final)
    diffs = analysis.paired_differences(runs, outcomes, label_a, by="scenario")
    table = Table(
        title=f"{label_b} minus {label_a}: {replications} paired replications, {steps} weeks",
        header_style="bold",
    )
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


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A results folder written by coprod sweep.")],
) -> None:
    """Write DIR/report.html: a self-contained report with figures that opens offline."""
    from coprod_sim.experiments.report import write_report

    try:
        path = write_report(folder)
    except ScenarioError as error:
        raise _fail(error) from None
    out_console.print(f"report written to [bold]{path}[/]")


def _run_and_report(
    experiment, out, executor, workers, address, print_summary=True, keep=True
) -> None:
    """Run what is missing, say how it went, and write the report when complete
    (``keep=False``: a scratch folder, neither reported nor named)."""
    from coprod_sim.experiments.engine import CTRL_C, run_experiment
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
    except ScenarioError as error:
        raise _fail(error) from None
    for name in summary.partial_files:
        err_console.print(f"removed a partial file left by an interrupted writer: {name}")
    for name in summary.quarantined:
        err_console.print(f"set aside an unreadable or orphaned part: {name} (its runs re-run)")
    out_console.print(
        f"[bold]{experiment.spec.name}[/]: {summary.done} of {summary.planned} runs done "
        f"({summary.completed} now, {summary.already_done} before), {summary.failed} failed, "
        f"{summary.elapsed:.1f} s"
    )
    if summary.interrupted:
        err_console.print(
            f"interrupted ({summary.stopped_by}): finished runs are saved in {out}; run the "
            "same command to resume",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED if summary.stopped_by == CTRL_C else EXIT_RUNS_FAILED)
    if summary.failed:
        err_console.print(
            f"{summary.failed} run(s) failed; their errors are in {out}/errors/ and a re-run "
            "retries them"
        )
    if summary.missing == 0 and keep:
        path = write_report(out)
        if print_summary:
            _print_outcomes(out)
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


def _label(reference: str) -> str:
    return Path(reference).stem if reference.endswith(".toml") else reference
