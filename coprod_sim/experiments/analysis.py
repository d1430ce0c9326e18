"""What a sweep's results mean: summaries, paired differences and sensitivity indices.

* :func:`summarise`: each outcome's mean over replications with its 95% t
  interval, per design point.
* :func:`paired_differences`: each scenario against a baseline, paired on the
  replication (common random numbers), with the paired t interval.
* :func:`decisions`: the same differences framed for a decision: Bonferroni-adjusted
  intervals, verdicts against each outcome's minimum important difference, the people
  behind each share, and the difference in each outcome's mean level over the run.
* :func:`sensitivity`: Sobol first-order and total indices (Saltelli et al.
  2010, through SALib), and second-order ones for each pair of factors when the
  design asks for them, or Morris's μ* and σ (Campolongo et al. 2007), each
  with its bootstrap confidence. Stochastic outcomes are first averaged over the
  replications of each design point, as SALib expects one value per point.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coprod_sim.experiments.parts import ERRORS, RUNS, SERIES, read_dataset, read_folder_table
from coprod_sim.experiments.record import MANIFEST_FILE, read_record
from coprod_sim.experiments.stats import Side, mean_interval, paired_difference, side
from coprod_sim.experiments.store import DESIGN_FILE


def read_header(out: str | Path) -> dict[str, Any]:
    """The experiment header of a results folder, checked against the record its manifest
    keeps (:func:`~coprod_sim.experiments.record.read_record`), or :class:`FolderError`."""
    return read_record(Path(out))


def load_runs(out: str | Path) -> pd.DataFrame:
    """One row per completed run, ordered by run id."""
    return _load(out, RUNS, ["run_id"])


def load_series(out: str | Path) -> pd.DataFrame:
    """One row per completed run and kept week."""
    return _load(out, SERIES, ["run_id", "step"])


def load_errors(out: str | Path) -> pd.DataFrame:
    """Failed attempts, with their errors."""
    return _load(out, ERRORS, ["run_id", "attempt"])


def load_manifest(out: str | Path) -> pd.DataFrame:
    """Every planned run."""
    read_header(out)
    return read_folder_table(Path(out), MANIFEST_FILE).to_pandas()


def _load(out: str | Path, sub: str, order: list[str]) -> pd.DataFrame:
    table = read_dataset(Path(out), sub, read_header(out))
    if table is None:
        return pd.DataFrame(columns=order)
    return table.to_pandas().sort_values(order, ignore_index=True)


def outcomes_of(header: dict[str, Any], kind: str = "final") -> list[str]:
    return list(header["spec"]["outcomes"][kind])


def point_columns(header: dict[str, Any]) -> list[str]:
    """Columns that identify a design point: the scenario label and the factors."""
    return ["scenario_id", "scenario", *header["factors"]]


def summarise(runs: pd.DataFrame, outcomes: list[str], by: list[str]) -> pd.DataFrame:
    """Mean, 95% interval and replications of each outcome per group of ``by``."""
    rows = []
    for keys, group in runs.groupby(by, sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for outcome in outcomes:
            interval = mean_interval(group[outcome].to_numpy())
            rows.append(
                {
                    **dict(zip(by, keys, strict=True)),
                    "outcome": outcome,
                    "mean": float(interval.mean),
                    "low": float(interval.low),
                    "high": float(interval.high),
                    "n": interval.n,
                }
            )
    return pd.DataFrame(rows)


def paired_differences(
    runs: pd.DataFrame, outcomes: list[str], baseline: str, by: str = "scenario_id"
) -> pd.DataFrame:
    """Each level of ``by`` minus ``baseline``, paired on the replication.

    Only replications present for both are used (an interrupted sweep may hold
    one without the other).
    """
    levels = list(dict.fromkeys(runs[by]))
    if baseline not in levels:
        raise ValueError(f"baseline = {baseline!r}: not among {levels}")
    rows = []
    for outcome in outcomes:
        wide = runs.pivot_table(index="replication", columns=by, values=outcome, aggfunc="first")
        for level in levels:
            if level == baseline:
                continue
            pair = wide[[baseline, level]].dropna()
            if pair.empty:
                continue
            interval = paired_difference(pair[baseline].to_numpy(), pair[level].to_numpy())
            rows.append(
                {
                    "baseline": baseline,
                    by: level,
                    "outcome": outcome,
                    "baseline_mean": float(pair[baseline].mean()),
                    "mean_value": float(pair[level].mean()),
                    "difference": float(interval.mean),
                    "low": float(interval.low),
                    "high": float(interval.high),
                    "n": interval.n,
                }
            )
    return pd.DataFrame(rows)


def decisions(
    runs: pd.DataFrame,
    series: pd.DataFrame,
    outcomes: list[str],
    baseline: str,
    *,
    by: str = "scenario",
    minimum: dict[str, float] | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, int, float]:
    """Each level of ``by`` minus ``baseline`` for every outcome, framed for a decision.

    The intervals are paired t intervals on the replications (common random numbers),
    Bonferroni-adjusted over the family of every (level, outcome) compared, so that all of
    them hold together at ``level``. Each row has the verdict of the final week's difference
    and of the difference in mean level over the kept weeks (the area under the curve over
    the weeks it spans, by the trapezoid rule), against the outcome's minimum important
    difference (``minimum``, else the defaults of :mod:`coprod_sim.experiments.decision`),
    and for a share the difference in the people behind it (``COUNT_OF_SHARE``).

    Returns the table, the family's size and the adjusted level of each interval.
    """
    from coprod_sim.experiments.decision import better, minimum_important
    from coprod_sim.experiments.stats import decision_verdict
    from coprod_sim.outputs import COUNT_OF_SHARE

    levels = [v for v in dict.fromkeys(runs[by]) if v != baseline]
    family = max(len(levels) * len(outcomes), 1)
    each = 1 - (1 - level) / family
    wide = runs.set_index(["replication", by])
    over_time = _mean_over_time(series, outcomes, by) if not series.empty else None
    rows = []
    for value in levels:
        for outcome in outcomes:
            a, b = _paired(wide, outcome, baseline, value)
            interval = paired_difference(a, b, each)
            margin = minimum_important(outcome, minimum)
            row = {
                by: value,
                "baseline": baseline,
                "outcome": outcome,
                "baseline_mean": float(np.mean(a)),
                "mean_value": float(np.mean(b)),
                "difference": float(interval.mean),
                "low": float(interval.low),
                "high": float(interval.high),
                "n": interval.n,
                "minimum_important": margin,
                "verdict": decision_verdict(interval.low, interval.high, margin, better(outcome)),
            }
            count = COUNT_OF_SHARE.get(outcome)
            if count is not None and count in wide:
                people = paired_difference(*_paired(wide, count, baseline, value), each)
                row |= {"people": float(people.mean), "people_low": float(people.low),
                        "people_high": float(people.high)}  # fmt: skip
            if over_time is not None and outcome in over_time:
                a_t, b_t = _paired(over_time, outcome, baseline, value)
                level_diff = paired_difference(a_t, b_t, each)
                row |= {
                    "over_time": float(level_diff.mean),
                    "over_time_low": float(level_diff.low),
                    "over_time_high": float(level_diff.high),
                    "over_time_verdict": decision_verdict(
                        level_diff.low, level_diff.high, margin, better(outcome)
                    ),
                }
            rows.append(row)
    return pd.DataFrame(rows), family, each


def _paired(wide: pd.DataFrame, outcome: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """The replications both ``a`` and ``b`` have, as two aligned arrays."""
    pair = wide[outcome].unstack()[[a, b]].dropna()
    return pair[a].to_numpy(float), pair[b].to_numpy(float)


def _mean_over_time(series: pd.DataFrame, outcomes: list[str], by: str) -> pd.DataFrame:
    """Each run's mean level of each outcome over its kept weeks (trapezoid rule), indexed
    by (replication, ``by``)."""
    present = [o for o in outcomes if o in series]

    def level(run: pd.DataFrame) -> pd.Series:
        run = run.sort_values("step")
        weeks = run["step"].to_numpy(float)
        span = weeks[-1] - weeks[0]
        return pd.Series(
            {
                o: np.trapezoid(run[o].to_numpy(float), weeks) / span if span else run[o].mean()
                for o in present
            }
        )

    keys = ["replication", by]
    return series.groupby(keys, sort=False)[["step", *present]].apply(level)


VERDICTS = {
    Side.UNKNOWN: "unknown (one replication)",
    Side.ABOVE: "higher (95% interval above 0)",
    Side.BELOW: "lower (95% interval below 0)",
    Side.ACROSS: "no clear difference",
}


def verdict(low: float, high: float) -> str:
    """Plain words for a difference's 95% interval."""
    return VERDICTS[side(low, high)]


