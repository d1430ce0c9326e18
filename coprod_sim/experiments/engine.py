"""The evaluator: runs an experiment's missing runs through an Executor, streaming to Parquet.

Any :class:`concurrent.futures.Executor` will do:

* ``local`` (the default): a process pool on all cores, with no set-up;
* ``sequential``: in this process, one run after another, for debugging;
* ``dask``: a Dask distributed cluster (``Client(address).get_executor()``).

At most a few runs per worker are in flight, and finished runs are written in
parts of ``flush_runs`` runs (by default a twentieth of the sweep, at most 50)
or every ``flush_seconds``, so memory stays flat
whatever the number of runs. A run that raises is retried ``retries`` times and
then recorded in ``errors/`` while the sweep goes on. Ctrl-C or SIGTERM stops cleanly
(:mod:`~coprod_sim.experiments.stopping`; a second one stops at once): finished runs are
written, no worker outlives the sweep, and the folder resumes where it stopped. A folder
that cannot be written (a full disk) stops the sweep the same way, with the reason.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from coprod_sim import __version__
from coprod_sim.errors import ExecutorError, Problem
from coprod_sim.experiments.parts import rows_to_table, write_table
from coprod_sim.experiments.record import header_for
from coprod_sim.experiments.seeds import replication_seed
from coprod_sim.experiments.spec import Experiment
from coprod_sim.experiments.stopping import (
    STOP_SIGNALS,
    Stop,
    blocked,
    forkserver_environment,
    worker_initializer,
)
from coprod_sim.experiments.store import DRAWS_FILE, ResultsFolder, check_folder
from coprod_sim.scenario import Scenario

ExecutorKind = Literal["local", "sequential", "dask"]
#: What stopped a sweep early, when the user did (:attr:`Stop.reason`).
CTRL_C = "Ctrl-C"
USER_STOPS = (CTRL_C, "SIGTERM")


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs, small enough to send to a worker."""

    ids: dict[str, Any]  # run_id, scenario_id, scenario, replication, seed
    base: Scenario
    values: dict[str, Any]  # factor values
    steps: int
    final: tuple[str, ...]
    series: tuple[str, ...]
    series_steps: tuple[int, ...]


@dataclass
class RunResult:
    """What a worker sends back: the run's rows, or its error."""

    run_id: str
    row: dict[str, Any] | None = None
    series: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    trace: str | None = None
    seconds: float = 0.0  # the model's own time: build, run, outputs (not stored in rows)


@dataclass
class SweepSummary:
    """How a sweep went."""

    out: Path
    planned: int
    already_done: int
    completed: int = 0
    failed: int = 0
    stopped_by: str | None = None  # what stopped the sweep early (CTRL_C, a dead worker)
    elapsed: float = 0.0
    model_seconds: float = 0.0  # the runs' own time, summed: elapsed less this is overhead
    partial_files: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # why each part was set aside
    rebuilt: list[str] = field(default_factory=list)  # files of the record rebuilt, and why
    opened: bool = False  # whether the folder was opened (made, if new) before any stop

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None

    @property
    def stopped_by_user(self) -> bool:
        """Whether Ctrl-C or SIGTERM stopped it (not a dead worker or a full disk)."""
        return self.stopped_by in USER_STOPS

    @property
    def done(self) -> int:
        return self.already_done + self.completed

    @property
    def missing(self) -> int:
        return self.planned - self.done


def execute(task: RunTask) -> RunResult:
    """Run one scenario and keep its outcomes; an error is returned, not raised."""
    from coprod_sim.model import CoproductionModel

    run_id = task.ids["run_id"]
    kept = _kept_steps(task)
    try:
        scenario = task.base.with_overrides(task.values) if task.values else task.base
        started = time.perf_counter()
        # A sweep reads only the outputs, and of them the weeks it keeps: no per-person
        # Mesa agents, and the outputs recorded at those weeks only (the same results).
        model = CoproductionModel.from_scenario(
            scenario, rng=task.ids["seed"], with_agents=False, record_steps=kept
        )
        model.run_for(task.steps)
        if kept is None:
            frame = model.outputs.collaborative()
        else:
            at_step = {row["step"]: row for row in model.outputs.rows()}
        seconds = time.perf_counter() - started
    except Exception as error:  # a failing run is data: the sweep goes on
        return RunResult(run_id, error=f"{type(error).__name__}: {error}", trace=_trace())
    common = {**task.ids, **task.values, "version": __version__}
    if kept is None:
        last = frame.iloc[-1]
        row = {**common, **{k: _plain(last[k]) for k in task.final}}
        series = [
            {**common, "step": int(step), **{k: _plain(frame[k].iat[step]) for k in task.series}}
            for step in task.series_steps
        ]
    else:  # the collaborative rows are the frame's rows, as Python values
        last = at_step[task.steps]
        row = {**common, **{k: _plain(last[k]) for k in task.final}}
        series = [
            {**common, "step": int(step), **{k: _plain(at_step[step][k]) for k in task.series}}
            for step in task.series_steps
        ]
    return RunResult(run_id, row=row, series=series, seconds=seconds)


