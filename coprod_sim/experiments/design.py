"""Experiment designs: from factors to design points.

* ``factorial``: every combination of the listed values (the full factorial
  of BehaviorSpace and ``mesa.batch_run``).
* ``lhs``: a Latin hypercube of ``samples`` points over the factor ranges
  (McKay, Beckman & Conover 1979), through SALib.
* ``sobol``: Saltelli's extension of the Sobol sequence, ``N·(D+2)`` points,
  or ``N·(2D+2)`` with second-order indices (Saltelli 2002; Saltelli et al.
  2010), for variance-based indices; ``N`` should be a power of 2.
* ``morris``: ``samples`` one-at-a-time trajectories of ``D+1`` points on a
  ``levels`` grid (Morris 1991; Campolongo et al. 2007), for elementary effects.

Sampling designs are seeded from the experiment's seed, so the points are the
same in every process. Factors marked ``integer`` are sampled on
``[low - ½, high + ½]`` and rounded, so every whole number is equally likely.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from coprod_sim.errors import DesignError, Problem

if TYPE_CHECKING:
    from coprod_sim.experiments.spec import ExperimentSpec


def build_design(
    spec: ExperimentSpec,
) -> tuple[list[dict[str, Any]], np.ndarray | None, dict[str, Any] | None]:
    """Design points (factor -> value) for ``spec``, with the SALib sample and problem."""
    kind = spec.design.kind
    if kind == "factorial":
        names = list(spec.factors)
        combos = itertools.product(*(spec.factors[n] for n in names))
        return [dict(zip(names, combo, strict=True)) for combo in combos], None, None

    names = list(spec.factors)
    ranges = [spec.factors[n] for n in names]
    integer = [bool(r.get("integer", False)) for r in ranges]
    # A whole-number factor is sampled on [low - ½, high + ½] and rounded, so that each
    # whole number in the range is equally likely (rounding [low, high] halves the ends).
    pad = [0.5 if is_int else 0.0 for is_int in integer]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [
            [float(r["low"]) - p, float(r["high"]) + p] for r, p in zip(ranges, pad, strict=True)
        ],
    }
    samples = spec.design.samples
    if samples is None:
        raise DesignError(
            [Problem("design.samples", None, f"a {kind} design needs a number of samples")]
        )
    sample = _sample(kind, problem, samples, spec)
    low = [float(r["low"]) for r in ranges]
    high = [float(r["high"]) for r in ranges]
    points = [
        {
            name: int(min(max(round(x), lo), hi)) if is_int else float(x)
            for name, x, is_int, lo, hi in zip(names, row, integer, low, high, strict=True)
        }
        for row in sample
    ]
    return points, sample, problem


def _sample(kind: str, problem: dict[str, Any], samples: int, spec: ExperimentSpec) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    d = problem["num_vars"]
    if kind == "sobol":
        if samples & (samples - 1):
            raise DesignError(
                [
                    Problem(
                        "design.samples",
                        samples,
                        "a Sobol design needs a power of 2 (e.g. 64, 128, 256) to keep "
                        "the sequence's balance",
                    )
                ]
            )
        if spec.design.second_order and d < 2:
            raise DesignError([Problem("design.second_order", True, "needs at least two factors")])
        return sobol.sample(
            problem, samples, calc_second_order=spec.design.second_order, seed=spec.seed
        )
    if kind == "morris":
        if d < 1:
            raise DesignError([Problem("factors", {}, "a Morris design needs a factor")])
        return morris.sample(problem, samples, num_levels=spec.design.levels, seed=spec.seed)
    return latin.sample(problem, samples, seed=spec.seed)
