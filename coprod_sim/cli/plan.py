"""``coprod plan SPEC --out DIR``: every design in every future of the uncertain context, with
common random numbers; then costs, targets met, regret, the robust choice and where the
leading designs fail, in DIR/report.html.

Exit codes as for ``coprod sweep`` (:mod:`coprod_sim.cli.sweep`): a re-run on the same
folder resumes after Ctrl-C, SIGTERM or ``kill -9``.
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
    WorkersOpt,
    err_console,
    fail,
    out_console,
    stopping,
)
from coprod_sim.errors import InputError


def plan(
    spec: Annotated[Path, typer.Argument(help="The plan spec (TOML).")],
    out: Annotated[Path, typer.Option(help="The plan's folder; re-run on it to resume.")],
    executor: ExecutorOpt = ExecutorName.local,
    workers: WorkersOpt = None,
    address: AddressOpt = None,
) -> None:
    """Weigh designs of a collaborative across futures of an uncertain context: costs,
    targets met, regret, the robust choice and where each leading design fails."""
    from coprod_sim.planning.run import run_plan
    from coprod_sim.planning.spec import load_plan

    try:
        loaded = load_plan(spec)
        summary = run_plan(
            loaded,
            out,
            executor=executor.value,
            workers=workers,
            address=address,
            progress=err_console.is_terminal,
            command=shlex.join(["coprod", *sys.argv[1:]]),
        )
    except InputError as error:
        raise fail(error) from None
    out_console.print(
        f"[bold]{loaded.spec.name}[/]: {summary.done} of {summary.planned} runs done "
        f"({summary.completed} now, {summary.already_done} before), {summary.failed} failed, "
        f"{summary.elapsed:.1f} s"
    )
    if summary.interrupted:
        stopping()
        kept = (
            f"finished runs are saved in {out}; run the same command to resume"
            if summary.done
            else "no run had finished; the same command starts it again"
        )
        err_console.print(f"interrupted ({summary.stopped_by}): {kept}", soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED if summary.stopped_by_user else EXIT_RUNS_FAILED)
    if summary.failed:
        err_console.print(
            f"{summary.failed} run(s) failed; their errors are in {out}/experiment/errors/ "
            "and a re-run retries them"
        )
        raise typer.Exit(EXIT_RUNS_FAILED)
    _print_ranking(out, loaded)


def _print_ranking(out: Path, loaded) -> None:
    import pandas as pd

    designs = pd.read_csv(out / "designs.csv")
    rule = loaded.spec.decision.rule
    table = Table(title=f"Designs under the rule {rule!r}", header_style="bold")
    for column in ("design", "cost", "targets met", "max regret", "chosen"):
        table.add_column(column, justify="left" if column == "design" else "right")
    for row in designs.sort_values("chosen_share", ascending=False).itertuples():
        table.add_row(
            str(row.design),
            f"{row.cost:,.0f}",
            f"{row.targets_met_share:.0%} [{row.targets_met_low:.0%}, {row.targets_met_high:.0%}]",
            f"{row.max_regret:.4g}",
            f"{row.chosen_share:.0%}",
        )
    out_console.print(table)
    out_console.print(f"report: {out / 'report.html'}")
