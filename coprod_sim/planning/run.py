"""Running a plan into a folder, resuming it, and writing its results and report.

A plan's folder holds::

    DIR/plan.json         the plan's record: its fingerprint, spec, versions, command
    DIR/spec.toml         the plan, its files named by absolute path (``coprod plan
                          DIR/spec.toml --out DIR`` resumes it from anywhere)
    DIR/experiment/       the sweep folder: every design in every future, streamed to
                          Parquet and resumed like any sweep (coprod_sim.experiments.engine)
    DIR/designs.csv       after a complete plan: one row per design (cost, targets met,
                          regret, how often it is the robust choice)
    DIR/differences.csv   each design against the reference, with verdicts and people
    DIR/futures.parquet   one row per design and future: the context, targets met, regret
    DIR/outcomes.csv, over_time.csv, time_to_target.csv, failures.csv   the other tables
    DIR/choice.json       the robust choice: the rule, the design, how often each design is
                          the choice over resampled futures
    DIR/report.html       the report to hand round (self-contained; opens offline)

A folder that holds another plan, or anything that is not a plan's, is refused before
anything is written (:class:`~coprod_sim.errors.FolderError`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from coprod_sim import __version__
from coprod_sim.errors import FolderError, Problem
from coprod_sim.experiments.engine import SweepSummary, run_experiment
from coprod_sim.experiments.report import replace_file
from coprod_sim.experiments.spec import scenario_path
from coprod_sim.planning.spec import Plan
from coprod_sim.provenance import environment

PLAN_FILE = "plan.json"
SPEC_FILE = "spec.toml"
EXPERIMENT = "experiment"
_OWN = {
    PLAN_FILE,
    SPEC_FILE,
    EXPERIMENT,
    "designs.csv",
    "differences.csv",
    "outcomes.csv",
    "futures.parquet",
    "over_time.csv",
    "failures.csv",
    "time_to_target.csv",
    "choice.json",
    "report.html",
    "figures",
}


def plan_header(plan: Plan, command: str | None = None) -> dict[str, Any]:
    """The plan's record, as ``plan.json`` keeps it."""
    return {
        "name": plan.spec.name,
        "fingerprint": plan.fingerprint(),
        "spec": plan.spec.model_dump(mode="json"),
        "designs": plan.designs,
        "design_costs": {n: c.model_dump(mode="json") for n, c in plan.design_costs.items()},
        "context": {name: list(bounds) for name, bounds in plan.context_bounds().items()},
        "futures_are": "posterior draws" if plan.posterior_futures else "Latin hypercube",
        "posterior": plan.experiment.posterior,
        "runs": plan.n_runs,
        "coprod_sim": __version__,
        "environment": environment(("mesa", "numpy", "pandas", "SALib", "ema_workbench")),
        "command": command,
    }


def completed_runs(out: str | Path) -> int:
    """Runs finished in a plan's folder so far, read from the parts' footers (cheap enough to
    poll while the plan runs; each part is renamed into place whole). For progress only: the
    sweep engine decides what counts as done when it resumes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for part in (Path(out) / EXPERIMENT / "runs").glob("*.parquet"):
        try:
            total += pq.read_metadata(part).num_rows
        except (OSError, pa.ArrowException):
            continue  # being written or set aside: counted once it is in place
    return total


def check_plan_folder(out: Path, header: dict[str, Any]) -> None:
    """Refuse a folder that holds another plan or files that are not a plan's."""
    if out.exists() and not out.is_dir():
        raise FolderError([Problem("--out", str(out), "is a file; give a folder")])
    if not out.exists():
        return
    record = out / PLAN_FILE
    if record.exists():
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise FolderError(
                [Problem("--out", str(out), f"has an unreadable {PLAN_FILE}: {error}")]
            ) from None
        if not isinstance(old, dict) or old.get("fingerprint") != header["fingerprint"]:
            name = old.get("name") if isinstance(old, dict) else None
            raise FolderError(
                [
                    Problem(
                        "--out",
                        str(out),
                        f"holds a different plan ({name!r}); choose another folder, or run "
                        "its own spec.toml to resume it",
                    )
                ]
            )
        return
    others = sorted(p.name for p in out.iterdir() if p.name not in _OWN)
    if others:
        raise FolderError(
            [
                Problem(
                    "--out",
                    str(out),
                    f"holds files that are not a plan's ({', '.join(others[:5])}); "
                    "choose an empty or new folder",
                )
            ]
        )


