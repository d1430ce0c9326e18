"""Wall time of a plan (``coprod plan``) at the size the planning issue names: 8 designs x
64 futures x 5 replications = 2,560 careqic runs of 78 weeks, on all cores of this machine.

Run with ``.venv/bin/python benchmarks/bench_plan.py`` (``--quick``: 8 futures, 2
replications, a smoke run; ``--keep DIR`` keeps the plan's folder). It runs
``experiments/plan_collaborative.toml`` through the command line into a fresh folder, as a
planner would, and prints the wall time of the runs
and of the analysis and report (PRIM included), measured in that one command, with the
runs per second. A benchmark, not a test: it asserts nothing; the machine's speed drifts,
so read one run's figures together.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
SPEC = ROOT / "experiments" / "plan_collaborative.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 futures, 2 replications")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--keep", type=Path, help="run into this (new) folder and keep it")
    args = parser.parse_args()
    text = SPEC.read_text()
    if args.quick:
        text = text.replace("futures = 64", "futures = 8").replace(
            "replications = 5", "replications = 2"
        )
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as scratch:
        spec = SPEC  # as shipped, so that a kept folder names the shipped spec
        if args.quick:
            spec = Path(scratch) / "plan.toml"
            spec.write_text(text)
        out = args.keep or Path(scratch) / "plan"
        if out.exists():
            sys.exit(f"--keep {out}: the folder exists; a benchmark times a plan from nothing")
        command = [str(ROOT / ".venv" / "bin" / "coprod"), "plan", str(spec), "--out", str(out),
                   "--workers", str(args.workers)]  # fmt: skip
        started = time.perf_counter()
        # A wide console: the summary line must not be wrapped (it is parsed below).
        env = {**os.environ, "COLUMNS": "300"}
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"coprod plan failed ({result.returncode}):\n{result.stderr}")
        # "NAME: 2560 of 2560 runs done (2560 now, 0 before), 0 failed, 251.3 s"
        match = re.search(r"(\d+) of (\d+) runs done .*?, ([\d.]+) s", result.stdout)
        runs, seconds = int(match.group(2)), float(match.group(3))
    print(f"plan {SPEC.name}{' (--quick)' if args.quick else ''}: {runs:,} runs, "
          f"{args.workers} workers")  # fmt: skip
    print(f"  runs (engine):           {seconds:8.1f} s  ({runs / seconds:.1f} runs/s)")
    print(f"  analysis, PRIM, report:  {wall - seconds:8.1f} s  (command start-up included)")
    print(f"  wall time, as a user sees it: {wall:.1f} s = {wall / 60:.2f} min (target <= 5 min)")


if __name__ == "__main__":
    main()
