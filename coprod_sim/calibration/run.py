"""The calibration folder and the run that fills it: ABC-SMC through pyabc, resumable.

A calibration folder holds::

    calibration.json        the record: spec, fingerprint, version, command (written first)
    spec.toml               the spec, as run
    simulations/            every simulation, as it finished (coprod_sim.calibration.log)
    abc.db                  pyabc's history of the generations (SQLite)
    generations.parquet     every generation's particles: parameters, weight, distance
    posterior.parquet       the last generation: one row per particle, with its parameters,
                            ``weight`` and ``generation``
    predictive.parquet      posterior draws simulated again: each target's value
    report.html, figures/   the report (coprod_sim.calibration.report)

The method is pyabc's ABC-SMC (Toni et al. 2009; Klinger, Rickert & Hasenauer 2018):
uniform priors over the parameter table's ranges, the standardised Euclidean distance of
:mod:`~coprod_sim.calibration.spec`, each generation's threshold the ``quantile`` of the
last generation's weighted distances (the first from a sample of the prior), and a
multivariate normal perturbation kernel. The sampler is this package's own
(:mod:`~coprod_sim.calibration.sampler`), which makes the result independent of the
executor and lets a killed calibration resume exactly where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from coprod_sim import __version__
from coprod_sim.calibration.log import SimulationLog
from coprod_sim.calibration.sampler import ReplaySampler
from coprod_sim.calibration.spec import Calibration
from coprod_sim.errors import CalibrationError, FolderError, Problem
from coprod_sim.experiments.engine import CTRL_C, USER_STOPS, ExecutorKind, open_executor
from coprod_sim.experiments.parts import write_table
from coprod_sim.experiments.posterior import posterior_meta
from coprod_sim.experiments.stopping import Stop

RECORD = "calibration.json"
SPEC = "spec.toml"
HISTORY = "abc.db"
GENERATIONS = "generations.parquet"
POSTERIOR = "posterior.parquet"
PREDICTIVE = "predictive.parquet"
STATUS = "status.json"
SCENARIOS = "scenarios"
#: The log's generation for posterior-predictive draws from generation t is this less t
#: (pyabc's prior sample is -1): a calibration continued to later generations draws anew.
PREDICTIVE_GENERATION = -1000
_OWN = {RECORD, SPEC, HISTORY, GENERATIONS, POSTERIOR, PREDICTIVE, STATUS, ".lock",
        "simulations", "quarantine", "figures", "report.html", SCENARIOS}  # fmt: skip
#: A first generation needs a prior sample and about twice a population more.
FIRST_GENERATION_POPULATIONS = 3


@dataclass
class CalibrationSummary:
    """How a calibration went."""

    out: Path
    budget: int
    simulations: int = 0  # logged in all
    new: int = 0  # run in this session
    generations: int = 0  # complete generations
    finished: str | None = None  # why it stopped when complete
    stopped_by: str | None = None  # what interrupted it
    set_aside: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    predictive: int = 0

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None

    @property
    def stopped_by_user(self) -> bool:
        return self.stopped_by in USER_STOPS


def predictive_draws(calibration: Calibration) -> int:
    """Posterior draws simulated for the predictive check: the spec's, within a fifth of
    the budget, which counts them too."""
    return min(calibration.spec.predictive, calibration.spec.budget // 5)


def abc_budget(calibration: Calibration) -> int:
    """The simulations ABC-SMC may use: the budget less the predictive draws."""
    return calibration.spec.budget - predictive_draws(calibration)


def check_budget(calibration: Calibration) -> None:
    """Refuse a budget too small for a first generation, before anything is written."""
    population = calibration.spec.schedule.population
    need = FIRST_GENERATION_POPULATIONS * population
    if abc_budget(calibration) < need:
        raise CalibrationError(
            [
                Problem(
                    "budget",
                    calibration.spec.budget,
                    f"a first generation of {population} particles needs about {need} "
                    f"simulations after the predictive draws ({predictive_draws(calibration)}); "
                    "raise the budget or lower schedule.population (--population)",
                )
            ],
            calibration.source,
        )


def calibrate(
    calibration: Calibration,
    out: Path,
    *,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
    command: str | None = None,
) -> CalibrationSummary:
    """Run or resume ``calibration`` into ``out``; see the module docstring.

    Bad input (a spec, a folder holding something else, an executor) raises an
    :class:`~coprod_sim.errors.InputError` with nothing written. Ctrl-C or SIGTERM returns a
    summary with ``stopped_by`` set: every finished simulation is in the log, and the same
    command resumes.
    """
    check_budget(calibration)
    record = _record(calibration, command)
    check_folder(out, record)
    summary = CalibrationSummary(out, calibration.spec.budget)
    stop = Stop()
    started = time.perf_counter()
    log: SimulationLog | None = None
    try:
        with stop, open_executor(executor, workers, address) as (pool, slots):
            _open_folder(out, record, calibration)
            with _locked(out):
                log = SimulationLog(out, calibration.parameter_names, calibration.target_names)
                log.open()
                summary.set_aside = log.set_aside
                before = len(log)
                with _Progress(calibration.spec.budget, len(log), enabled=progress) as bar:
                    sampler = ReplaySampler(
                        calibration, log, pool, slots, abc_budget(calibration),
                        on_simulation=bar.update,
                    )  # fmt: skip
                    history = _run_abc(calibration, out, sampler, summary)
                    _write_populations(calibration, out, history)
                    summary.predictive = _predictive(calibration, out, sampler, history)
                summary.new = len(log) - before
                _write_status(out, summary)
    except KeyboardInterrupt:
        summary.stopped_by = stop.reason if stop.requested else CTRL_C
        if log is not None and not stop.at_once:
            with contextlib.suppress(OSError):
                log.flush()
    except OSError as error:
        summary.stopped_by = f"could not write to {out}: {error}"
    if log is not None:
        summary.simulations = len(log)
    summary.elapsed = time.perf_counter() - started
    return summary


# -- ABC-SMC -------------------------------------------------------------------------------
def _run_abc(calibration: Calibration, out: Path, sampler: ReplaySampler, summary) -> Any:
    """Run generations until a stopping rule holds; the history of those complete."""
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc talks at INFO per generation
    schedule = calibration.spec.schedule
    prior = pyabc.Distribution(
        **{
            name: pyabc.RV("uniform", low, high - low)
            for name, (low, high) in calibration.bounds.items()
        }
    )
    weights = {name: 1.0 / t.sd for name, t in calibration.spec.targets.items()}
    abc = pyabc.ABCSMC(
        sampler.model,
        prior,
        pyabc.PNormDistance(p=2, fixed_weights=weights),
        population_size=schedule.population,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=schedule.quantile),
        transitions=pyabc.MultivariateNormalTransition(),
    )
    db = f"sqlite:///{out / HISTORY}"
    history = _load_or_new(abc, db, out, calibration)
    done = history.max_t + 1  # complete generations
    last_eps = _last_epsilon(history)
    remaining = schedule.generations - done
    if remaining > 0 and not (last_eps is not None and last_eps <= schedule.minimum_epsilon):
        with np.errstate(all="ignore"):  # inf distances of failed runs, by design
            abc.run(
                minimum_epsilon=schedule.minimum_epsilon,
                max_nr_populations=remaining,
                max_total_nr_simulations=abc_budget(calibration),
            )
    history = abc.history
    summary.generations = history.max_t + 1
    last_eps = _last_epsilon(history)
    if sampler.out_of_budget or sampler.log.count_abc() >= abc_budget(calibration):
        summary.finished = "the budget was spent"
    elif summary.generations >= schedule.generations:
        summary.finished = f"{schedule.generations} generations done"
    elif last_eps is not None and last_eps <= schedule.minimum_epsilon:
        summary.finished = f"epsilon {last_eps:.3g} reached the minimum"
    else:
        summary.finished = "pyabc stopped"
    if summary.generations == 0:
        raise CalibrationError(
            [
                Problem(
                    "budget",
                    calibration.spec.budget,
                    "was spent before a first generation was complete; raise it",
                )
            ],
            calibration.source,
        )
    return history


def _load_or_new(abc: Any, db: str, out: Path, calibration: Calibration) -> Any:
    """Continue the history in ``out``, or start one (a history with no run in it, from a
    calibration killed as it began, is started again: the log keeps its simulations)."""
    path = out / HISTORY
    if path.exists():
        try:
            abc.load(db, 1)
            abc.history.max_t  # noqa: B018 (raises when the database holds no run)
            return abc.history
        except Exception:  # an empty or half-created database: start it again
            pass
        path.unlink()
    return abc.new(db, calibration.observed())


def _last_epsilon(history: Any) -> float | None:
    if history.max_t < 0:
        return None
    populations = history.get_all_populations()
    eps = populations[populations.t == history.max_t].epsilon
    return float(eps.iloc[0]) if len(eps) else None


# -- outputs -------------------------------------------------------------------------------
def population_table(calibration: Calibration, history: Any, t: int) -> pa.Table:
    """Generation ``t``'s particles: parameters, weight, distance, generation, and the
    targets' simulated values."""
    population = history.get_population(t=t)
    rows = []
    for particle in population.particles:
        rows.append(
            {
                **{name: float(particle.parameter[name]) for name in calibration.parameter_names},
                "weight": float(particle.weight),
                "distance": float(particle.distance),
                "generation": int(t),
                **{name: float(particle.sum_stat[name]) for name in calibration.target_names},
            }
        )
    return pa.Table.from_pylist(rows)


