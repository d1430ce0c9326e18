"""``coprod validate``: regenerate the validation study, its data, figures and report.

The study's specs ship inside the package (``coprod_sim/validation/specs/``), so an
installed ``coprod validate`` works from any folder; ``--specs DIR`` runs others. The
report goes to ``docs/validation.md`` when the command runs in the project's source tree
(the current folder holds a ``pyproject.toml`` naming coprod-sim: that report is kept
under version control), and to ``OUT/validation.md`` anywhere else and always with
``--quick`` (the quick subset never replaces the full study's report).

Exit codes: 0 the report is written (whatever its verdicts: a check that does not
hold is a finding, not an error); 1 a sweep did not finish, or its results or the
report could not be read or written (finished runs are kept and a re-run resumes);
2 bad input: missing or invalid specs, a report name not ending in .md (nothing
written); 130 stopped by Ctrl-C or SIGTERM (finished runs are kept and a re-run resumes).
"""

from __future__ import annotations

import re
import shlex
import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from coprod_sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    err_console,
    fail,
    out_console,
    stopping,
)
from coprod_sim.errors import InputError

PROJECT = "coprod-sim"  # the distribution name in pyproject.toml


# "\\[" keeps Rich from reading "[default: ...]" as markup and dropping it from the help.
def validate(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Results folder \\[default: results/validation, or "
            "results/validation-quick with --quick]; re-run to resume."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="The report to write (.md), its figures in a folder beside it \\[default: "
            "docs/validation.md in the project's source tree (a folder whose pyproject.toml "
            "names coprod-sim), else OUT/validation.md; always OUT/validation.md with --quick]."
        ),
    ] = None,
    specs: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the study's experiment specs \\[default: those shipped in the "
            "package, coprod_sim/validation/specs]."
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="The CI subset: fewer replications, no region sweeps.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, max=4096, help="Worker processes \\[default: all cores].")
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=100_000,
            help="With --quick: at most this many replications per condition (a smoke run "
            "of every pipeline; the report says so) \\[default: 8].",
        ),
    ] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            help="A coprod calibrate folder: also run each fact across its posterior (held "
            "out of the calibration) and report the verdicts side by side."
        ),
    ] = None,
) -> None:
    """Run the validation study (canonical reductions, stylized facts, CaReQIC case) and write
    its report with figures and a verdict for every check."""
    from coprod_sim.validation.report import write_validation_report
    from coprod_sim.validation.study import SPECS, StudyError, StudyInputError, run_study

    out = out or Path("results/validation-quick" if quick else "results/validation")
    report = report or default_report(out, quick)
    specs = specs or SPECS
    if replications is not None and not quick:
        err_console.print(
            f"[bold red]error:[/] replications = {replications}: only with --quick (the full "
            "study runs each spec's own replications)",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    if report.suffix != ".md" or report.is_dir():
        err_console.print(
            f"[bold red]error:[/] report = {report}: must be a Markdown file name ending in .md",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    started = time.perf_counter()
    try:
        study = run_study(
            specs, out, quick=quick, workers=workers, progress=err_console.is_terminal,
            log=out_console.print, replications=replications, posterior=posterior,
        )  # fmt: skip
    except InputError as error:
        raise fail(error) from None
    except StudyInputError as error:
        err_console.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except StudyError as error:
        if error.interrupted:
            stopping()
        err_console.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED if error.interrupted else 1) from None
    try:
        path = write_validation_report(study, report, shlex.join(["coprod", *sys.argv[1:]]))
    except OSError as error:
        err_console.print(
            f"[bold red]error:[/] report = {report}: cannot be written ({error}); the runs are "
            f"kept in {out}, so a re-run with another --report only redraws it",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    verdicts = study.checks()["verdict"].value_counts()
    out_console.print(
        f"report: [bold]{path}[/] ({', '.join(f'{n} {v}' for v, n in verdicts.items())}); "
        f"{time.perf_counter() - started:.0f} s in all"
    )


def default_report(out: Path, quick: bool, here: Path | None = None) -> Path:
    """The report's path when ``--report`` is not given, run in ``here`` (default: the current
    folder); the rule is in the module docstring."""
    here = here or Path()
    if not quick and in_source_tree(here):
        return here / "docs" / "validation.md"
    return out / "validation.md"


def in_source_tree(folder: Path) -> bool:
    """Whether ``folder`` is the project's source tree: its pyproject.toml names coprod-sim."""
    try:
        pyproject = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # no readable pyproject.toml: some other folder
    project = pyproject.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    # Compared as PyPI normalises names (PEP 503): coprod_sim and Coprod.Sim name it too.
    return isinstance(name, str) and re.sub(r"[-_.]+", "-", name).lower() == PROJECT
