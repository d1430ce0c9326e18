"""Plausibility patterns: model figures set beside published ones, with no verdict.

A plausibility pattern is not a target: nothing in the model was set to reproduce it, and a
gap between the two is reported, not tuned away. Each runs the model in this process, like
the reductions, with fixed seeds.

JaQIC (I-TECH report): in the Jamaican collaborative of 10 sites, October 2013 to March
2014, CD4 testing rose by up to 34 percentage points. The ``jaqic`` preset runs 26 weeks;
the pattern is each site's rise in lab-monitoring (testing) coverage, the best site's beside
the published "up to 34 points", and the mean over sites.
"""

from __future__ import annotations

import numpy as np

from coprod_sim.experiments.stats import mean_interval
from coprod_sim.model import CoproductionModel
from coprod_sim.validation.checks import Check, plausibility

#: Stable ids of the patterns, in the order :func:`run_patterns` returns them.
PLAUSIBILITY_IDS = ("jaqic_best_site", "jaqic_mean_site")
JAQIC_WEEKS = 26
JAQIC_PUBLISHED = "CD4 testing up by as much as 34 percentage points at the best of 10 sites"


def jaqic_rises(replications: int, seed: int = 113) -> np.ndarray:
    """(replications × 2): the best site's and the mean site's rise in testing coverage over
    the JaQIC period, in percentage points, one row per seed."""
    rows = []
    for r in range(replications):
        model = CoproductionModel.from_scenario("jaqic", rng=seed + r, with_agents=False)
        model.run_for(JAQIC_WEEKS)
        sites = model.outputs.sites()
        start = sites[sites["step"] == 0].set_index("site")["testing_coverage"]
        end = sites[sites["step"] == JAQIC_WEEKS].set_index("site")["testing_coverage"]
        rise = 100 * (end - start)
        rows.append((rise.max(), rise.mean()))
    return np.array(rows)


def run_patterns(size: str = "full") -> list[Check]:
    """Every plausibility pattern ("quick": fewer replications)."""
    rises = jaqic_rises(8 if size == "quick" else 20)
    subject = "Plausibility: JaQIC"
    best, mean = mean_interval(rises[:, 0]), mean_interval(rises[:, 1])
    return [
        plausibility(
            subject,
            "the best site's rise in lab monitoring over the JaQIC period",
            f"rise in testing coverage at the best of 10 sites, week 0 to {JAQIC_WEEKS} "
            "(percentage points), jaqic preset",
            best,
            JAQIC_PUBLISHED,
        ),
        plausibility(
            subject,
            "the mean site's rise",
            f"rise in testing coverage, mean over the 10 sites, week 0 to {JAQIC_WEEKS} "
            "(percentage points), jaqic preset",
            mean,
            "not reported (the report gives the best site's)",
        ),
    ]
