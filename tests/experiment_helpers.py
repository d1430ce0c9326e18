"""Small experiment specs and helpers shared by the experiment tests."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from coprod_sim.experiments import analysis
from coprod_sim.experiments.engine import RunResult, RunTask, execute
from tests.conftest import small_scenario

SPEC = """
name = "tiny"
scenario = "small.toml"
replications = {replications}
steps = {steps}
seed = 7
retries = {retries}

[factors]
power_sharing = [3, 7]
inclusion = ["convenience", "deliberate"]

[outcomes]
final = ["patient_trust", "value", "equity_gap", "patient_originated"]
series = ["patient_trust"]
series_steps = [0, 4, {steps}]
"""


def write_spec(
    folder: Path, *, replications: int = 3, steps: int = 8, retries: int = 0, text: str = SPEC
) -> Path:
    """A spec over the small four-site scenario, saved beside it in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.toml").write_text(small_scenario().to_toml())
    path = folder / "spec.toml"
    for key, value in (("replications", replications), ("steps", steps), ("retries", retries)):
        text = text.replace("{" + key + "}", str(value))
    path.write_text(text)
    return path


def results(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs and series of a folder, in a canonical order, for equality checks."""
    runs = analysis.load_runs(out).sort_values("run_id", ignore_index=True)
    series = analysis.load_series(out).sort_values(["run_id", "step"], ignore_index=True)
    return runs, series


def gated_execute(gate: Path, free_replications: int, task: RunTask) -> RunResult:
    """The engine's ``execute``, except that runs of replication ``free_replications`` and
    later wait until the file ``gate`` exists.

    A test that interrupts a sweep patches ``engine.execute`` with
    ``functools.partial(gated_execute, gate, k)``: replications below ``k`` run at once and
    the rest cannot finish before the test opens the gate, so the sweep is mid-way when the
    interruption lands, however fast or slow the machine. The function is found by name in
    each worker (process pool, forkserver or Dask), so it lives in an importable module.
    """
    if task.ids["replication"] >= free_replications:
        while not gate.exists():
            time.sleep(0.01)
    return execute(task)