def sensitivity(out: str | Path, seed: int = 0, base: int | None = None) -> pd.DataFrame:
    """Sobol or Morris indices of every kept final outcome, with their confidence.

    ``base`` (Sobol only) analyses the design of that base sample: its first ``base`` blocks
    (see :func:`sobol_convergence`), which need not wait for the rest of the sweep.

    One row per outcome and factor; with ``second_order = true``, also one row per outcome
    and pair of factors (``factor`` is ``"a × b"``) holding ``S2`` and ``S2_conf``. The
    confidence intervals come from a bootstrap seeded by ``seed`` (0 included), so the same
    folder gives the same table every time. Raises ``ValueError`` when design points are
    missing (resume the sweep first).
    """
    from SALib.analyze import morris, sobol

    header = read_header(out)
    kind, problem = header["design"], header["problem"]
    if kind not in ("sobol", "morris"):
        raise ValueError(f"design = {kind!r}: sensitivity indices need a sobol or morris design")
    runs = load_runs(out)
    n_points = header["points"]
    means = runs.groupby("scenario_id")[outcomes_of(header)].mean()
    if base is not None:
        if kind != "sobol" or base & (base - 1) or base > header["spec"]["design"]["samples"]:
            raise ValueError(f"base = {base}: a power of 2 up to the Sobol design's samples")
        second = header["spec"]["design"]["second_order"]
        n_points = base * (problem["num_vars"] * (2 if second else 1) + 2)
        means = means[means.index < f"s{n_points:05d}"]
    if len(means) < n_points:
        raise ValueError(
            f"{n_points - len(means)} of {n_points} design points have no completed run; "
            "re-run the sweep to finish them"
        )
    means = means.sort_index()
    second_order = header["spec"]["design"]["second_order"]
    rows = []
    for outcome in means.columns:
        y = means[outcome].to_numpy(dtype=float)
        if np.ptp(y) == 0:  # a constant outcome has no variance to apportion
            for name in problem["names"]:
                rows.append({"outcome": outcome, "factor": name, "note": "constant outcome"})
            continue
        if kind == "sobol":
            # A Generator, not the int: SALib's sobol seeds only `if seed:`, so 0 would be
            # no seed at all; for any other seed the draws are those of the int.
            rng = np.random.default_rng(seed)
            result = sobol.analyze(problem, y, calc_second_order=second_order, seed=rng)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            design = read_folder_table(Path(out), DESIGN_FILE).to_pandas()
            design = design.set_index("scenario_id")
            x = design.loc[means.index, problem["names"]].to_numpy(dtype=float)
            levels = header["spec"]["design"]["levels"]
            result = morris.analyze(problem, x, y, num_levels=levels, seed=seed)
            keys = ("mu_star", "mu_star_conf", "sigma", "mu")
        names = problem["names"]
        for j, name in enumerate(names):
            rows.append(
                {"outcome": outcome, "factor": name, **{k: float(result[k][j]) for k in keys}}
            )
        if kind == "sobol" and second_order:
            for j, k in itertools.combinations(range(len(names)), 2):
                rows.append(
                    {
                        "outcome": outcome,
                        "factor": f"{names[j]} × {names[k]}",
                        "S2": float(result["S2"][j, k]),
                        "S2_conf": float(result["S2_conf"][j, k]),
                    }
                )
    return pd.DataFrame(rows)


