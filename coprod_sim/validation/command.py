"""``coprod validate``: regenerate the validation study, its data, figures and report.

Exit codes: 0 the report is written (whatever its verdicts: a check that does not
hold is a finding, not an error); 1 a sweep did not finish, or its results or the
report could not be read or written (finished runs are kept and a re-run resumes);
2 bad input: missing or invalid specs, a report name not ending in .md (nothing
written).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from coprod_sim.cli import EXIT_BAD_INPUT, _fail, app, err_console, out_console
from coprod_sim.errors import ScenarioError


@app.command()
def validate(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Results folder [default: results/validation, or "
            "results/validation-quick with --quick]; re-run to resume."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="The report to write (.md), its figures in a folder beside it "
            "[default: docs/validation.md, or OUT/validation.md with --quick]."
        ),
    ] = None,
    specs: Annotated[Path, typer.Option(help="Folder of the study's experiment specs.")] = Path(
        "experiments/validation"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="The CI subset: fewer replications, no region sweeps.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, max=4096, help="Worker processes [default: all cores].")
    ] = None,
) -> None:
    """Run the validation study (canonical reductions, stylized facts, CaReQIC case) and write
    its report with figures and a verdict for every check."""
    from coprod_sim.validation.report import write_validation_report
    from coprod_sim.validation.study import StudyError, StudyInputError, run_study

    out = out or Path("results/validation-quick" if quick else "results/validation")
    # The quick subset never replaces the full study's report.
    report = report or (out / "validation.md" if quick else Path("docs/validation.md"))
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
            log=out_console.print,
        )  # fmt: skip
    except ScenarioError as error:
        raise _fail(error) from None
    except StudyInputError as error:
        err_console.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except StudyError as error:
        err_console.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
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
