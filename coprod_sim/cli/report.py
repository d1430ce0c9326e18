"""``coprod report DIR``: write DIR/report.html from a results folder (exit code 2 if it is
not one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coprod_sim.cli.common import fail, out_console
from coprod_sim.errors import InputError


def report(
    folder: Annotated[Path, typer.Argument(help="A results folder written by coprod sweep.")],
) -> None:
    """Write DIR/report.html: a self-contained report with figures that opens offline."""
    from coprod_sim.experiments.report import write_report

    try:
        path = write_report(folder)
    except InputError as error:
        raise fail(error) from None
    out_console.print(f"report written to [bold]{path}[/]")