def _kept_steps(task: RunTask) -> set[int] | None:
    """The weeks a run's outcomes read: the last, and those of the series; ``None`` (record
    every week and read the frame) for series weeks outside 0..steps, which a validated
    experiment never has."""
    steps = [int(step) for step in task.series_steps]
    if task.steps < 0 or not all(0 <= step <= task.steps for step in steps):
        return None
    return {task.steps, *steps}


def tasks(experiment: Experiment, skip: set[str] = frozenset()) -> Iterator[RunTask]:
    """The experiment's runs, replication by replication, without those in ``skip``.

    Replication-major order means an interrupted sweep already holds whole
    replications of every point, which is what the analysis pairs on.
    """
    spec = experiment.spec
    outcomes = spec.outcomes
    for replication in range(spec.replications):
        seed = replication_seed(spec.seed, replication)
        bases = _bases(experiment, replication)
        for point in experiment.points:
            run_id = f"{point.scenario_id}-r{replication:04d}"
            if run_id in skip:
                continue
            yield RunTask(
                ids={
                    "run_id": run_id,
                    "scenario_id": point.scenario_id,
                    "scenario": point.label,
                    "replication": replication,
                    "seed": seed,
                },
                base=bases[point.label],
                values=point.values,
                steps=spec.steps,
                final=tuple(outcomes.final),
                series=tuple(outcomes.series),
                series_steps=tuple(outcomes.series_steps),
            )


def _bases(experiment: Experiment, replication: int) -> dict[str, Scenario]:
    """The base scenarios of one replication: the experiment's, on the replication's
    posterior draw when it has one (every design point shares the draw, as it shares the
    seed)."""
    if not experiment.draws:
        return experiment.bases
    draw = experiment.draws[replication]
    return {label: base.with_overrides(draw) for label, base in experiment.bases.items()}


def draws_table(experiment: Experiment) -> pa.Table | None:
    """The posterior draw of each replication, when the experiment has them."""
    if not experiment.draws:
        return None
    rows = [{"replication": r, **draw} for r, draw in enumerate(experiment.draws)]
    return pa.Table.from_pylist(rows)


def manifest(experiment: Experiment) -> pa.Table:
    """Every planned run with its identifiers and factor values, in the order of :func:`tasks`.

    Built a column at a time from one row per design point, not a dict per run: the
    largest sweep allowed starts in seconds, not minutes.
    """
    spec = experiment.spec
    points = rows_to_table(
        [{"scenario_id": p.scenario_id, "scenario": p.label, **p.values} for p in experiment.points]
    )
    n_points, n_reps = points.num_rows, spec.replications
    replication = pa.array(np.repeat(np.arange(n_reps, dtype=np.int64), n_points))
    seeds = pa.array([replication_seed(spec.seed, r) for r in range(n_reps)], pa.int64())
    runs = points.take(pa.array(np.tile(np.arange(n_points, dtype=np.int64), n_reps)))
    scenario_id = runs.column("scenario_id")
    suffix = pc.utf8_lpad(pc.cast(replication, pa.string()), 4, "0")
    columns = {
        "run_id": pc.binary_join_element_wise(scenario_id, suffix, "-r"),
        "scenario_id": scenario_id,
        "scenario": runs.column("scenario"),
        "replication": replication,
        "seed": seeds.take(replication),
    }
    for name in points.column_names[2:]:
        columns[name] = runs.column(name)
    return pa.table(columns)


def design_table(experiment: Experiment) -> pa.Table | None:
    """The raw SALib sample, one row per design point (each base scenario's points are
    the whole sample, in order)."""
    if experiment.sample is None:
        return None
    columns = {"scenario_id": [p.scenario_id for p in experiment.points]}
    sample = np.tile(experiment.sample, (len(experiment.bases), 1))
    for j, name in enumerate(experiment.factor_names):
        columns[name] = sample[:, j].tolist()
    return pa.table(columns)


