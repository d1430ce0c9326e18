"""``coprod report DIR``: write DIR/report.html from a results folder.

Exit codes: 0 written; 2 DIR is not a results folder that can be read whole (an edited
experiment.json, a missing manifest or a damaged part, each named, with what to do), or
the report cannot be written there (read-only, a full disk); 1 any other failure of the
file system, as a message rather than a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coprod_sim.cli.common import err_console, fail, out_console
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
    except OSError as error:  # the folder refused a read the checks did not name
        err_console.print(f"[bold red]error:[/] {folder}: {error}", highlight=False)
        raise typer.Exit(1) from None
    out_console.print(f"report written to [bold]{path}[/]")
