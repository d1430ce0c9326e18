"""Speed and memory of CoproductionModel, with Mesa's virus_on_network as a yardstick.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_model.py``). It prints, as
medians over repeated runs in this one process (the machine is noisy; compare ratios
measured together, not figures from different runs):

1. a ``careqic`` run: 26 sites, 8,300 patients, 78 weeks, build included;
2. patient-steps per second at 100,000 and 1,000,000 patients (CaReQIC's 26 sites, each
   with proportionally more patients; running time only);
3. peak memory of 1,000,000 patients for 52 weeks, in a fresh process;
4. agent-steps per second of Mesa's bundled ``virus_on_network`` example (1,000 nodes; its
   spring layout makes larger networks take minutes to build), and the ratio;
5. build time per patient at 10k, 100k and 1M patients (it should stay about flat: linear);
6. the cost of a week as changes accumulate: a ``careqic`` run's weeks 0-104 and 416-520,
   timed week by week in the same run (and, without ``--quick``, the last 104 weeks of a
   2,080-week run). It should stay about flat: changes a site has reversed leave the hot
   arrays (``improvement.changes``).

This is a benchmark, not a test: it asserts nothing and prints figures to read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from coprod_sim import CoproductionModel, Scenario, load_scenario

#: The windows of a ``careqic`` run whose cost the benchmark compares (section 6).
EARLY, LATE = (0, 104), (416, 520)


def scaled(patients: int) -> Scenario:
    """CaReQIC's 26 sites with patients per site scaled to ``patients`` in all."""
    base = load_scenario("careqic")
    factor = patients / base.n_patients
    sites = [s.model_dump() | {"patients": max(1, round(s.patients * factor))} for s in base.sites]
    return base.with_overrides({"sites": sites})


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def careqic_run(seed: int) -> float:
    def run() -> None:
        CoproductionModel.from_scenario("careqic", rng=seed).run_for(78)

    return timed(run)


def week_costs(seed: int, weeks: int = 520) -> np.ndarray:
    """Each week's running time (seconds) of a ``careqic`` run, build excluded."""
    model = CoproductionModel.from_scenario("careqic", rng=seed, with_agents=False)
    seconds = np.empty(weeks)
    for week in range(weeks):
        start = time.perf_counter()
        model.step()
        seconds[week] = time.perf_counter() - start
    return seconds


def window_costs(runs: list[np.ndarray], windows: list[tuple[int, int]]) -> dict:
    """Per window: (median over runs of the window's total, median week), in seconds."""
    return {
        (a, b): (
            statistics.median(float(r[a:b].sum()) for r in runs),
            statistics.median(float(np.median(r[a:b])) for r in runs),
        )
        for a, b in windows
    }


def throughput(scenario: Scenario, weeks: int, seed: int) -> tuple[float, float, int]:
    """(patient-steps/s, agent-steps/s, agents) of the running time, build excluded."""
    model = CoproductionModel.from_scenario(scenario, rng=seed)
    seconds = timed(lambda: model.run_for(weeks))
    agents = len(model.agents)
    return model.patients.n * weeks / seconds, agents * weeks / seconds, agents


def build_seconds(scenario: Scenario, seed: int) -> float:
    return timed(lambda: CoproductionModel.from_scenario(scenario, rng=seed))


def virus_rate(nodes: int, steps: int, seed: int) -> float:
    from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

    model = VirusOnNetwork(num_nodes=nodes, avg_node_degree=3, rng=seed)
    seconds = timed(lambda: [model.step() for _ in range(steps)])
    return nodes * steps / seconds


PEAK_MEMORY_CHILD = """
import json, resource, sys
sys.path.insert(0, {path!r})
from bench_model import scaled
from coprod_sim import CoproductionModel
model = CoproductionModel.from_scenario(scaled({patients}), rng=1)
model.run_for({weeks})
frames = model.outputs.frames()
print(json.dumps({{"patients": model.patients.n,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def peak_memory(patients: int, weeks: int) -> dict:
    """Peak resident memory of a fresh process that builds, runs and tabulates the model."""
    from pathlib import Path

    code = PEAK_MEMORY_CHILD.format(path=str(Path(__file__).parent), patients=patients, weeks=weeks)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 1M runs")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    big = [] if args.quick else [1_000_000]

    careqic_run(0)  # warm up imports and caches
    careqic = statistics.median(careqic_run(seed) for seed in range(repeats))

    rates = {}
    for patients in [100_000, *big]:
        scenario = scaled(patients)
        runs = [
            throughput(scenario, 52, seed)
            for seed in range(max(1, repeats // (1 + patients // 500_000)))
        ]
        rates[patients] = (
            statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs),
            runs[0][2],
        )

    virus_rate(1_000, 5, 0)  # warm up
    virus = statistics.median(virus_rate(1_000, 50, seed) for seed in range(3))

    builds = {}
    for patients in [10_000, 100_000, *big]:
        scenario = scaled(patients)
        n = scenario.n_patients
        builds[n] = statistics.median(build_seconds(scenario, seed) for seed in range(3))

    memory = None if args.quick else peak_memory(1_000_000, 52)

    weeks = window_costs([week_costs(seed) for seed in range(repeats)], [EARLY, LATE])
    if not args.quick:
        long = [week_costs(seed, 2_080) for seed in range(max(1, repeats // 2))]
        weeks |= window_costs(long, [(1_976, 2_080)])

    print("coprod_sim benchmark (medians; one process, same machine)")
    print(f"  careqic run, 26 sites, 8,300 patients, 78 weeks, build included: {careqic:.3f} s")
    for patients, (patient_rate, agent_rate, agents) in rates.items():
        print(
            f"  {patients:>9,} patients, 52 weeks: {patient_rate / 1e6:6.1f} M patient-steps/s "
            f"({agent_rate / 1e6:.1f} M agent-steps/s over {agents:,} agents)"
        )
    print(f"  Mesa virus_on_network, 1,000 nodes:  {virus / 1e6:6.2f} M agent-steps/s")
    for patients, (_, agent_rate, _) in rates.items():
        print(f"  ratio at {patients:>9,} patients: {agent_rate / virus:6.1f}x virus_on_network")
    for n, seconds in builds.items():
        print(f"  build {n:>9,} patients: {seconds:6.2f} s = {seconds / n * 1e6:5.2f} us/patient")
    for (a, b), (total, week) in weeks.items():
        print(f"  careqic weeks {a:>5,}-{b:<5,}: {total:.3f} s (median week {week * 1e3:.2f} ms)")
    early, late = weeks[EARLY][0], weeks[LATE][0]
    print(f"  cost of weeks 416-520 / weeks 0-104: {late / early:.2f}")
    if memory:
        print(
            f"  peak memory, {memory['patients']:,} patients x 52 weeks (fresh process, "
            f"imports included): {memory['peak_mib'] / 1024:.2f} GiB"
        )


if __name__ == "__main__":
    main()
