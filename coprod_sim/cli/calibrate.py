"""``coprod calibrate SPEC --out DIR``: fit parameters to observed targets by ABC-SMC, with a
posterior, a posterior-predictive check and a report; re-running resumes.

Exit codes as for ``coprod sweep`` (:mod:`coprod_sim.cli.sweep`): 0 done; 1 a worker died or
the folder could not be written (resumable); 2 bad input (nothing written); 130 interrupted
(resumable, with no simulation lost or run twice).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coprod_sim.calibration.spec import MAX_BUDGET
from coprod_sim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_RUNS_FAILED,
    AddressOpt,
    ExecutorName,
    ExecutorOpt,
    WorkersOpt,
    err_console,
    fail,
    out_console,
    stopping,
)
from coprod_sim.errors import InputError


def calibrate(
    spec: Annotated[Path, typer.Argument(help="The calibration spec (TOML).")],
    out: Annotated[Path, typer.Option(help="Calibration folder; re-run on it to resume.")],
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
    budget: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_BUDGET, help="Simulations at most (replaces the spec's)."),
    ] = None,
    population: Annotated[
        int | None,
        typer.Option(min=4, max=100_000, help="Particles per generation (replaces the spec's)."),
    ] = None,
) -> None:
    """Calibrate parameters to observed targets by ABC-SMC; re-running resumes."""
    from coprod_sim.calibration.analysis import posterior_summary
    from coprod_sim.calibration.report import write_calibration_report
    from coprod_sim.calibration.run import POSTERIOR
    from coprod_sim.calibration.run import calibrate as run_calibration
    from coprod_sim.calibration.spec import load_calibration

    try:
        calibration = load_calibration(spec, budget=budget, population=population)
        summary = run_calibration(
            calibration,
            out,
            executor=executor.value,
            workers=workers,
            address=address,
            progress=err_console.is_terminal,
            command=shlex.join(["coprod", *sys.argv[1:]]),
        )
    except InputError as error:
        raise fail(error) from None
    for reason in summary.set_aside:
        err_console.print(f"set aside {reason} (its simulations run again)", soft_wrap=True)
    out_console.print(
        f"[bold]{calibration.spec.name}[/]: {summary.simulations} of {summary.budget} "
        f"simulations ({summary.new} now), {summary.generations} generation(s), "
        f"{summary.elapsed:.1f} s"
    )
    if summary.interrupted:
        stopping()
        err_console.print(
            f"interrupted ({summary.stopped_by}): finished simulations are saved in {out}; "
            "run the same command to resume",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED if summary.stopped_by_user else EXIT_RUNS_FAILED)
    try:
        path = write_calibration_report(out)
    except InputError as error:
        raise fail(error) from None
    import pandas as pd

    table = Table(title=f"Posterior ({summary.finished})", header_style="bold")
    rows = posterior_summary(calibration.spec, pd.read_parquet(out / POSTERIOR), calibration.bounds)
    for column in ("parameter", "prior", "median", "90% interval"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for r in rows.itertuples(index=False):
        table.add_row(
            r.parameter, f"{r[1]:.3g} to {r[2]:.3g}", f"{r.median:.3g}", f"{r[4]:.3g} to {r[5]:.3g}"
        )
    out_console.print(table)
    out_console.print(f"posterior in [bold]{out / POSTERIOR}[/]; report: {path}")