#: The 95% half-width of S1 and ST below which a Sobol study counts as converged.
CONVERGED = 0.05


def sobol_convergence(out: str | Path, seed: int = 0) -> pd.DataFrame:
    """How the Sobol indices' 95% half-widths shrink with the base sample N.

    A Saltelli design of base N is N blocks of D+2 points (2D+2 with second-order indices),
    one block per point of a Sobol sequence, so its first n blocks, n a power of 2, are the
    design of base n. Each complete prefix is analysed as its own study: one row per n and
    outcome, with the largest S1 and ST half-width over the factors (SALib's bootstrap
    ``_conf``, seeded as in :func:`sensitivity`). A sweep still running gives the prefixes
    it has finished, since runs go in design order.
    """
    from SALib.analyze import sobol

    header = read_header(out)
    if header["design"] != "sobol" or len(header["scenarios"]) != 1:
        raise ValueError("a convergence check needs a Sobol design on one base scenario")
    problem = header["problem"]
    second_order = header["spec"]["design"]["second_order"]
    block = problem["num_vars"] * (2 if second_order else 1) + 2
    runs = load_runs(out)
    means = runs.groupby("scenario_id")[outcomes_of(header)].mean().sort_index()
    indices = [int(sid[1:]) for sid in means.index]
    complete = next((i for i, sid in enumerate(indices) if sid != i), len(indices))
    rows = []
    n = 1
    while n * block <= complete:
        if n >= 8:  # smaller bases give no usable bootstrap
            for outcome in means.columns:
                y = means[outcome].to_numpy(dtype=float)[: n * block]
                if np.ptp(y) == 0:
                    continue
                rng = np.random.default_rng(seed)
                result = sobol.analyze(problem, y, calc_second_order=second_order, seed=rng)
                s1, st = float(np.max(result["S1_conf"])), float(np.max(result["ST_conf"]))
                rows.append(
                    {"N": n, "runs": n * block, "outcome": outcome, "S1_half_width": s1,
                     "ST_half_width": st, "converged": max(s1, st) <= CONVERGED}
                )  # fmt: skip
        n *= 2
    return pd.DataFrame(rows)


def converged_n(convergence: pd.DataFrame, outcomes: list[str]) -> int | None:
    """The smallest N at which every one of ``outcomes`` has S1 and ST half-widths within
    :data:`CONVERGED`, and stays so at every larger N checked; None if none does."""
    table = convergence[convergence["outcome"].isin(outcomes)]
    sizes = sorted(table["N"].unique())
    ok = [bool(table[table["N"] == n]["converged"].all()) and
          set(table[table["N"] == n]["outcome"]) == set(outcomes) for n in sizes]  # fmt: skip
    for i, n in enumerate(sizes):
        if all(ok[i:]):
            return int(n)
    return None


def series_summary(series: pd.DataFrame, outcomes: list[str], by: str) -> pd.DataFrame:
    """Mean and 95% interval of each series outcome per ``by`` and week."""
    return summarise(series, outcomes, [by, "step"])