def run_experiment(
    experiment: Experiment,
    out: Path,
    *,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
    command: str | None = None,
    flush_runs: int | None = None,
    flush_seconds: float = 10.0,
) -> SweepSummary:
    """Run whatever of ``experiment`` is missing from ``out``; see the module docstring.

    Raises :class:`~coprod_sim.errors.FolderError` (nothing written) if ``out`` holds another
    experiment, is in use or cannot be created. Ctrl-C or SIGTERM, a dead worker of the local
    pool, or a folder that can no longer be written (a full disk) returns a summary with
    ``interrupted`` set and ``stopped_by`` saying which; finished runs are kept.
    """
    header = header_for(experiment, command)
    check_folder(out, header)  # before connecting anywhere: bad input writes nothing
    summary = SweepSummary(out, experiment.n_runs, 0)
    stop = Stop()
    started = time.perf_counter()
    try:
        # The executor first: a bad one (no Dask scheduler at --address) writes nothing.
        with stop, open_executor(executor, workers, address) as (pool, slots):
            folder = ResultsFolder.open(
                out,
                header,
                manifest(experiment),
                experiment.spec.to_toml(),
                design_table(experiment),
                {label: base.to_toml() for label, base in experiment.bases.items()},
            )
            summary.opened = True
            draws = draws_table(experiment)
            if draws is not None and not (out / DRAWS_FILE).exists():
                write_table(out / DRAWS_FILE, draws)  # which parameters each replication ran
            with folder:
                done = folder.completed()
                found = folder.housekeeping
                summary.already_done = len(done)
                summary.partial_files, summary.quarantined = found.partial_files, found.quarantined
                summary.reasons, summary.rebuilt = found.reasons, found.rebuilt
                if summary.missing:
                    writing = (progress, flush_runs, flush_seconds)
                    _run_missing(experiment, folder, done, pool, slots, summary, stop, *writing)
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: what finished is written (unless a second signal said "at once");
        # the runs in flight run again on resuming.
        summary.stopped_by = stop.reason if stop.requested else CTRL_C
    except BrokenProcessPool:
        # A worker process died (killed, or out of memory): the pool cannot go on. What
        # finished is saved; the runs in flight are run again on resuming.
        summary.stopped_by = "a worker process of the local pool died (killed, or out of memory?)"
    if summary.completed or summary.failed or summary.interrupted:
        summary.elapsed = time.perf_counter() - started
    return summary


