"""One simulation of a calibration: a particle's parameters through every run its targets
need, giving one number per target. It runs in a worker (a process of the local pool or a
Dask worker), so it is a plain function of a small, picklable task."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from coprod_sim.calibration.spec import RunGroup
from coprod_sim.calibration.summaries import TABLE, summarise


@dataclass(frozen=True)
class SimulationTask:
    """A particle to simulate: where it sits in the calibration, its seed and parameters."""

    generation: int
    index: int
    seed: int
    parameters: dict[str, float]
    groups: tuple[RunGroup, ...]
    targets: dict[str, Any]  # name -> Target


@dataclass
class SimulationResult:
    """The targets' simulated values, or the error that stopped the simulation."""

    generation: int
    index: int
    seed: int
    parameters: dict[str, float]
    summaries: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def simulate(task: SimulationTask) -> SimulationResult:
    """Run each of the task's runs with its parameters and seed, and summarise them.

    Every run of one simulation takes the same seed (common random numbers between its
    scenarios); an error is returned, not raised: the particle is rejected, the
    calibration goes on.
    """
    from coprod_sim.model import CoproductionModel

    result = SimulationResult(task.generation, task.index, task.seed, dict(task.parameters))
    started = time.perf_counter()
    try:
        for group in task.groups:
            scenario = group.scenario.with_overrides(task.parameters)
            # Every statistic reads the first and the last week: only those are recorded.
            model = CoproductionModel.from_scenario(
                scenario, rng=task.seed, with_agents=False, record_steps={0, group.steps}
            )
            model.run_for(group.steps)
            tables = {"collaborative": model.outputs.collaborative()}
            if any(TABLE[task.targets[name].statistic] == "sites" for name in group.targets):
                tables["sites"] = model.outputs.frames()["sites"]
            for name in group.targets:
                target = task.targets[name]
                result.summaries[name] = summarise(
                    target.statistic,
                    target.outputs,
                    tables["collaborative"],
                    tables.get("sites"),
                    target.threshold,
                )
    except Exception as error:  # a failing particle is data: it is rejected, not fatal
        result.summaries = {}
        result.error = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=8)}"
    result.seconds = time.perf_counter() - started
    return result
