"""What every ``coprod`` command shares: the consoles, the exit codes, :func:`fail`, and the
option types of the experiment commands.

Kept apart from the commands so that each command module imports only this, never the
package that assembles the app.
"""

from __future__ import annotations

import re
import signal
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from coprod_sim.errors import InputError
from coprod_sim.limits import MAX_STEPS

out_console = Console()
err_console = Console(stderr=True)

EXIT_RUNS_FAILED = 1  # some runs failed or a worker died; finished runs are kept
EXIT_BAD_INPUT = 2  # nothing was run or written
EXIT_INTERRUPTED = 130  # Ctrl-C; a re-run resumes


#: Set by :func:`coprod_sim.cli.main`: this process is the ``coprod`` command itself, not a
#: library caller (a test's CliRunner), so it may decide what signals do.
COMMAND_PROCESS = {"main": False}


def stopping() -> None:
    """The command is stopping after Ctrl-C or SIGTERM and only reports and exits now: a
    further signal (a second quick Ctrl-C) must not cut that short with a traceback."""
    if COMMAND_PROCESS["main"]:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN)


def fail(error: InputError) -> typer.Exit:
    """Print ``error`` without a traceback; raise the returned exit (code 2)."""
    err_console.print(f"[bold red]error:[/] {error.render()}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def slug(name: str) -> str:
    """A folder name from a scenario name: 'small teams (v2)' -> 'small-teams-v2'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "scenario"


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
    int | None, typer.Option(min=1, max=4096, help="Worker processes \\[default: all cores].")
]
AddressOpt = Annotated[
    str | None, typer.Option(help="Dask scheduler, tcp://HOST:PORT (with --executor dask).")
]
ReplicationsOpt = Annotated[
    int | None, typer.Option(min=1, max=100_000, help="Replace the spec's replications.")
]
StepsOpt = Annotated[int | None, typer.Option(min=1, max=MAX_STEPS, help="Replace the weeks.")]
RetriesOpt = Annotated[
    int | None, typer.Option(min=0, max=10, help="Extra attempts for a run that fails.")
]