def _write_populations(calibration: Calibration, out: Path, history: Any) -> None:
    meta = posterior_meta(
        calibration.parameter_names, calibration.target_names, calibration.fingerprint()
    )
    tables = [population_table(calibration, history, t) for t in range(history.max_t + 1)]
    write_table(out / GENERATIONS, pa.concat_tables(tables).replace_schema_metadata(meta))
    write_table(out / POSTERIOR, tables[-1].replace_schema_metadata(meta))


def _predictive(calibration: Calibration, out: Path, sampler: ReplaySampler, history: Any) -> int:
    """Simulate posterior draws again, each with a fresh seed; write predictive.parquet."""
    draws = predictive_draws(calibration)
    if draws == 0:
        return 0
    posterior = population_table(calibration, history, history.max_t).to_pandas()
    rng = np.random.default_rng(np.random.SeedSequence([calibration.spec.seed, 7]))
    weights = posterior["weight"].to_numpy() / posterior["weight"].sum()
    chosen = rng.choice(len(posterior), size=draws, p=weights)
    names = calibration.parameter_names
    proposals = {j: {n: float(posterior[n].iat[k]) for n in names} for j, k in enumerate(chosen)}
    key = PREDICTIVE_GENERATION - history.max_t
    sampler.simulate(key, proposals)
    rows = []
    for j in range(draws):
        result = sampler.log.get(key, j)
        simulated = {n: result.summaries.get(n, float("nan")) for n in calibration.target_names}
        rows.append(
            {
                "draw": j,
                "seed": result.seed,
                **result.parameters,
                **simulated,
                "error": result.error,
            }
        )
    write_table(out / PREDICTIVE, pa.Table.from_pylist(rows))
    return draws


