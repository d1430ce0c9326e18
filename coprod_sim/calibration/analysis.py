"""Reading a calibration: weighted quantiles, the posterior's summary and the
posterior-predictive check (no plotting: :mod:`~coprod_sim.calibration.report` draws).

* **Posterior summary.** Each parameter's weighted median and 90% interval over the last
  generation, beside its prior range; and the effective sample size
  :math:`(\\sum w)^2 / \\sum w^2`.
* **Posterior-predictive check.** Posterior draws are simulated again with fresh seeds
  (``predictive.parquet``). A target fits when its observed value lies inside the central
  90% of the predictive distribution of what a study would observe, :math:`y + e` with
  :math:`e \\sim N(0, \\sigma^2)`, the target's own uncertainty added to the simulation's.
  The report says so plainly when a target does not fit: that is a finding about the
  model, not a number to tune away.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coprod_sim.calibration.run import RECORD
from coprod_sim.calibration.spec import CalibrationSpec

#: The central share of a posterior or predictive distribution the report gives.
INTERVAL = 0.90


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> Any:
    """The ``q`` quantile of ``values`` under ``weights`` (the inverse of the weighted
    empirical distribution, with each particle's mass centred on it)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cumulative = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cumulative, v)


def effective_sample_size(weights: np.ndarray) -> float:
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / (w**2).sum())


def read_spec(out: Path) -> CalibrationSpec:
    record = json.loads((out / RECORD).read_text())
    return CalibrationSpec.model_validate(record["spec"])


def posterior_summary(spec: CalibrationSpec, posterior: pd.DataFrame, bounds) -> pd.DataFrame:
    """Each parameter: prior range, weighted median and 90% interval."""
    w = posterior["weight"].to_numpy()
    tail = (1 - INTERVAL) / 2
    rows = []
    for name in spec.parameters:
        low, high = bounds[name]
        q = weighted_quantile(posterior[name].to_numpy(), w, [tail, 0.5, 1 - tail])
        rows.append(
            {
                "parameter": name,
                "prior low": low,
                "prior high": high,
                "median": q[1],
                "90% low": q[0],
                "90% high": q[2],
                "interval / prior": (q[2] - q[0]) / (high - low),
            }
        )
    return pd.DataFrame(rows)


def predictive_check(spec: CalibrationSpec, predictive: pd.DataFrame) -> pd.DataFrame:
    """Each target against its posterior-predictive distribution (see the module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 11]))
    tail = (1 - INTERVAL) / 2
    rows = []
    for name, target in spec.targets.items():
        simulated = predictive[name].dropna().to_numpy(float)
        if len(simulated) == 0:
            rows.append({"target": name, "observed": target.observed, "sd": target.sd,
                         "fits": "no simulation succeeded"})  # fmt: skip
            continue
        noisy = (simulated[:, None] + rng.normal(0, target.sd, (len(simulated), 200))).ravel()
        low, high = np.quantile(noisy, [tail, 1 - tail])
        rows.append(
            {
                "target": name,
                "observed": target.observed,
                "sd": target.sd,
                "simulated median": float(np.median(simulated)),
                "simulated 5%": float(np.quantile(simulated, tail)),
                "simulated 95%": float(np.quantile(simulated, 1 - tail)),
                "predictive 5%": float(low),
                "predictive 95%": float(high),
                "share above observed": float(np.mean(noisy > target.observed)),
                "fits": "yes" if low <= target.observed <= high else "no",
            }
        )
    return pd.DataFrame(rows)
