"""Sweeps as users run them: interrupted and resumed, on a Dask cluster, from the command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from coprod_sim.cli import app
from coprod_sim.experiments import analysis, engine
from coprod_sim.experiments.engine import run_experiment
from coprod_sim.experiments.spec import load_experiment, parse_spec, read_spec, resolve
from coprod_sim.experiments.store import ResultsFolder
from coprod_sim.scenario.evidence import plausible_ranges
from tests.experiment_helpers import gated_execute, results, write_spec

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
runner = CliRunner()


def _wait_for(condition, timeout: float = 60.0, what: str = "condition", process=None) -> None:
    """Wait for `condition`; fail at once if `process` (the sweep waited on) has ended."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            said = process.stderr.read() if process.stderr else ""
            raise RuntimeError(
                f"the sweep ended (exit code {process.returncode}) before {what}: {said}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def _parts(out: Path) -> int:
    return len(list((out / "runs").glob("part-*.parquet")))


#: Replications that run at once in an interrupted sweep; later ones wait for the test's gate
#: (``experiment_helpers.gated_execute``), so the interruption always lands mid-sweep.
FREE_REPLICATIONS = 2
#: The same command line as ``coprod``, with ``engine.execute`` gated (the gate's path first).
GATED_COPROD = textwrap.dedent(
    f"""
    import functools, sys
    from pathlib import Path
    from coprod_sim.experiments import engine
    from tests.experiment_helpers import gated_execute
    gate = Path(sys.argv.pop(1))
    engine.execute = functools.partial(gated_execute, gate, {FREE_REPLICATIONS})
    from coprod_sim.cli import main
    main()
    """
)


# --- interruption and resume --------------------------------------------------------------
def test_a_sweep_killed_with_sigkill_resumes_to_the_uninterrupted_data(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", replications=10, steps=40)
    out = tmp_path / "out"
    # Replications from FREE_REPLICATIONS on wait for a gate that is never opened: the kill
    # lands after two parts are written and before the sweep can finish, on any machine.
    script = textwrap.dedent(
        f"""
        import functools
        from pathlib import Path
        from coprod_sim.experiments import engine
        from coprod_sim.experiments.spec import load_experiment
        from tests.experiment_helpers import gated_execute
        engine.execute = functools.partial(
            gated_execute, Path({str(tmp_path / "gate")!r}), {FREE_REPLICATIONS}
        )
        engine.run_experiment(load_experiment({str(spec)!r}), Path({str(out)!r}),
                              executor="local", workers=2, flush_runs=2)
        """
    )
    sweep = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    try:
        _wait_for(lambda: _parts(out) >= 2, what="two parts", process=sweep)
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)  # the sweep and its workers, mid-run
        sweep.wait()
    experiment = load_experiment(spec)
    resumed = run_experiment(experiment, out, executor="local", workers=2)
    # Two parts were written (each of one run or more); the gated runs cannot have finished.
    assert 2 <= resumed.already_done <= FREE_REPLICATIONS * len(experiment.points)
    assert resumed.done == experiment.n_runs and resumed.failed == 0

    run_experiment(experiment, tmp_path / "clean", executor="local", workers=2)
    for got, want in zip(results(out), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", replications=8, steps=40)
    out = tmp_path / "out"
    args = ["sweep", str(spec), "--out", str(out), "--workers", "2"]
    command = [str(BIN / "coprod"), *args]
    # The first sweep is `coprod` with the later replications gated: the Ctrl-C lands after a
    # first part is written and before those replications can finish, on any machine.
    gate = tmp_path / "gate"
    sweep = subprocess.Popen(
        [sys.executable, "-c", GATED_COPROD, str(gate), *args],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _parts(out) >= 1, what="a first part", process=sweep)
        os.killpg(sweep.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    finally:
        gate.touch()  # the runs in flight may end: a stopping sweep waits for its workers
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, stderr
    assert "run the same command to resume" in stderr
    assert "Traceback" not in stderr
    saved = analysis.load_runs(out)
    assert saved["run_id"].is_unique
    done = len(saved)
    # At least the first part; at most the free replications and the runs in flight.
    assert 1 <= done < 32

    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"32 of 32 runs done ({32 - done} now, {done} before)" in again.stdout
    run_experiment(load_experiment(spec), tmp_path / "clean", executor="local", workers=2)
    for got, want in zip(results(out), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_a_lost_local_worker_stops_the_sweep_cleanly_and_a_re_run_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=20, steps=40))
    out = tmp_path / "out"
    # The later replications wait for the gate, opened only once a worker is dead: the worker
    # dies mid-sweep on any machine.
    gate = tmp_path / "gate"
    monkeypatch.setattr(engine, "execute", partial(gated_execute, gate, FREE_REPLICATIONS))

    def kill_a_worker() -> None:
        try:
            _wait_for(lambda: _parts(out) >= 1, what="a first part")
            me = os.getpid()  # the pool's workers are the fork server's children, not ours
            workers = [p for p in psutil.Process(me).children(recursive=True) if p.ppid() != me]
            workers[0].kill()  # as the kernel's out-of-memory killer would
            workers[0].wait(timeout=30)
        finally:
            gate.touch()

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    stopped = run_experiment(experiment, out, executor="local", workers=2, flush_runs=2)
    killer.join()
    assert stopped.interrupted and "worker process" in stopped.stopped_by
    assert 0 < stopped.done < experiment.n_runs and stopped.failed == 0
    monkeypatch.undo()  # the re-run is an ordinary one
    resumed = run_experiment(experiment, out, executor="local", workers=2)
    assert resumed.already_done == stopped.done and resumed.done == experiment.n_runs
    assert analysis.load_runs(out)["run_id"].is_unique


def test_ctrl_c_during_a_write_neither_loses_nor_doubles_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec"))
    out = tmp_path / "out"
    original = ResultsFolder.write
    calls: list[int] = []

    def interrupted_write(self, runs, series, errors):
        calls.append(len(runs))
        if len(calls) == 3:  # Ctrl-C arrives while the third part is being written
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, runs, series, errors)

    monkeypatch.setattr(ResultsFolder, "write", interrupted_write)
    summary = run_experiment(experiment, out, executor="sequential", flush_runs=2)
    assert summary.interrupted
    saved = analysis.load_runs(out)
    assert saved["run_id"].is_unique and len(saved) == 6  # three whole parts, once each

    monkeypatch.setattr(ResultsFolder, "write", original)
    resumed = run_experiment(experiment, out, executor="sequential")
    assert (resumed.already_done, resumed.completed) == (6, 6)
    run_experiment(experiment, tmp_path / "clean", executor="sequential")
    for got, want in zip(results(out), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(got, want)


# --- a real Dask cluster on 127.0.0.1 -----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A `dask scheduler` and two `dask worker`s on loopback, stopped afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = ["--no-dashboard"]
    # The scheduler and workers can import the tests' helpers (a test may send a gated run).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), *common],
        stdout=log,
        stderr=log,
        env=env,
    )
    workers = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--name",
                f"w{i}",
                *common,
            ],
            stdout=log,
            stderr=log,
            env=env,
        )
        for i in range(2)
    ]
    try:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def test_a_sweep_through_a_dask_cluster_survives_a_lost_worker(
    tmp_path: Path, dask_cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, workers = dask_cluster
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=8, steps=40))
    out = tmp_path / "out"
    # The later replications wait for the gate, opened only once the worker is dead: it is
    # lost mid-sweep, with runs left to move to the other, on any machine.
    gate = tmp_path / "gate"
    monkeypatch.setattr(engine, "execute", partial(gated_execute, gate, FREE_REPLICATIONS))
    killed_at: list[int] = []

    def kill_one_worker() -> None:
        try:
            _wait_for(lambda: _parts(out) >= 1, what="a first part")
            killed_at.append(len(analysis.load_runs(out)))
            workers[0].kill()  # a lost worker: its runs are rescheduled on the other
            workers[0].wait(timeout=30)
        finally:
            gate.touch()

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    summary = run_experiment(experiment, out, executor="dask", address=address, flush_runs=2)
    killer.join()
    assert killed_at and 0 < killed_at[0] <= FREE_REPLICATIONS * len(experiment.points)
    assert (summary.completed, summary.failed) == (experiment.n_runs, 0)

    run_experiment(experiment, tmp_path / "local", executor="sequential")
    for got, want in zip(results(out), results(tmp_path / "local"), strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_the_cli_runs_a_sweep_on_dask(tmp_path: Path, dask_cluster) -> None:
    address, _ = dask_cluster
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    result = runner.invoke(
        app, ["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "dask",
              "--address", address],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "8 of 8 runs done" in result.output
    assert (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:abc", "bogus://127.0.0.1:1", "127.0.0.1"])
def test_a_malformed_dask_address_is_bad_input(tmp_path: Path, address: str) -> None:
    spec = write_spec(tmp_path / "spec")
    result = runner.invoke(
        app, ["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "dask",
              "--address", address],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--address" in result.output and "tcp://HOST:PORT" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreachable_dask_scheduler_is_bad_input(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec")
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = runner.invoke(
        app, ["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "dask",
              "--address", address],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no Dask scheduler answers there" in result.output
    assert not (tmp_path / "out").exists()


# --- the command line ---------------------------------------------------------------------
def test_sweep_prints_the_outcomes_writes_a_report_and_resumes_as_a_no_op(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    args = ["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "sequential"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "8 of 8 runs done (8 now, 0 before), 0 failed" in first.output
    assert "Mean [95% interval]" in first.output
    assert (tmp_path / "out" / "report.html").exists()
    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert "8 of 8 runs done (0 now, 8 before)" in second.output


def test_replications_and_steps_from_the_command_line_are_a_different_experiment(
    tmp_path: Path,
) -> None:
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    out = tmp_path / "out"
    base = ["sweep", str(spec), "--out", str(out), "--executor", "sequential"]
    assert runner.invoke(app, base).exit_code == 0
    refused = runner.invoke(app, [*base, "--replications", "3"])
    assert refused.exit_code == 2
    assert "holds a different experiment" in refused.output and "replications" in refused.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("replications = 2", "replications = 2\nwhatever = 1"), "whatever"),
        (("power_sharing = [3, 7]", "power_sharing = []"), "non-empty list"),
        (("power_sharing = [3, 7]", "power_sharng = [3, 7]"), "did you mean 'power_sharing'"),
    ],
)
def test_a_bad_spec_exits_2_and_writes_nothing(tmp_path: Path, change, message) -> None:
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    spec.write_text(spec.read_text().replace(*change))
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_compare_prints_each_difference_with_its_interval_and_verdict(tmp_path: Path) -> None:
    write_spec(tmp_path)  # small.toml
    (tmp_path / "tokenistic.toml").write_text(
        'extends = "small.toml"\nname = "tokenistic-small"\n'
        "power_sharing = 3\nfeedback_loop = 0.0\n"
    )
    result = runner.invoke(
        app,
        ["compare", str(tmp_path / "small.toml"), str(tmp_path / "tokenistic.toml"),
         "--replications", "4", "--steps", "30", "--executor", "sequential",
         "--out", str(tmp_path / "cmp")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tokenistic minus small" in result.output
    assert "patient_originated" in result.output and "verdict" in result.output
    diffs = analysis.paired_differences(
        analysis.load_runs(tmp_path / "cmp"), ["patient_originated"], "small", by="scenario"
    )
    assert diffs.loc[0, "n"] == 4
    assert (tmp_path / "cmp" / "report.html").exists()


def test_compare_weighs_three_designs_against_the_first_with_mids_and_people(
    tmp_path: Path,
) -> None:
    """Three designs: two tables against the first, each with the people behind a share and
    the difference over the run; a huge MID turns every clear or unclear trust difference
    into "no important difference", and a bad --mid is refused by name."""
    write_spec(tmp_path)  # small.toml
    (tmp_path / "seatless.toml").write_text(
        'extends = "small.toml"\nname = "seatless"\nrepresentative_seats = 0\n'
    )
    (tmp_path / "rung3.toml").write_text(
        'extends = "small.toml"\nname = "rung3"\npower_sharing = 3\n'
    )
    args = ["compare", *(str(tmp_path / f) for f in ("small.toml", "seatless.toml", "rung3.toml")),
            "--replications", "5", "--steps", "26", "--executor", "sequential"]  # fmt: skip
    out = tmp_path / "cmp"
    result = runner.invoke(app, [*args, "--mid", "patient_trust=1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "seatless minus small" in result.output and "rung3 minus small" in result.output
    assert "28 comparisons (2 design(s) x 14 outcomes)" in result.output
    assert "Bonferroni" in result.output and "people" in result.output
    table, family, each = analysis.decisions(
        analysis.load_runs(out), analysis.load_series(out), ["patient_trust", "voice_share",
        "key_retention"], "small", minimum={"patient_trust": 1.0},
    )  # fmt: skip
    assert family == 6 and each == pytest.approx(1 - 0.05 / 6)
    rows = table.set_index(["scenario", "outcome"])
    assert (rows.xs("patient_trust", level="outcome")["verdict"] == "no important difference").all()
    # No seats: no representative is heard; the default MID for voice is 0.05.
    assert rows.loc[("seatless", "voice_share"), "verdict"] == "worse by at least"
    assert rows.loc[("seatless", "voice_share"), "minimum_important"] == 0.05
    retention = rows.loc[("rung3", "key_retention")]
    assert retention["low"] < retention["difference"] < retention["high"]
    assert not np.isnan(retention["people"]) and not np.isnan(retention["over_time"])
    refused = runner.invoke(app, [*args, "--mid", "patient_trust=-1", "--mid", "trustt=1"])
    assert refused.exit_code == 2
    assert "--mid = 'patient_trust=-1'" in refused.output and "trustt=1" in refused.output


def test_compare_takes_long_file_names_and_refuses_a_seed_out_of_range(tmp_path: Path) -> None:
    write_spec(tmp_path)
    long_name = tmp_path / f"{'a_collaborative_with_a_very_long_descriptive_name_' * 2}.toml"
    long_name.write_text('extends = "small.toml"\nname = "long"\npower_sharing = 3\n')
    args = [str(tmp_path / "small.toml"), str(long_name), "--replications", "2", "--steps", "2"]
    result = runner.invoke(app, ["compare", *args, "--executor", "sequential"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(app, ["compare", *args, "--seed", str(2**64)])
    assert refused.exit_code == 2 and "--seed" in refused.output
    assert "Traceback" not in refused.output


def test_compare_without_out_keeps_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["compare", "careqic", "staff-led", "--replications", "2", "--steps", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "staff-led minus careqic" in result.output
    assert list(tmp_path.iterdir()) == []


def test_sensitivity_refuses_a_factorial_design_and_report_a_non_results_folder(
    tmp_path: Path,
) -> None:
    spec = write_spec(tmp_path / "spec")
    refused = runner.invoke(app, ["sensitivity", str(spec), "--out", str(tmp_path / "out")])
    assert refused.exit_code == 2 and "needs a sobol or morris design" in refused.output
    assert not (tmp_path / "out").exists()
    not_results = runner.invoke(app, ["report", str(tmp_path)])
    assert not_results.exit_code == 2 and "not a sweep's results folder" in not_results.output


# --- the shipped specs --------------------------------------------------------------------
def test_the_shipped_specs_resolve_as_written() -> None:
    pxi = load_experiment(ROOT / "experiments" / "power_x_inclusion.toml")
    assert pxi.n_runs == 5 * 2 * 20
    assert {p.values["power_sharing"] for p in pxi.points} == {3, 4, 5, 6, 7}
    sobol = load_experiment(ROOT / "experiments" / "sensitivity_sobol.toml")
    assert sobol.spec.design.kind == "sobol"
    assert len(sobol.points) == 4096 * (len(sobol.spec.factors) + 2)
    # "over the parameter table's ranges": every factor's range is the table's
    table = plausible_ranges()
    for name, factor in sobol.spec.factors.items():
        assert (factor["low"], factor["high"]) == table[name], name


@pytest.mark.slow
def test_the_shipped_specs_run_at_reduced_size(tmp_path: Path) -> None:
    pxi = runner.invoke(
        app, ["sweep", str(ROOT / "experiments" / "power_x_inclusion.toml"),
              "--out", str(tmp_path / "pxi"), "--replications", "2", "--steps", "6"],
    )  # fmt: skip
    assert pxi.exit_code == 0, pxi.output
    assert "20 of 20 runs done" in pxi.output
    # The Sobol spec as written, on the small scenario with a smaller base sample.
    data = read_spec(ROOT / "experiments" / "sensitivity_sobol.toml")
    write_spec(tmp_path)
    data |= {"scenario": "small.toml", "steps": 4, "replications": 1}
    data["design"]["samples"] = 8
    sobol = resolve(parse_spec(data), "test", base_dir=tmp_path)
    run_experiment(sobol, tmp_path / "sobol", executor="local", workers=2)
    indices = analysis.sensitivity(tmp_path / "sobol")
    assert set(indices["factor"]) == set(data["factors"])
    assert set(indices["outcome"]) == set(data["outcomes"]["final"])
