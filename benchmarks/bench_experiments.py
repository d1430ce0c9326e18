"""Cost and scale of the experiment engine (``coprod sweep``).

Run with ``.venv/bin/python benchmarks/bench_experiments.py`` (``--quick`` for a smoke
run). It prints, measured in this one process and its children (the machine is noisy:
read the medians and ratios measured together):

1. **overhead per run** at ``careqic`` scale: a sequential sweep's wall time (folder,
   manifest, seeds, scenarios, outcome extraction, Parquet parts) against the model's own
   time in the same runs (build, 78 weeks, the collaborative frame), so the machine's
   drift cancels; with a separately timed bare loop as a cross-check;
2. **speed-up from 1 to 2 workers** of the local process pool on the same sweep of 40
   and of 120 runs (wall time, pool start-up included, as a user sees it; the fork
   server, started once per session, is warmed first);
3. **peak memory** of the sweeping process for 100 and 5,000 runs (a one-site
   scenario, 10 weeks, so that 5,000 runs take a minute), each in a fresh process; the
   largest worker's resident memory, sampled every 50 ms (the pool's workers are the
   fork server's children, which the parent's rusage does not see), is shown too;
4. **wall time of the shipped ``power_x_inclusion`` sweep** (200 careqic runs of 78
   weeks) on all cores, as ``coprod sweep`` runs it;
5. **the study engine against a plain loop**: careqic runs per second of a plain
   single-process loop, ``CoproductionModel.from_scenario("careqic", rng=r).run_for(78)``
   (agents and every week's outputs, as a user's script runs it), and of the engine on
   2 workers (``run_experiment(..., executor="local", workers=2)``, pool start-up included,
   the fork server warmed) on a careqic sweep that keeps four final outcomes and three
   series at four weeks, measured by turns in the same run; their ratio, the model's own
   time per run with agents and every week recorded, without agents, and as the engine
   runs it (no agents, the kept weeks only); the 1 -> 2 worker speed-up; and the hours a
   100,000-run study would take here and on 64 Dask cores (projected).

A benchmark, not a test: it asserts nothing. On the project's VM the speed of a core drifts
by a quarter within minutes (a bare careqic run took 0.22-0.37 s in one session), so
ratios of separately timed sweeps move from run to run; run it twice before reading much
into one figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coprod_sim import CoproductionModel
from coprod_sim.experiments import replication_seed
from coprod_sim.experiments.engine import run_experiment
from coprod_sim.experiments.spec import load_experiment, parse_spec, resolve

ROOT = Path(__file__).parents[1]


def careqic_experiment(replications: int, steps: int = 78):
    spec = parse_spec(
        {
            "name": "bench",
            "scenarios": {"careqic": {"scenario": "careqic"}},
            "replications": replications,
            "steps": steps,
            "seed": 3,
        }
    )
    return resolve(spec, "benchmark")


def bare_seconds(replications: int, steps: int = 78) -> float:
    """The model alone, the same runs: build, run, read the outcomes frame."""
    start = time.perf_counter()
    for r in range(replications):
        model = CoproductionModel.from_scenario("careqic", rng=replication_seed(3, r))
        model.run_for(steps)
        model.outputs.collaborative()
    return time.perf_counter() - start


def engine_summary(experiment, executor: str, workers: int | None = None):
    """A whole sweep into a fresh folder, with its summary: ``elapsed`` is its wall time
    (folder set-up and pool start included, resolve excluded), ``model_seconds`` the
    model's own time in it."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        summary = run_experiment(
            experiment, Path(scratch) / "out", executor=executor, workers=workers
        )
        summary.elapsed = time.perf_counter() - start
        return summary


def engine_seconds(experiment, executor: str, workers: int | None = None) -> float:
    """Wall time of a whole sweep into a fresh folder."""
    return engine_summary(experiment, executor, workers).elapsed


def memory_child(runs: int) -> None:
    """In a fresh process: sweep ``runs`` runs of a one-site scenario, print peak RSS."""
    import threading

    import psutil

    me, worker_peak, sweeping = psutil.Process(), [0], threading.Event()

    def sample_workers() -> None:
        # Workers are the fork server's children: everything below this process but it.
        while not sweeping.wait(0.05):
            for process in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if process.ppid() != me.pid:
                        worker_peak[0] = max(worker_peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample_workers, daemon=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "one_site.toml").write_text(
            'extends = "careqic"\nname = "one-site"\n'
            'sites = [{ name = "A", patients = 200, providers = 8, group_shares = '
            "{ general = 0.8, msm = 0.1, sex_workers = 0.1 } }]\n"
        )
        spec = parse_spec(
            {
                "name": "memory",
                "scenario": "one_site.toml",
                "factors": {"power_sharing": [3, 4, 5, 6, 7]},
                "replications": runs // 5,
                "steps": 10,
                "outcomes": {"final": ["patient_trust", "value"]},
            }
        )
        experiment = resolve(spec, "memory", base_dir=folder)
        sampler.start()
        start = time.perf_counter()
        summary = run_experiment(experiment, folder / "out", executor="local", workers=2)
        seconds = time.perf_counter() - start
        sweeping.set()
        sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = worker_peak[0] / 2**20
    print(json.dumps({"runs": summary.done, "parent_mib": own, "worker_mib": worker,
                      "seconds": seconds}))  # fmt: skip


