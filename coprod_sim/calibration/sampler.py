"""A pyabc sampler whose particles follow from their keys, so a calibration is reproducible
on any executor and resumes after ``kill -9`` with no simulation lost or run twice.

pyabc's own parallel samplers accept particles in the order they finish, so a posterior
depends on the workers' timing. This one numbers the proposals of each generation
:math:`t` as :math:`i = 0, 1, 2, \\dots` and seeds numpy's global generator (which pyabc's
priors and transitions draw from) with :math:`(\\text{seed}, t, i)` before each, so
proposal :math:`i` is the same parameter in any process. A generation runs in batches:

1. **propose** each particle of the batch, in this process, recording its parameters;
2. **simulate** those the log lacks on the executor (``local``, ``sequential``, ``dask``),
   logging each as it finishes (:mod:`~coprod_sim.calibration.log`);
3. **replay** the batch in index order through pyabc's own acceptance, with the logged
   summaries in place of the model, until the population is full.

The accepted particles are the first :math:`n` in index order, whatever finished first,
and the batch sizes depend on nothing but the acceptances so far, so the result is the same
with 1 worker or 64. The budget counts every simulation logged, including those of a batch
beyond the last one accepted; when it runs out mid-generation, that generation is not kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

import numpy as np
import pyabc

from coprod_sim.calibration.log import SimulationLog
from coprod_sim.calibration.simulation import SimulationResult, SimulationTask, simulate
from coprod_sim.calibration.spec import Calibration

#: Relative difference below which a logged particle's parameters count as the proposal's.
SAME_PARAMETERS = 1e-9
#: A batch is never smaller than this (so that a pool is kept busy near a generation's end).
MIN_BATCH = 8


class LogMismatchError(RuntimeError):
    """The log holds another particle under a proposal's key."""


def proposal_seed(seed: int, generation: int, index: int) -> int:
    """The 32-bit seed of numpy's global generator for one proposal."""
    return int(np.random.SeedSequence([seed, generation + 10**6, index]).generate_state(1)[0])


def model_seed(seed: int, generation: int, index: int) -> int:
    """The model's seed for one particle's runs (non-negative, 63 bits)."""
    state = np.random.SeedSequence([seed, generation + 10**6, index, 1]).generate_state(
        1, np.uint64
    )
    return int(state[0] >> np.uint64(1))


class ReplayModel:
    """The model pyabc calls: it records a proposal, or gives back a logged simulation."""

    def __init__(self, parameters: list[str], targets: list[str], log: SimulationLog) -> None:
        self.parameters, self.targets, self.log = parameters, targets, log
        self.key: tuple[int, int] | None = None
        self.replaying = False
        self.proposed: dict[str, float] = {}

    def __call__(self, parameter: Any) -> dict[str, float]:
        values = {name: float(parameter[name]) for name in self.parameters}
        far = dict.fromkeys(self.targets, math.inf)  # never accepted, never NaN in a quantile
        if not self.replaying:
            self.proposed = values
            return far
        result = self.log.get(*self.key)
        if result is None or not _same(result.parameters, values):
            raise LogMismatchError(
                f"simulation {self.key} of the log has parameters {result and result.parameters}"
                f", not the proposal's {values}"
            )
        return far if result.error else dict(result.summaries)


class ReplaySampler(pyabc.Sampler):
    """See the module docstring. ``budget`` caps the simulations logged in all."""

    def __init__(
        self,
        calibration: Calibration,
        log: SimulationLog,
        pool: Executor,
        slots: int,
        budget: int,
        *,
        flush_seconds: float = 10.0,
        on_simulation: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.calibration, self.log, self.pool, self.slots = calibration, log, pool, slots
        self.budget, self.flush_seconds = budget, flush_seconds
        self.on_simulation = on_simulation or (lambda used: None)
        self.model = ReplayModel(calibration.parameter_names, calibration.target_names, log)
        self.seed = calibration.spec.seed
        self.out_of_budget = False

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,  # every batch is replayed in order anyway
        ana_vars: Any = None,
    ) -> pyabc.Sample:
        sample = self._create_empty_sample()
        used = self.log.count_before(t)  # deterministic: earlier generations are complete
        accepted = evaluated = start = 0
        state = np.random.get_state()  # noqa: NPY002 (pyabc draws from the global generator)
        try:
            while accepted < n and evaluated < max_eval:
                size = min(_batch_size(n, accepted, evaluated), self.budget - used)
                if size <= 0:
                    self.out_of_budget = True
                    break
                batch = range(start, start + size)
                proposals = {i: self._propose(simulate_one, t, i) for i in batch}
                self.simulate(t, proposals)
                for i in batch:
                    particle = self._replay(simulate_one, t, i)
                    sample.append(particle)
                    evaluated += 1
                    accepted += bool(particle.accepted)
                    if accepted == n:
                        break
                used += size
                start += size
        finally:
            np.random.set_state(state)  # noqa: NPY002
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample

    # -- the three steps -----------------------------------------------------------------
    def _propose(self, simulate_one: Callable, t: int, i: int) -> dict[str, float]:
        np.random.seed(proposal_seed(self.seed, t, i))  # noqa: NPY002
        self.model.replaying = False
        simulate_one()
        return self.model.proposed

    def _replay(self, simulate_one: Callable, t: int, i: int) -> Any:
        np.random.seed(proposal_seed(self.seed, t, i))  # noqa: NPY002
        self.model.replaying, self.model.key = True, (t, i)
        try:
            return simulate_one()
        finally:
            self.model.replaying = False

    def simulate(self, t: int, proposals: dict[int, dict[str, float]]) -> None:
        """Simulate the proposals the log lacks, logging each as it finishes."""
        todo = []
        for i, values in proposals.items():
            logged = self.log.get(t, i)
            if logged is None:
                todo.append(self._task(t, i, values))
            elif not _same(logged.parameters, values):
                raise LogMismatchError(
                    f"simulation ({t}, {i}) of the log has parameters {logged.parameters}, "
                    f"not the proposal's {values}: the folder holds another calibration"
                )
        pending: dict[Future, SimulationTask] = {}
        last_flush = time.monotonic()
        try:
            for task in todo:
                pending[self.pool.submit(simulate, task)] = task
                if len(pending) >= self.slots:
                    last_flush = self._collect(pending, last_flush)
            while pending:
                last_flush = self._collect(pending, last_flush)
        finally:
            for future in pending:
                future.cancel()
        self.log.flush()

    def _collect(self, pending: dict[Future, SimulationTask], last_flush: float) -> float:
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in finished:
            pending.pop(future)
            result: SimulationResult = future.result()  # a lost worker stops the calibration
            self.log.add(result)
            self.on_simulation(len(self.log))
        if time.monotonic() - last_flush >= self.flush_seconds or self.log.unwritten >= 50:
            self.log.flush()
            return time.monotonic()
        return last_flush

    def _task(self, t: int, i: int, values: dict[str, float]) -> SimulationTask:
        c = self.calibration
        return SimulationTask(
            t, i, model_seed(self.seed, t, i), values, c.groups, dict(c.spec.targets)
        )


def _batch_size(n: int, accepted: int, evaluated: int) -> int:
    """Proposals for the next batch: enough, at the acceptance rate so far, to fill the
    population, with a tenth more; the first batch is one population."""
    if evaluated == 0:
        return n
    rate = max(accepted / evaluated, 0.01)
    return max(MIN_BATCH, min(10 * n, math.ceil(1.1 * (n - accepted) / rate)))


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=SAME_PARAMETERS, abs_tol=1e-300) for k in a
    )