def _run_missing(
    experiment: Experiment,
    folder: ResultsFolder,
    done: set[str],
    pool: Executor,
    slots: int,
    summary: SweepSummary,
    stop: Stop,
    progress: bool,
    flush_runs: int | None,
    flush_seconds: float,
) -> None:
    """Run what ``folder`` lacks through ``pool``, recording into ``summary``."""
    bar = _ProgressBar(experiment.n_runs, len(done), enabled=progress)
    # Small sweeps write often (a kill loses little); large ones in parts of 50.
    every = flush_runs or min(50, max(1, summary.missing // 20))
    writer = _Writer(folder, every, flush_seconds, stop)
    try:
        todo = tasks(experiment, done)
        _drive(pool, slots, todo, experiment.spec.retries, writer, summary, bar)
    except OSError as error:  # the folder could not be written: a full disk, say
        summary.stopped_by = f"could not write to {folder.path}: {error}"
    finally:
        bar.close()
        if not stop.at_once:  # after a second Ctrl-C nothing more is written
            try:
                writer.flush()  # what finished; after a failed write, one more attempt
            except OSError as error:
                summary.stopped_by = f"could not write to {folder.path}: {error}"


def _drive(
    pool: Executor,
    slots: int,
    todo: Iterator[RunTask],
    retries: int,
    writer: _Writer,
    summary: SweepSummary,
    bar: _ProgressBar,
) -> None:
    """Keep ``slots`` runs in flight; record each as it finishes, retrying failures."""
    pending: dict[Future, tuple[RunTask, int]] = {}  # future -> (task, attempt)

    def submit(task: RunTask, attempt: int) -> None:
        pending[pool.submit(execute, task)] = (task, attempt)

    def record_finished() -> None:
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in finished:
            task, attempt = pending.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                raise  # the whole pool is gone: stop, do not count the run as failed
            except Exception as error:  # the worker, not the run, failed (e.g. it was lost)
                result = RunResult(task.ids["run_id"], error=f"{type(error).__name__}: {error}")
            if result.error is None:
                writer.add(result)
                summary.completed += 1
                summary.model_seconds += result.seconds
            else:
                writer.add_error(task, attempt, result)
                if attempt <= retries:
                    submit(task, attempt + 1)
                    continue
                summary.failed += 1
            bar.advance(summary.failed)

    try:
        for task in todo:
            submit(task, 1)
            if len(pending) >= slots:
                record_finished()
        while pending:
            record_finished()
    finally:
        for future in pending:
            future.cancel()


class _ProgressBar:
    """Runs done of those planned, and how many failed, drawn on stderr (the CLI's own
    library, rich); draws nothing unless ``enabled``."""

    def __init__(self, total: int, done: int, *, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("runs"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[failed]} failed"),
            console=Console(stderr=True),  # stdout is for the results the CLI prints
            disable=not enabled,
        )
        self._task = self._progress.add_task("runs", total=total, completed=done, failed=0)
        self._progress.start()

    def advance(self, failed: int) -> None:
        """One more run finished (done or failed for good); ``failed`` so far."""
        self._progress.update(self._task, advance=1, failed=failed)

    def close(self) -> None:
        self._progress.stop()


class _Writer:
    """Buffers finished runs and writes them in parts, by count or by time."""

    def __init__(
        self, folder: ResultsFolder, every_runs: int, every_seconds: float, stop: Stop
    ) -> None:
        self.folder, self.every_runs, self.every_seconds = folder, every_runs, every_seconds
        self.stop = stop
        self.runs: list[dict[str, Any]] = []
        self.series: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, result: RunResult) -> None:
        self.runs.append(result.row)
        self.series.extend(result.series)
        self._maybe_flush()

    def add_error(self, task: RunTask, attempt: int, result: RunResult) -> None:
        self.errors.append(
            {
                **task.ids,
                **task.values,
                "version": __version__,
                "attempt": attempt,
                "error": result.error,
                "traceback": result.trace or "",
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        due = time.monotonic() - self.last >= self.every_seconds
        if len(self.runs) + len(self.errors) >= self.every_runs or due:
            self.flush()

    def flush(self) -> None:
        if self.runs or self.errors:
            # Ctrl-C must not cut a flush short (rows would be lost), nor land between the
            # write and the emptying of the buffer (they would be written twice).
            with self.stop.deferred():
                self.folder.write(self.runs, self.series, self.errors)
                self.runs, self.series, self.errors = [], [], []
        self.last = time.monotonic()


@contextlib.contextmanager
def open_executor(
    kind: ExecutorKind, workers: int | None = None, address: str | None = None
) -> Iterator[tuple[Executor, int]]:
    """An Executor of ``kind`` and how many runs to keep in flight on it."""
    if kind == "sequential":
        yield _SequentialExecutor(), 1
        return
    if kind == "local":
        n = workers or os.cpu_count() or 1
        # forkserver, not fork: forking a process with threads (a UI, a Dask client) can
        # deadlock; the server imports the model once and forks workers from that.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["coprod_sim.experiments.engine"])
        with forkserver_environment():  # it ignores Ctrl-C and dies with this process
            multiprocessing.forkserver.ensure_running()
        pool = ProcessPoolExecutor(
            max_workers=n, mp_context=context, initializer=worker_initializer
        )
        try:
            yield pool, 2 * n
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM, an error): the runs in flight are abandoned, not
            # waited for; they run again on resuming.
            _end_workers(pool)
            raise
        else:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if kind == "dask":
        if not address:
            raise ExecutorError(
                [Problem("--address", None, "the dask executor needs tcp://HOST:PORT")]
            )
        from distributed import Client
        from distributed.comm.addressing import parse_address, parse_host_port

        try:  # checked first: Client() on a malformed address fails noisily as it closes
            scheme, location = parse_address(address, strict=True)
            parse_host_port(location)
            if scheme not in ("tcp", "tls"):
                raise ValueError(f"unknown scheme {scheme!r}")
        except ValueError as error:
            raise ExecutorError(
                [Problem("--address", address, f"must be written tcp://HOST:PORT ({error})")]
            ) from None
        try:
            client = Client(address, timeout=5)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(
                [Problem("--address", address, f"no Dask scheduler answers there ({error})")]
            ) from None
        try:
            n = workers or sum(client.nthreads().values()) or 1
            yield client.get_executor(pure=False), 2 * n
        finally:
            client.close()
        return
    raise ExecutorError([Problem("--executor", kind, "must be one of: local, sequential, dask")])


class _SequentialExecutor(Executor):
    """Runs each task as it is submitted, in this process (debuggers and monkeypatches work)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # Ctrl-C is not caught: it stops the sweep
            future.set_exception(error)
        return future


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """End a local pool now: cancel what has not started and kill the workers (the runs in
    flight are abandoned, to run again on resuming), so that no process outlives the sweep
    and the interpreter's exit does not wait for runs nobody will read. Signals wait until
    this is done: it takes a moment, and a second Ctrl-C must not leave workers behind."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    with blocked(STOP_SIGNALS):
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(5.0)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, so that rows build clean Arrow columns."""
    return value.item() if hasattr(value, "item") else value


def _trace() -> str:
    return traceback.format_exc(limit=20)
