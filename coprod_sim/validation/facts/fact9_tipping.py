"""Fact 9: trust is needed for coproduction and produced by it; from very low initial trust
the loop may never take off (a tipping point).

The arms are the spec's scenarios labelled ``coproduced`` and ``staff_led`` (a spec with
one scenario is all coproduced) and the lowest and highest of its ``initial_trust`` levels.
The spec varies the evidence patients start with (``initial_trust``) while it holds the
groups' history (``historical_trust``), runs long enough for runs to settle, and looks for
bistability as two clusters of outcomes across replications of the same settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from coprod_sim.experiments.stats import Interval
from coprod_sim.validation.checks import (
    HOLDS,
    NOT_SHOWN,
    Check,
    bootstrap,
    claim,
    paired,
    per_replication,
    select,
)
from coprod_sim.validation.facts.common import (
    COPRODUCED,
    STAFF_LED,
    Fact,
    RegionCheck,
    SpecRun,
    StudyData,
    contrast,
)

SPEC, REGION_SPEC = "fact9_tipping", "fact9_tipping_region"
TAKE_OFF_SHARE = 0.1  # "never takes off": under a tenth of what high trust produces
TIPPING_SLOPE = 3.0  # a tipping point: somewhere the response is 3× steeper than on average
SPLIT_GAP = 4.0  # two clusters: a gap between replications 4× wider than the others
BISTABLE_OUTCOMES = ("patient_trust", "representatives")


def coproduced_arm(run: SpecRun) -> dict[str, str]:
    """The coproduced arm: the scenario labelled so, or every run of a one-scenario spec."""
    return run.arm(COPRODUCED) if len(run.bases) > 1 else {}


def steepest_rise(
    table: pd.DataFrame,
    where: Mapping[str, Any] | None = None,
    outcome: str = "patient_originated",
) -> Interval:
    """The steepest slope of ``outcome`` against initial trust between neighbouring levels, as a
    multiple of the average slope from the lowest level to the highest, with a bootstrap
    interval over replications; ``where`` selects the coproduced arm.

    A straight line gives 1 whatever the grid; a smooth curve a little more; a tipping point,
    where one step of trust switches the loop on, many times the average (a jump within one
    0.05 step of a 0.05–0.7 grid gives 13). Undefined (NaN) when the outcome does not rise.
    """
    table = select(table, where or {})
    wide = table.pivot_table(
        index="replication", columns="initial_trust", values=outcome, aggfunc="mean"
    ).dropna()
    wide = wide.sort_index(axis=1)
    trust = wide.columns.to_numpy(dtype=float)

    def ratio(values: np.ndarray) -> float:
        means = values.mean(axis=0)
        average = (means[-1] - means[0]) / (trust[-1] - trust[0])
        steepest = np.max(np.diff(means) / np.diff(trust))
        return float(steepest / average) if average > 0 else float("nan")

    return bootstrap(wide.to_numpy(), ratio)


def take_off_shortfall(table: pd.DataFrame, where: Mapping[str, Any] | None = None) -> Interval:
    """Patient-originated changes at the lowest initial trust minus a tenth of those at the
    highest, paired on the replication: below 0, the loop did not take off from low trust;
    ``where`` selects the coproduced arm."""
    table = select(table, where or {})
    trust = sorted(table["initial_trust"].unique())
    return paired(
        TAKE_OFF_SHARE * per_replication(table, {"initial_trust": trust[-1]}, "patient_originated"),
        per_replication(table, {"initial_trust": trust[0]}, "patient_originated"),
    )


def clusters(values: np.ndarray) -> bool:
    """Whether replications of one setting fall into two clusters: sorted, the widest gap
    between neighbours is more than ``SPLIT_GAP`` times the mean of the other gaps, and each
    side holds at least a fifth of the replications."""
    values = np.sort(np.asarray(values, dtype=float))
    n = values.size
    if n < 5 or values[-1] == values[0]:
        return False
    gaps = np.diff(values)
    widest = int(np.argmax(gaps))
    others = np.delete(gaps, widest)
    side = min(widest + 1, n - widest - 1)
    return bool(side >= n / 5 and gaps[widest] > SPLIT_GAP * max(others.mean(), 1e-12))


def bistable_settings(table: pd.DataFrame, outcomes: tuple[str, ...]) -> list[str]:
    """The settings (scenario, initial trust) whose replications split into two clusters
    in any of ``outcomes`` where the runs ended: two states the same settings can settle in."""
    found = []
    keys = [c for c in ("scenario", "initial_trust") if c in table]
    for key, rows in table.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for outcome in outcomes:
            if clusters(rows[outcome].to_numpy()):
                found.append(", ".join(map(str, key)) + f" ({outcome})")
    return found


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    runs, s = data.runs(SPEC, "patient_originated", "patient_trust", "representatives"), "Fact 9"
    run = data.spec(SPEC)
    coproduced, staff_led = coproduced_arm(run), run.arm(STAFF_LED)
    lowest, highest = run.extremes("initial_trust")
    low, high = {"initial_trust": lowest}, {"initial_trust": highest}
    end = run.spec.steps
    split = bistable_settings(runs, BISTABLE_OUTCOMES)
    settings = runs.groupby(["scenario", "initial_trust"]).ngroups
    return {
        "needed": claim(
            s,
            "trust is needed for coproduction",
            f"patient-originated changes adopted, initial trust {highest:g} minus "
            f"{lowest:g}, coproduced",
            contrast("patient_originated", coproduced | low, coproduced | high)(runs),
            "above",
            margin("needed"),
        ),
        "produced": claim(
            s,
            "trust is produced by coproduction",
            f"patients' trust in week {end}, coproduced minus staff-led (all initial trusts)",
            contrast("patient_trust", staff_led, coproduced)(runs),
            "above",
            margin("produced"),
        ),
        "lasting": claim(
            s,
            "where trust starts still matters where runs settle (the groups' history held)",
            f"patients' trust in week {end}, initial trust {highest:g} minus {lowest:g}, "
            "coproduced",
            contrast("patient_trust", coproduced | low, coproduced | high)(runs),
            "above",
            margin("lasting"),
            note=(
                "Experience fades (trust_memory) and becomes history only slowly "
                "(history_weeks): once the starting evidence has faded, trust is set by the "
                "visits and meetings patients go on having, and those hardly depend on where "
                "trust started."
            ),
        ),
        "no_take_off": claim(
            s,
            "from very low trust the loop never takes off",
            f"patient-originated changes at initial trust {lowest:g} minus "
            f"{TAKE_OFF_SHARE:g} × those at {highest:g}, coproduced",
            take_off_shortfall(runs, coproduced),
            "below",
            margin("no_take_off"),
            note=(
                "Low trust slows recruitment but does not stop it: an empty seat is offered "
                "again at every meeting, and where word of mouth has not soured, even wary "
                "patients accept in proportion to their trust, so the teams still seat "
                "partners whose input is heard."
            ),
        ),
        "tipping_point": claim(
            s,
            "…and takes off abruptly above some trust (a tipping point)",
            "steepest rise of patient-originated changes with initial trust, as a multiple of "
            f"the average rise from {lowest:g} to {highest:g}, minus {TIPPING_SLOPE:g} "
            "(bootstrap interval)",
            _shifted(steepest_rise(runs, coproduced), TIPPING_SLOPE),
            "above",
            margin("tipping_point"),
            bootstrap=True,
            note=(
                "Patient-originated changes rise smoothly with initial trust: recruitment, "
                "willingness to speak and the feedback loop all respond to trust "
                "continuously, with no threshold."
            ),
        ),
        "bistable": Check(
            s,
            "the same settings can settle in two states (bistability)",
            "settings whose replications split into two clusters where the runs ended "
            f"({', '.join(BISTABLE_OUTCOMES)})" + (f": {'; '.join(split)}" if split else ""),
            float(len(split)),
            float("nan"),
            float("nan"),
            f"≥ 1 of {settings} settings (a gap more than {SPLIT_GAP:g}× the others, a fifth "
            "of the replications on each side)",
            HOLDS if split else NOT_SHOWN,
            note=(
                "Every setting's replications spread around one level: nothing in the runs "
                "shows a second state for the same settings."
            ),
        ),
    }


def _shifted(interval: Interval, by: float) -> Interval:
    """An interval moved down by ``by``: a claim about a reference as one about 0."""
    return Interval(interval.mean - by, interval.low - by, interval.high - by, interval.n)


def regions(data: StudyData) -> dict[str, RegionCheck]:
    margin = data.spec(SPEC).margin  # the main spec's claims
    run = data.spec(REGION_SPEC)
    coproduced = coproduced_arm(run)
    run.extremes("initial_trust")  # a rise needs two levels at least
    return {
        "no_take_off": RegionCheck(
            "patient-originated changes at the lowest initial trust minus a tenth of those "
            "at the highest (below 0: the loop does not take off)",
            ("voice_base",),
            lambda table: take_off_shortfall(table, coproduced),
            "below",
            margin=margin("no_take_off")[0],
            outcomes=("patient_originated",),
        ),
        "tipping_point": RegionCheck(
            "steepest rise of patient-originated changes with initial trust, as a multiple "
            f"of the average rise (above {TIPPING_SLOPE:g}: a tipping point)",
            ("voice_base",),
            lambda table: steepest_rise(table, coproduced),
            "above",
            reference=TIPPING_SLOPE,
            margin=margin("tipping_point")[0],
            outcomes=("patient_originated",),
        ),
    }


FACT = Fact(
    id="fact9",
    number=9,
    title="Trust is needed for coproduction and produced by it",
    statement=(
        "Trust is needed for coproduction and produced by it. From very low initial trust the "
        "loop may never take off, a tipping point."
    ),
    spec=SPEC,
    checks=checks,
    region_spec=REGION_SPEC,
    regions=regions,
    panels=(
        ("patient_originated", ("initial_trust", "scenario")),
        ("patient_trust", ("initial_trust", "scenario")),
    ),
)
