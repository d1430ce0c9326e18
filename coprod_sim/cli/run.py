"""``coprod run``: run one scenario, print a summary and write its results.

Bad input (an unknown preset, a bad TOML file, a bad ``--set``, an output folder that
holds earlier results) exits with code 2, prints what is wrong without a traceback and
writes nothing; a failed write exits with code 1; Ctrl-C or SIGTERM exits with code 130
and leaves nothing behind.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table

from coprod_sim.cli.common import (
    EXIT_INTERRUPTED,
    err_console,
    fail,
    out_console,
    slug,
    stopping,
)
from coprod_sim.errors import InputError
from coprod_sim.limits import MAX_STEPS


def run(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="A preset name or a TOML file.")
    ] = "careqic",
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a parameter, KEY=VALUE (TOML value; dotted keys reach tables, "
            "e.g. groups.msm.trust_deficit=0.3). Repeatable.",
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=0, max=MAX_STEPS, help="Weeks to simulate.")] = 78,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder \\[default: results/<scenario>-seed<seed>]."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the results already in --out.")
    ] = False,
) -> None:
    """Run one scenario: print a summary, write the series (Parquet), the resolved
    scenario (TOML) and a figure (PNG)."""
    from coprod_sim.model import CoproductionModel
    from coprod_sim.results import check_out_dir, write_results
    from coprod_sim.scenario import load_scenario

    try:
        resolved = load_scenario(scenario, overrides or [])
        out = out or Path("results") / f"{slug(resolved.name)}-seed{seed}"
        check_out_dir(out, overwrite)
    except InputError as error:
        raise fail(error) from None

    started = time.perf_counter()
    try:
        model = CoproductionModel.from_scenario(resolved, rng=seed)
        # A progress bar on a terminal only; logs and pipes get the summary alone.
        for _ in track(
            range(steps),
            description="weeks",
            console=err_console,
            disable=not err_console.is_terminal,
        ):
            model.run_for(1)
        elapsed = time.perf_counter() - started
        write_results(model, out, seed, overwrite=overwrite)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the write, if begun, was undone
        stopping()
        err_console.print(f"interrupted; nothing was written to {out}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except InputError as error:  # the folder changed while the model ran
        raise fail(error) from None
    except OSError as error:  # e.g. a full disk: nothing was left half-written
        err_console.print(f"[bold red]error:[/] could not write results to {out}: {error}")
        raise typer.Exit(1) from None
    _print_summary(model, seed, elapsed)
    out_console.print(f"results written to [bold]{out}[/]")


def _print_summary(model, seed: int, elapsed: float) -> None:
    collab = model.outputs.collaborative()
    groups = model.outputs.groups()
    first, last = collab.iloc[0], collab.iloc[-1]
    s = model.parameters
    out_console.print(
        f"[bold]{s.name}[/] · seed {seed} · {model.week} weeks · ran in {elapsed:.2f} s"
    )
    out_console.print(
        f"{len(model.sites)} sites · {model.patients.n:,} patients · "
        f"{model.providers.n:,} providers"
    )
    table = Table(title="Collaborative", title_justify="left", header_style="bold")
    table.add_column("outcome")
    table.add_column("week 0", justify="right")
    table.add_column(f"week {model.week}", justify="right")
    rows = [
        ("patients' trust in providers", "patient_trust", "{:.3f}"),
        ("providers' regard for patients", "provider_regard", "{:.3f}"),
        ("retention in care", "retention", "{:.1%}"),
        ("value of care (0-1)", "value", "{:.3f}"),
        ("equity gap in value", "equity_gap", "{:.3f}"),
        ("changes adopted", "changes_adopted", "{:.0f}"),
        ("  patient-originated", "patient_originated", "{:.0f}"),
        ("  staff-originated", "staff_originated", "{:.0f}"),
        ("changes in use now", "changes_in_use", "{:.0f}"),
        ("sustained changes", "sustained_changes", "{:.0f}"),
        ("representatives heard (last meeting)", "voice_share", "{:.1%}"),
        ("representatives who left", "reps_dropped", "{:.0f}"),
    ]
    for label, column, fmt in rows:
        table.add_row(label, fmt.format(first[column]), fmt.format(last[column]))
    out_console.print(table)

    per_group = Table(title="Patient groups", title_justify="left", header_style="bold")
    for column in ("group", "retention", "trust", "value", "provider stigma"):
        per_group.add_column(column, justify="left" if column == "group" else "right")
    start = groups[groups["step"] == 0].set_index("group")
    end = groups[groups["step"] == model.week].set_index("group")
    for name in end.index:
        per_group.add_row(
            end.loc[name, "label"],
            f"{start.loc[name, 'retention']:.0%} → {end.loc[name, 'retention']:.0%}",
            f"{start.loc[name, 'trust']:.2f} → {end.loc[name, 'trust']:.2f}",
            f"{start.loc[name, 'value']:.2f} → {end.loc[name, 'value']:.2f}",
            f"{start.loc[name, 'provider_stigma']:.2f} → {end.loc[name, 'provider_stigma']:.2f}",
        )
    out_console.print(per_group)