def peak_memory(runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(runs)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and repeats")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, choices=(1, 2, 3, 4, 5), help="run one part only")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    repeats, runs = (2, 4) if args.quick else (6, 20)
    print(f"cores: {os.cpu_count()}; careqic runs per batch: {runs}; repeats: {repeats}")

    # The engine's overhead, measured within each sweep: its wall time against the time
    # the model itself took in the same runs (build, weeks, outputs), so that the machine's
    # drift cancels. Everything else counts as overhead: seeds, scenarios, outcome
    # extraction, the manifest, the Parquet parts and their fsync.
    if args.part in (None, 1):
        overhead(runs, repeats)
    if args.part in (None, 2):
        speed_up(args.quick, repeats)
    if args.part in (None, 3):
        memory(args.quick)
    if args.part in (None, 4) and not args.quick:
        power_x_inclusion()
    if args.part in (None, 5):
        engine_against_loop(args.quick)


def overhead(runs: int, repeats: int) -> None:
    experiment = careqic_experiment(runs)
    overheads, per_run = [], []
    for _ in range(repeats):
        summary = engine_summary(experiment, "sequential")
        overheads.append(summary.elapsed / summary.model_seconds - 1)
        per_run.append(summary.model_seconds / summary.completed)
    # A cross-check against the bare model in a separate loop (noisier: different moments).
    bare = statistics.median(bare_seconds(runs) / runs for _ in range(2))
    o = statistics.median(overheads)
    print(f"1. per run: model {statistics.median(per_run):.3f} s (bare loop {bare:.3f} s); "
          f"engine overhead {100 * o:+.2f}% (median of {repeats} sweeps of {runs}; "
          f"{100 * min(overheads):+.2f}% to {100 * max(overheads):+.2f}%)")  # fmt: skip
    # The same through the default local pool with one worker: pickling each task and its
    # rows across processes, and the pool's start-up, count too (one worker, so the parent
    # never competes with it for a core).
    engine_seconds(experiment, "local", workers=1)  # start the fork server before timing
    pooled = []
    for _ in range(repeats):
        summary = engine_summary(experiment, "local", workers=1)
        pooled.append(summary.elapsed / summary.model_seconds - 1)
    p = statistics.median(pooled)
    print(f"   through the local pool (1 worker): overhead {100 * p:+.2f}% "
          f"({100 * min(pooled):+.2f}% to {100 * max(pooled):+.2f}%)")  # fmt: skip


def speed_up(quick: bool, repeats: int) -> None:
    # Pool start-up is paid once a sweep, so the speed-up grows with the sweep's size.
    for pool_runs, pool_repeats in ((8, 2),) if quick else ((40, repeats), (120, 3)):
        pool = careqic_experiment(pool_runs)
        engine_seconds(pool, "local", workers=2)  # start the fork server before timing
        one, two = [], []
        for i in range(pool_repeats):
            for workers in (1, 2) if i % 2 == 0 else (2, 1):
                (one if workers == 1 else two).append(engine_seconds(pool, "local", workers))
        t1, t2 = statistics.median(one), statistics.median(two)
        print(f"2. {pool_runs} careqic runs: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s: "
              f"speed-up {t1 / t2:.2f}x (medians of {pool_repeats})")  # fmt: skip


def memory(quick: bool) -> None:
    for n in (100, 500) if quick else (100, 5000):
        m = peak_memory(n)
        print(f"3. {m['runs']:>5} runs: sweeping process peak {m['parent_mib']:.0f} MiB, "
              f"largest worker {m['worker_mib']:.0f} MiB ({m['seconds']:.0f} s)")  # fmt: skip


def power_x_inclusion() -> None:
    pxi = load_experiment(ROOT / "experiments" / "power_x_inclusion.toml")
    seconds = engine_seconds(pxi, "local")
    print(f"4. power_x_inclusion: {pxi.n_runs} runs in {seconds:.0f} s on "
          f"{os.cpu_count()} cores ({seconds / pxi.n_runs:.2f} s a run)")  # fmt: skip


#: What the part-5 sweep keeps: final outcomes and a few series, as a study would.
STUDY_FINAL = ("suppression", "retention", "equity_gap", "patient_trust")
STUDY_SERIES = ("suppression", "retention", "patient_trust")
STUDY_STEPS = (0, 26, 52, 78)
#: The study size, and the cluster, the projection is for.
STUDY_RUNS, DASK_CORES = 100_000, 64


def study_experiment(replications: int):
    """A careqic sweep that keeps what a study keeps (``STUDY_*``)."""
    spec = parse_spec(
        {
            "name": "study",
            "scenarios": {"careqic": {"scenario": "careqic"}},
            "replications": replications,
            "steps": 78,
            "seed": 5,
            "outcomes": {
                "final": list(STUDY_FINAL),
                "series": list(STUDY_SERIES),
                "series_steps": list(STUDY_STEPS),
            },
        }
    )
    return resolve(spec, "benchmark")


def plain_loop(runs: int, offset: int = 0) -> float:
    """Seconds per run of the plain loop: a user's script, agents and full outputs."""
    start = time.perf_counter()
    for r in range(offset, offset + runs):
        CoproductionModel.from_scenario("careqic", rng=r).run_for(78)
    return (time.perf_counter() - start) / runs


def model_seconds(runs: int, offset: int, **options) -> float:
    """Seconds per run of the model alone built with ``options`` (run 78 weeks)."""
    start = time.perf_counter()
    for r in range(offset, offset + runs):
        CoproductionModel.from_scenario("careqic", rng=r, **options).run_for(78)
    return (time.perf_counter() - start) / runs


def engine_against_loop(quick: bool) -> None:
    """Part 5: see the module docstring. Every figure is a median over turns, each of which
    times the plain loop, the engine on 2 workers and on 1 worker, and the model alone,
    one after another, so that the machine's drift falls on all alike."""
    batch, sweep_runs, turns = (4, 24, 2) if quick else (8, 60, 3)
    experiment = study_experiment(sweep_runs)
    kept = {*STUDY_STEPS, 78}
    engine_summary(study_experiment(2), "local", 2)  # the fork server, started and warm
    plain, two, one, in_workers, without, as_engine = [], [], [], [], [], []
    for turn in range(turns):
        offset = 1000 * turn
        plain.append(plain_loop(batch, offset))
        for workers in (2, 1) if turn % 2 == 0 else (1, 2):
            summary = engine_summary(experiment, "local", workers)
            (two if workers == 2 else one).append(summary.elapsed / summary.completed)
            if workers == 2:
                in_workers.append(summary.model_seconds / summary.completed)
        without.append(model_seconds(batch, offset, with_agents=False))
        as_engine.append(model_seconds(batch, offset, with_agents=False, record_steps=kept))
    t_plain, t_two, t_one = (statistics.median(x) for x in (plain, two, one))
    m_without, m_engine, m_workers = (
        statistics.median(x) for x in (without, as_engine, in_workers)
    )
    steps = ", ".join(map(str, STUDY_STEPS))
    print(f"5. careqic, 78 weeks; medians of {turns} turns (plain loop: {batch} runs a turn; "
          f"engine: sweeps of {sweep_runs} runs keeping {len(STUDY_FINAL)} final outcomes "
          f"and {len(STUDY_SERIES)} series at weeks {steps})")  # fmt: skip
    print(f"   plain loop {1 / t_plain:.2f} runs/s; study engine on 2 workers "
          f"{1 / t_two:.2f} runs/s: {t_plain / t_two:.2f}x the plain loop")  # fmt: skip
    print(f"   model time a run: with agents, every week recorded (the plain loop) "
          f"{t_plain:.3f} s; no agents {m_without:.3f} s; no agents, kept weeks only (as the "
          f"engine runs it) {m_engine:.3f} s, {m_workers:.3f} s in the 2 busy workers")  # fmt: skip
    print(f"   1 -> 2 workers: {1 / t_one:.2f} -> {1 / t_two:.2f} runs/s, "
          f"speed-up {t_one / t_two:.2f}x")  # fmt: skip
    hours_here = STUDY_RUNS * t_two / 3600
    per_worker = 1 / (2 * t_two)  # runs/s a worker delivers, with 2 at work
    hours_dask = STUDY_RUNS / (DASK_CORES * per_worker) / 3600
    print(f"   {STUDY_RUNS:,} runs: {hours_here:.1f} h on this machine (2 workers); projected "
          f"{hours_dask:.2f} h on {DASK_CORES} Dask cores, assuming throughput linear in "
          f"workers at the {per_worker:.2f} runs/s a worker gives here with 2 at work (cores "
          f"as fast as these, no scheduler or network cost)")  # fmt: skip


if __name__ == "__main__":
    main()