# -- the folder ----------------------------------------------------------------------------
def _record(calibration: Calibration, command: str | None) -> dict[str, Any]:
    return {
        "kind": "coprod_sim calibration",
        "name": calibration.spec.name,
        "fingerprint": calibration.fingerprint(),
        "version": __version__,
        "spec": calibration.spec.model_dump(mode="json"),
        "bounds": calibration.bounds,
        "source": calibration.source,
        "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def check_folder(path: Path, record: dict[str, Any]) -> None:
    """Refuse a folder that holds another calibration, or files that are not one's."""
    if path.exists() and not path.is_dir():
        raise FolderError([Problem("--out", str(path), "is a file; give a folder")])
    if not path.exists():
        return
    existing = path / RECORD
    if existing.exists():
        try:
            old = json.loads(existing.read_text())
            if not isinstance(old, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as error:
            raise FolderError(
                [Problem("--out", str(path), f"has an unreadable {RECORD}: {error}")]
            ) from None
        if old.get("fingerprint") != record["fingerprint"]:
            raise FolderError(
                [
                    Problem(
                        "--out",
                        str(path),
                        f"holds a different calibration ({old.get('name')!r}; "
                        f"{_differences(old, record)}); choose another folder, or re-run its "
                        "own spec to resume",
                    )
                ]
            )
        return
    others = sorted(p.name for p in path.iterdir() if p.name not in _OWN)
    if others:
        raise FolderError(
            [
                Problem(
                    "--out",
                    str(path),
                    f"holds other files ({', '.join(others[:5])}); give a new or empty folder",
                )
            ]
        )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    a, b = old.get("spec") or {}, new.get("spec") or {}
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k != "description")
    if old.get("version") != new.get("version"):
        keys.append(f"coprod_sim version {old.get('version')} -> {new.get('version')}")
    return "differs in " + (", ".join(keys) or "its scenarios")


def _open_folder(out: Path, record: dict[str, Any], calibration: Calibration) -> None:
    """Create the folder with its record, or keep the record of the one being resumed
    (its stopping rules brought up to date)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RECORD
    if path.exists():
        old = json.loads(path.read_text())
        record = {**old, **{k: record[k] for k in ("spec", "bounds", "command", "source")}}
    _write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    _write_text(out / SPEC, _spec_toml(calibration, out))


def _spec_toml(calibration: Calibration, out: Path) -> str:
    """The spec as run, self-contained: each target's scenario, fully resolved, is written
    to ``scenarios/<target>.toml`` and named there, so ``coprod calibrate OUT/spec.toml
    --out OUT`` resumes the folder from anywhere."""
    import tomli_w

    data = calibration.spec.model_dump(mode="json", exclude_none=True)
    folder = out / SCENARIOS
    folder.mkdir(exist_ok=True)
    for group in calibration.groups:
        for name in group.targets:
            _write_text(folder / f"{name}.toml", group.scenario.to_toml())
            data["targets"][name].update(scenario=f"{SCENARIOS}/{name}.toml", set={})
    return tomli_w.dumps(data)


def _write_status(out: Path, summary: CalibrationSummary) -> None:
    status = {
        "finished": summary.finished,
        "generations": summary.generations,
        "predictive": summary.predictive,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write_text(out / STATUS, json.dumps(status, indent=2) + "\n")


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@contextlib.contextmanager
def _locked(out: Path):
    from filelock import FileLock, Timeout

    lock = FileLock(out / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise FolderError(
            [Problem("--out", str(out), "is in use by another calibration; wait for it")]
        ) from None
    try:
        yield
    finally:
        lock.release()


class _Progress:
    """Simulations logged of the budget, on stderr; nothing unless ``enabled``."""

    def __init__(self, budget: int, done: int, *, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("simulations"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), disable=not enabled,
        )  # fmt: skip
        self._task = self._progress.add_task("simulations", total=budget, completed=done)

    def __enter__(self) -> _Progress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, used: int) -> None:
        self._progress.update(self._task, completed=used)
