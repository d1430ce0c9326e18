"""Faults from outside: signals, kills and a full disk, sent to the real command line.

Each sweep here is ``coprod`` in its own process group, with the later replications gated
(``experiment_helpers.gated_execute``) so that a signal always lands mid-sweep, with runs in
flight that would never finish by themselves. Every test checks that no process outlives
the command: the sweep's descendants (resource tracker, forkserver, workers) are recorded
while it runs and must all be gone soon after it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pytest

from coprod_sim.experiments import analysis
from coprod_sim.experiments.engine import manifest, run_experiment, tasks
from coprod_sim.experiments.parts import rows_to_table
from coprod_sim.experiments.spec import load_experiment
from tests.experiment_helpers import results, write_spec
from tests.fault_helpers import COPROD, on_small_disk
from tests.test_sweeps import GATED_COPROD, ROOT, _parts, _wait_for

#: Long enough for a clean stop on a loaded 2-core machine; a hang takes forever.
PROMPT = 30.0


def _gated_sweep(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    """``coprod ARGS`` with the gate at ``tmp_path/gate`` (never opened here)."""
    return subprocess.Popen(
        [sys.executable, "-c", GATED_COPROD, str(tmp_path / "gate"), *args],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def _descendants(process: subprocess.Popen) -> list[psutil.Process]:
    """The command's descendants once its pool is up: the resource tracker, the forkserver
    and the workers (children of the forkserver)."""
    _wait_for(
        lambda: len(psutil.Process(process.pid).children(recursive=True)) >= 4,
        what="the pool's processes",
        process=process,
    )
    return psutil.Process(process.pid).children(recursive=True)


def _assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, f"left behind: {[(p.pid, p.cmdline()[:3]) for p in alive]}"


def _sweep_args(spec: Path, out: Path) -> list[str]:
    return ["sweep", str(spec), "--out", str(out), "--workers", "2"]


def _sweep_under_way(
    tmp_path: Path,
) -> tuple[Path, Path, subprocess.Popen, list[psutil.Process]]:
    """A gated ``coprod sweep`` with its first part written: (spec, out, the sweep, its
    descendants)."""
    spec = write_spec(tmp_path / "spec", replications=6, steps=30)
    out = tmp_path / "out"
    sweep = _gated_sweep(tmp_path, *_sweep_args(spec, out))
    family = _descendants(sweep)
    _wait_for(lambda: _parts(out) >= 1, what="a first part", process=sweep)
    return spec, out, sweep, family


def test_sigterm_stops_a_sweep_as_ctrl_c_does_no_process_is_left_and_it_resumes(
    tmp_path: Path,
) -> None:
    spec, out, sweep, family = _sweep_under_way(tmp_path)
    sweep.send_signal(signal.SIGTERM)  # as a supervisor stops a job: the main process only
    _, stderr = sweep.communicate(timeout=PROMPT)
    assert sweep.returncode == 130, stderr
    assert "interrupted (SIGTERM)" in stderr and "run the same command to resume" in stderr
    assert "Traceback" not in stderr
    _assert_all_gone(family)
    saved = analysis.load_runs(out)
    assert saved["run_id"].is_unique and 1 <= len(saved) < 24

    experiment = load_experiment(spec)
    resumed = run_experiment(experiment, out, executor="sequential")
    assert resumed.already_done == len(saved) and resumed.done == experiment.n_runs
    run_experiment(experiment, tmp_path / "clean", executor="sequential")
    for got, want in zip(results(out), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("presses", [1, 2], ids=["one Ctrl-C", "two quick Ctrl-Cs"])
def test_ctrl_c_never_waits_for_runs_in_flight_and_leaves_no_process(
    tmp_path: Path, presses: int
) -> None:
    # The gated runs never end by themselves: a sweep that waited for its workers would hang.
    spec, out, sweep, family = _sweep_under_way(tmp_path)
    for _ in range(presses):
        os.killpg(sweep.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        time.sleep(0.05)
    _, stderr = sweep.communicate(timeout=PROMPT)
    assert sweep.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted (Ctrl-C)" in stderr
    _assert_all_gone(family)
    saved = analysis.load_runs(out)
    assert saved["run_id"].is_unique
    resumed = run_experiment(load_experiment(spec), out, executor="sequential")
    assert resumed.already_done == len(saved) and resumed.missing == 0


def test_kill_9_of_a_sweep_takes_its_pool_with_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", replications=6, steps=30)
    sweep = _gated_sweep(tmp_path, *_sweep_args(spec, tmp_path / "out"))
    family = _descendants(sweep)
    sweep.kill()  # the sweep alone, with no chance to clean up
    sweep.communicate(timeout=PROMPT)
    _assert_all_gone(family)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_compare_interrupted_keeps_nothing_and_promises_no_resume(
    tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> None:
    write_spec(tmp_path / "spec")
    a = tmp_path / "spec" / "small.toml"
    b = tmp_path / "spec" / "b.toml"
    b.write_text(a.read_text().replace('name = "', 'name = "B ', 1))
    # A short TMPDIR of its own: the pool's forkserver binds a socket under it, and a Unix
    # socket's path may not exceed 107 bytes (pytest-xdist's tmp_path can be longer).
    scratch = Path(tempfile.mkdtemp(prefix="cmp-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(scratch, ignore_errors=True))
    args = ["compare", str(a), str(b), "--replications", "6", "--steps", "30", "--workers", "2"]
    compare = _gated_sweep(tmp_path, *args, env={"TMPDIR": str(scratch)})
    family = _descendants(compare)
    _wait_for(
        lambda: any(scratch.glob("coprod-compare-*/runs/runs/part-*.parquet")),
        what="a first part",
        process=compare,
    )
    if name == "SIGINT":
        os.killpg(compare.pid, signal.SIGINT)  # Ctrl-C at a terminal
    else:
        compare.send_signal(signal.SIGTERM)
    _, stderr = compare.communicate(timeout=PROMPT)
    assert compare.returncode == 130, stderr
    assert "nothing was kept" in stderr and "resume" not in stderr.replace("and resume)", "")
    assert "Traceback" not in stderr
    assert list(scratch.iterdir()) == []  # its scratch folder is gone
    _assert_all_gone(family)


#: ``coprod run`` that stops itself with ``SIG`` half-way through writing its results.
RUN_STOPPED_MID_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from coprod_sim import results
    number = getattr(signal, sys.argv.pop(1))
    original = results.save_outcomes_figure
    def figure_then_signal(*args, **kwargs):
        original(*args, **kwargs)
        os.kill(os.getpid(), number)  # the Parquet files are staged, the record is not
        import time; time.sleep(5)
    results.save_outcomes_figure = figure_then_signal
    from coprod_sim.cli import main
    main()
    """
)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_run_stopped_while_writing_says_so_and_leaves_no_staging_folder(
    tmp_path: Path, name: str
) -> None:
    write_spec(tmp_path / "spec")
    out = tmp_path / "results" / "out"
    command = [sys.executable, "-c", RUN_STOPPED_MID_WRITE, name, "run", "--scenario"]
    command += [str(tmp_path / "spec" / "small.toml"), "--steps", "4", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "interrupted; nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # no hidden .out.* staging folder


def test_a_full_disk_mid_sweep_stops_it_with_the_reason_and_loses_no_finished_run(
    tmp_path: Path, private_mounts: None
) -> None:
    spec = write_spec(tmp_path / "spec", replications=40, steps=8)
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    # The sweep writes to a 160 KiB disk, which holds the folder's record and a few parts,
    # then resumes on the same full disk; the folder is copied out before the disk vanishes
    # with the command's namespace.
    sweep = " ".join([*COPROD, *_sweep_args(spec, disk / "out"), "--executor", "sequential"])
    script = f"{sweep}; first=$?; {sweep}; again=$?; cp -a {disk}/out {kept}; "
    script += 'echo "exit codes $first $again"'
    done = on_small_disk(["sh", "-c", script], disk, size="160k", cwd=ROOT)
    assert "exit codes 1 1" in done.stdout, done.stderr
    assert done.stderr.count("No space left on device") >= 2, done.stderr
    assert "could not write to" in done.stderr and "Traceback" not in done.stderr
    assert not list(kept.rglob("*.tmp"))  # nothing half-written is left in the folder
    saved = len(analysis.load_runs(kept))
    assert 0 < saved < 160

    experiment = load_experiment(spec)
    resumed = run_experiment(experiment, kept, executor="sequential")
    assert resumed.already_done == saved and resumed.missing == 0
    run_experiment(experiment, tmp_path / "clean", executor="sequential")
    for got, want in zip(results(kept), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(got, want)


def test_the_manifest_built_by_columns_is_the_one_built_row_by_row(tmp_path: Path) -> None:
    # The helper's spec has integer and text factors, over two replications' worth of ids.
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=12))
    by_rows = rows_to_table([{**t.ids, **t.values} for t in tasks(experiment)])
    built = manifest(experiment)
    assert built.equals(by_rows) and built.schema.equals(by_rows.schema)
    assert built.column("run_id")[-1].as_py() == f"s00003-r{11:04d}"
    assert built.column("seed").type == pa.int64()


def test_a_run_longer_than_the_limit_is_refused_at_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [*COPROD, "run", "--steps", "100000", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "5200" in done.stderr.replace(",", "")
    assert not (tmp_path / "out").exists()
