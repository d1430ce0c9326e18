"""Parameter recovery: calibrate to data simulated from known parameters, and see whether the
posterior finds them.

For each of ``truths`` parameter sets drawn from the prior (a Latin hypercube, seeded), the
targets are simulated once at those values (a fresh seed), the simulated values replace the
spec's observed ones (each target keeps its sd), and the calibration runs on them into
``out/truth-K/``. A parameter is *recovered* at a truth when the posterior's central 90%
interval covers it; over many truths, a well-calibrated posterior covers about 90% of
them. The interval's width against the prior's says how much the targets inform the
parameter: an interval as wide as the prior covers the truth and says nothing.

Each truth is a calibration folder of its own, so the study resumes truth by truth.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from coprod_sim.calibration.analysis import weighted_quantile
from coprod_sim.calibration.run import POSTERIOR, CalibrationSummary, calibrate
from coprod_sim.calibration.sampler import model_seed
from coprod_sim.calibration.simulation import SimulationTask, simulate
from coprod_sim.calibration.spec import Calibration

#: The central share of the posterior whose coverage of the truth is counted.
INTERVAL = 0.90
#: The log's generation of the simulations that make the synthetic data.
DATA_GENERATION = -500


def truths(calibration: Calibration, n: int) -> list[dict[str, float]]:
    """``n`` parameter sets spread over the prior (a Latin hypercube from the spec's seed)."""
    names = calibration.parameter_names
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng([calibration.spec.seed, 5]))
    points = unit.random(n)
    low = np.array([calibration.bounds[name][0] for name in names])
    high = np.array([calibration.bounds[name][1] for name in names])
    values = low + points * (high - low)
    return [dict(zip(names, map(float, row), strict=True)) for row in values]


def synthetic(calibration: Calibration, truth: dict[str, float], k: int) -> Calibration:
    """The calibration with each target's observed value simulated at ``truth``."""
    spec = calibration.spec
    task = SimulationTask(
        DATA_GENERATION, k, model_seed(spec.seed, DATA_GENERATION, k), truth,
        calibration.groups, dict(spec.targets),
    )  # fmt: skip
    result = simulate(task)
    if result.error:
        raise RuntimeError(f"the data for truth {k} could not be simulated: {result.error}")
    targets = {
        name: target.model_copy(update={"observed": result.summaries[name]})
        for name, target in spec.targets.items()
    }
    new = spec.model_copy(update={"name": f"{spec.name}-truth-{k}", "targets": targets})
    return dataclasses.replace(calibration, spec=new)


def run_recovery(
    calibration: Calibration,
    out: Path,
    n_truths: int,
    **executor: object,
) -> pd.DataFrame:
    """Recover ``n_truths`` truths (module docstring); one row per truth and parameter."""
    rows = []
    for k, truth in enumerate(truths(calibration, n_truths)):
        folder = out / f"truth-{k:02d}"
        summary: CalibrationSummary = calibrate(
            synthetic(calibration, truth, k), folder, **executor
        )
        if summary.interrupted:
            raise KeyboardInterrupt(summary.stopped_by)
        posterior = pd.read_parquet(folder / POSTERIOR)
        rows += coverage_rows(calibration, truth, posterior, k)
    return pd.DataFrame(rows)


def coverage_rows(
    calibration: Calibration, truth: dict[str, float], posterior: pd.DataFrame, k: int
) -> list[dict]:
    """Whether each parameter's 90% interval covers its truth, and how narrow it is."""
    tail = (1 - INTERVAL) / 2
    weights = posterior["weight"].to_numpy()
    rows = []
    for name, value in truth.items():
        low, median, high = weighted_quantile(
            posterior[name].to_numpy(), weights, [tail, 0.5, 1 - tail]
        )
        prior_low, prior_high = calibration.bounds[name]
        rows.append(
            {
                "truth_index": k,
                "parameter": name,
                "truth": value,
                "median": float(median),
                "low": float(low),
                "high": float(high),
                "covered": bool(low <= value <= high),
                "width / prior": float((high - low) / (prior_high - prior_low)),
            }
        )
    return rows


def coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: truths covered, the share, and the median relative width."""
    return (
        table.groupby("parameter", sort=False)
        .agg(
            truths=("covered", "size"),
            covered=("covered", "sum"),
            coverage=("covered", "mean"),
            median_width=("width / prior", "median"),
        )
        .reset_index()
    )
