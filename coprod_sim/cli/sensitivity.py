"""``coprod sensitivity SPEC --out DIR``: run a Sobol or Morris design and print the indices.

Exit codes as for ``coprod sweep`` (:mod:`coprod_sim.cli.sweep`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coprod_sim.cli.common import (
    AddressOpt,
    ExecutorName,
    ExecutorOpt,
    ReplicationsOpt,
    RetriesOpt,
    StepsOpt,
    WorkersOpt,
    fail,
    out_console,
)
from coprod_sim.cli.sweep import run_and_report
from coprod_sim.errors import InputError, Problem, SpecError


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
    except InputError as error:
        raise fail(error) from None
    run_and_report(experiment, out, executor, workers, address, print_summary=False)
    try:
        indices = analysis.sensitivity(out)
    except InputError as error:  # a part damaged since the sweep, say
        raise fail(error) from None
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
