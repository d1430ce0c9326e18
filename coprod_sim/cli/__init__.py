"""The ``coprod`` command line.

``coprod scenarios``    lists the presets (:mod:`~coprod_sim.cli.scenarios`).
``coprod parameters``   every scenario field's unit, default, plausible range and source
                        (:mod:`~coprod_sim.cli.parameters`).
``coprod run``          runs a scenario, prints a summary and writes its results
                        (:mod:`~coprod_sim.cli.run`).
``coprod sweep``, ``sensitivity``, ``compare``, ``report``: experiments
                        (:mod:`~coprod_sim.cli.sweep`, ``sensitivity``, ``compare``, ``report``).
``coprod calibrate``    fits parameters to observed targets by ABC-SMC
                        (:mod:`~coprod_sim.cli.calibrate`).
``coprod plan``         weighs designs across futures of an uncertain context
                        (:mod:`~coprod_sim.cli.plan`).
``coprod validate``     regenerates the validation study and its report
                        (:mod:`~coprod_sim.cli.validate`).

Each command is a plain function in its own module, registered on :data:`app` here and
nowhere else; what they share (consoles, exit codes, option types) is in
:mod:`~coprod_sim.cli.common`. The library never imports this package.

Bad input exits with code 2, prints what is wrong without a traceback and writes nothing;
Ctrl-C or SIGTERM stops cleanly (no process or staging folder left behind) and exits with
code 130; a second one during a sweep stops it at once.
"""

from __future__ import annotations

import signal
import sys

import typer

# The modules, not their functions, are bound here, so that ``coprod_sim.cli.run`` stays
# the module (a function of the same name would shadow it).
from coprod_sim.cli import (
    calibrate,
    compare,
    parameters,
    plan,
    report,
    run,
    scenarios,
    sensitivity,
    sweep,
    validate,
)
from coprod_sim.cli.common import COMMAND_PROCESS, EXIT_INTERRUPTED, err_console, stopping

__all__ = ["app", "main"]

app = typer.Typer(
    name="coprod",
    help="Simulate coproduction in health-care improvement collaboratives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# In this order in ``coprod --help``.
app.command()(scenarios.scenarios)
app.command()(parameters.parameters)
app.command()(run.run)
app.command()(sweep.sweep)
app.command()(sensitivity.sensitivity)
app.command()(compare.compare)
app.command()(report.report)
app.command()(calibrate.calibrate)
app.command()(plan.plan)
app.command()(validate.validate)


def main() -> None:
    """Entry point of the ``coprod`` script: SIGTERM stops a command as Ctrl-C does."""
    COMMAND_PROCESS["main"] = True
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    try:
        app()
    except KeyboardInterrupt:
        stopping()
        err_console.print("interrupted; nothing was written")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        stopping()  # the command has finished: a late Ctrl-C cannot cut its exit short


def _interrupt(number: int, frame: object) -> None:
    # Each command cleans up on KeyboardInterrupt (staging folders, worker processes); a
    # supervisor's SIGTERM gets the same clean stop as a user's Ctrl-C. Once a sweep has
    # stopped on one, the next (a second quick Ctrl-C) must not cut short its report.
    from coprod_sim.experiments.stopping import STOPPED_IN_THIS_PROCESS

    if not STOPPED_IN_THIS_PROCESS.is_set():
        raise KeyboardInterrupt