def run_plan(
    plan: Plan,
    out: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
    command: str | None = None,
) -> SweepSummary:
    """Run whatever of ``plan`` is missing from ``out`` and, once every run is done, write
    its results and report. Resumes after Ctrl-C, SIGTERM or ``kill -9`` as a sweep does."""
    out = Path(out)
    header = plan_header(plan, command)
    check_plan_folder(out, header)
    summary = run_experiment(
        plan.experiment,
        out / EXPERIMENT,
        executor=executor,
        workers=workers,
        address=address,
        progress=progress,
        command=command,
    )
    if summary.opened and not (out / PLAN_FILE).exists():
        replace_file(out / SPEC_FILE, _spec_toml(plan).encode())
        replace_file(out / PLAN_FILE, json.dumps(header, indent=2, default=str).encode())
    if summary.opened and summary.missing == 0 and not summary.interrupted:
        write_results(plan, out)
    return summary


def _spec_toml(plan: Plan) -> str:
    """The plan as given, with its scenario file and posterior folder as absolute paths, so
    that ``coprod plan DIR/spec.toml --out DIR`` resumes it from any folder."""
    data = plan.spec.model_dump(mode="json", exclude_none=True)
    base = Path(plan.source).parent
    path = scenario_path(plan.spec.scenario, base)
    if isinstance(path, Path):
        data["scenario"] = str(path.resolve())
    posterior = plan.spec.context.posterior
    if posterior:
        data["context"]["posterior"] = str((base / posterior).resolve())
    return tomli_w.dumps(data)


def write_results(plan: Plan, out: Path) -> Path:
    """Analyse a complete plan folder and write its tables and report; returns the report."""
    from coprod_sim.experiments import analysis
    from coprod_sim.planning.decision import analyse
    from coprod_sim.planning.discovery import failure_box
    from coprod_sim.planning.report import write_report

    folder = out / EXPERIMENT
    results = analyse(plan, analysis.load_runs(folder), analysis.load_series(folder))
    boxes = []
    leading = results.designs.sort_values("chosen_share", ascending=False)["design"].head(3)
    for design in leading:
        cells = results.cells[results.cells["scenario"] == design].sort_values("future")
        box = failure_box(design, cells[plan.context_fields], ~cells["targets_met"].to_numpy())
        boxes.append((design, box))
    _write_csv(out / "failures.csv", _failure_table(results, boxes))
    _write_csv(out / "time_to_target.csv", results.time_to_target)
    replace_file(out / "choice.json", json.dumps(results.choice, indent=2).encode())
    _write_csv(out / "designs.csv", results.designs)
    _write_csv(out / "differences.csv", results.differences)
    _write_csv(out / "outcomes.csv", results.outcomes)
    _write_csv(out / "over_time.csv", results.over_time)
    buffer = results.cells.to_parquet(index=False)
    replace_file(out / "futures.parquet", buffer)
    return write_report(plan, out, results, boxes)


def _failure_table(results, boxes) -> pd.DataFrame:
    """One row per leading design: where it fails, in words, with coverage and density."""
    from coprod_sim.planning.report import no_box

    rows = []
    for design, box in boxes:
        rows.append(
            {
                "design": design,
                "where_it_fails": box.describe() if box else no_box(results, design),
                "coverage": box.coverage if box else None,
                "density": box.density if box else None,
                "failing_futures": int((~results.cells.loc[
                    results.cells["scenario"] == design, "targets_met"
                ]).sum()),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def _write_csv(path: Path, frame) -> None:
    replace_file(path, frame.to_csv(index=False).encode())
