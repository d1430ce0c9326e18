"""From a plan's runs to a decision: outcomes in people, costs, targets met across futures,
regret, the robust choice with its uncertainty, and verdicts that say what matters.

Notation: design :math:`d`, future :math:`f` (a Latin hypercube draw of the uncertain
context), replication :math:`r` (a seed, shared by every design in every future: common
random numbers). :math:`\\bar y_{df}` is the mean of an outcome over a cell's replications.

* **Expected outcome** of a design: the mean of :math:`\\bar y_{df}` over the futures, with
  a t interval across futures (it spans both the context and chance).
* **Targets met** in a future (satisficing; Simon 1955, as robust decision making uses it,
  Lempert et al. 2003): every target holds for :math:`\\bar y_{df}`. The chance of meeting
  the targets is the share of futures where they are met, with Wilson's interval.
* **Regret** on the objective (Savage 1951): :math:`R_{df} = \\max_{d'} \\bar y_{d'f} -
  \\bar y_{df}` (signs turned where less is better); a design's maximum and mean regret are
  over the futures.
* **The robust choice** follows the plan's rule: the most futures meeting the targets
  (``satisficing``; ties go to the lower mean regret, then the lower cost) or the least
  maximum regret (``regret``; ties to the lower mean regret, then the cost). Its uncertainty
  is how often each design is the choice when the futures are resampled with replacement
  (a bootstrap over futures, seeded by the plan).
* **Differences** from the reference design are paired on future and replication; their
  intervals are Bonferroni-adjusted over every (design, outcome) compared, and the verdict
  (:func:`coprod_sim.experiments.stats.decision_verdict`) uses each outcome's minimum
  important difference: the plan's, else the default (:mod:`coprod_sim.experiments.decision`).
* **Over time**: each outcome's mean level over the kept weeks (the area under its curve,
  divided by the weeks), and the first kept week from which the design's mean meets each
  target through the target's week (time to target).
* **Cost per outcome**: the extra cost over the reference divided by the extra people on the
  objective (an incremental cost-effectiveness ratio), given only when the gain is clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from coprod_sim.experiments.decision import minimum_important
from coprod_sim.experiments.stats import decision_verdict, wilson_interval
from coprod_sim.outputs import COUNT_OF_SHARE
from coprod_sim.planning.costs import ITEMS, cost_items

if TYPE_CHECKING:
    from coprod_sim.planning.spec import Plan, Target

LEVEL = 0.95


@dataclass
class PlanResults:
    """Everything a plan's report shows, as tables."""

    designs: pd.DataFrame  # one row per design: cost, targets met, regret, choice
    outcomes: pd.DataFrame  # one row per design and outcome: mean and interval, people
    differences: pd.DataFrame  # one row per design (not the reference) and outcome
    cells: pd.DataFrame  # one row per design and future: context, targets met, regret
    over_time: pd.DataFrame  # one row per design, outcome and kept week
    time_to_target: pd.DataFrame  # one row per design and target
    choice: dict[str, Any] = field(default_factory=dict)
    comparisons: int = 0  # (design, outcome) pairs compared: the Bonferroni family


def analyse(plan: Plan, runs: pd.DataFrame, series: pd.DataFrame) -> PlanResults:
    """The plan's decision tables from its runs and series (a complete plan folder)."""
    runs = _with_futures(plan, runs)
    series = series.drop(columns="replication").merge(
        runs[["run_id", "future", "replication"]], on="run_id"
    )
    outcomes = plan.experiment.spec.outcomes.final
    context = plan.context_fields
    cells = runs.groupby(["scenario", "future"], sort=False)[outcomes].mean()
    values = pd.DataFrame(plan.context_values())[context].rename_axis("future")
    cells = cells.join(values, on="future")
    met = _targets_met(plan, series)
    cells = cells.join(met)
    cells["targets_met"] = met.all(axis=1)
    objective = plan.spec.decision.objective
    sign = plan.better(objective)
    oriented = sign * cells[objective].unstack("scenario")
    regret = oriented.max(axis=1).to_numpy()[:, None] - oriented
    cells["regret"] = regret.stack().reorder_levels(["scenario", "future"])
    cells = cells.reset_index()

    designs = _design_table(plan, cells)
    choice = _choose(plan, cells, designs)
    designs["chosen_share"] = designs["design"].map(choice["shares"]).fillna(0.0)
    differences, comparisons = _differences(plan, runs, outcomes)
    designs = designs.merge(_cost_per_outcome(plan, designs, differences), on="design", how="left")
    over_time = _over_time(series, outcomes)
    table = _outcome_table(cells, outcomes)
    levels = mean_over_time(over_time).rename("mean_over_time")
    table = table.join(levels, on=["design", "outcome"])
    return PlanResults(
        designs=designs,
        outcomes=table,
        differences=differences,
        cells=cells,
        over_time=over_time,
        time_to_target=_time_to_target(plan, series),
        choice=choice,
        comparisons=comparisons,
    )


def _with_futures(plan: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's future: the index of its design point among its design's points, or, when
    the futures are posterior draws, its replication (then each future has one run)."""
    if plan.posterior_futures:
        runs = runs.assign(future=runs["replication"], replication=0)
    else:
        per_design = len(plan.experiment.points) // len(plan.experiment.bases)
        future = {p.scenario_id: p.index % per_design for p in plan.experiment.points}
        runs = runs.assign(future=runs["scenario_id"].map(future))
    expected = plan.n_runs
    if len(runs) != expected:
        raise ValueError(f"the plan has {len(runs)} of its {expected} runs; run it to the end")
    return runs


def target_statistic(target: Target, start: pd.Series, at_week: pd.Series) -> pd.Series:
    """The number a target is judged on, per run: the change since week 0 or the level."""
    return at_week - start if target.change is not None else at_week


def target_holds(target: Target, value: pd.Series | float) -> pd.Series | bool:
    """Whether a target holds for a value of its statistic."""
    if target.change is not None:
        return value >= target.change if target.change >= 0 else value <= target.change
    if target.at_least is not None:
        return value >= target.at_least
    return value <= target.at_most


def _targets_met(plan: Plan, series: pd.DataFrame) -> pd.DataFrame:
    """Per design and future, whether each target holds for the replications' mean."""
    columns = {}
    for name, target in plan.spec.targets.items():
        wide = series.pivot_table(
            index=["scenario", "future", "replication"], columns="step", values=target.outcome
        )
        value = target_statistic(target, wide[0], wide[target.week])
        mean = value.groupby(level=["scenario", "future"], sort=False).mean()
        columns[f"meets_{name}"] = target_holds(target, mean)
    return pd.DataFrame(columns)


def _design_table(plan: Plan, cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in plan.designs:
        mine = cells[cells["scenario"] == name]
        met = int(mine["targets_met"].sum())
        low, high = wilson_interval(met, len(mine))
        items = cost_items(plan.experiment.bases[name], plan.spec.steps, plan.design_costs[name])
        rows.append(
            {
                "design": name,
                "description": plan.descriptions.get(name, ""),
                "cost": sum(items.values()),
                **{f"cost_{item}": items[item] for item in ITEMS},
                "targets_met_share": met / len(mine),
                "targets_met_low": low,
                "targets_met_high": high,
                "max_regret": float(mine["regret"].max()),
                "mean_regret": float(mine["regret"].mean()),
                "regret_p90": float(mine["regret"].quantile(0.9)),
            }
        )
    return pd.DataFrame(rows)


def _rule_key(plan: Plan, designs: pd.DataFrame) -> list[tuple]:
    """Sort keys of the designs under the plan's rule (smallest first is best)."""
    if plan.spec.decision.rule == "satisficing":
        first = -designs["targets_met_share"]
    else:
        first = designs["max_regret"]
    return list(zip(first, designs["mean_regret"], designs["cost"], strict=True))


def _choose(plan: Plan, cells: pd.DataFrame, designs: pd.DataFrame) -> dict[str, Any]:
    """The robust choice, and how often each design is the choice over resampled futures."""
    names = list(designs["design"])
    keys = _rule_key(plan, designs)
    chosen = names[min(range(len(names)), key=keys.__getitem__)]
    met = cells.pivot(index="future", columns="scenario", values="targets_met")[names]
    regret = cells.pivot(index="future", columns="scenario", values="regret")[names]
    costs = designs["cost"].to_numpy()
    rng = np.random.default_rng(plan.spec.seed)
    n = len(met)
    counts = dict.fromkeys(names, 0)
    met_values, regret_values = met.to_numpy(dtype=float), regret.to_numpy()
    satisficing = plan.spec.decision.rule == "satisficing"
    for _ in range(plan.spec.decision.bootstrap):
        rows = rng.integers(0, n, n)
        share, worst = met_values[rows].mean(axis=0), regret_values[rows].max(axis=0)
        mean_regret = regret_values[rows].mean(axis=0)
        first = -share if satisficing else worst
        order = np.lexsort((costs, mean_regret, first))
        counts[names[order[0]]] += 1
    total = plan.spec.decision.bootstrap
    return {
        "rule": plan.spec.decision.rule,
        "design": chosen,
        "shares": {name: count / total for name, count in counts.items()},
        "bootstrap": total,
    }


def _differences(plan: Plan, runs: pd.DataFrame, outcomes: list[str]) -> tuple[pd.DataFrame, int]:
    """Each design minus the reference, paired on future and replication, with
    Bonferroni-adjusted intervals over the future means of the paired differences."""
    reference = plan.reference
    others = [name for name in plan.designs if name != reference]
    objective = plan.spec.decision.objective
    # A count beside its share is that share's people, not an outcome compared of its own.
    counts = set(COUNT_OF_SHARE.values())
    compared = [o for o in outcomes if o not in counts or o == objective]
    family = max(len(others) * len(compared), 1)
    level = 1 - (1 - LEVEL) / family
    given = plan.spec.decision.minimum_important
    rows = []
    index = ["future", "replication"]
    base = runs[runs["scenario"] == reference].set_index(index)
    for name in others:
        mine = runs[runs["scenario"] == name].set_index(index)
        for outcome in compared:
            diff = (mine[outcome] - base[outcome]).groupby(level="future").mean()
            mean, low, high = _t_interval(diff.to_numpy(), level)
            row = {
                "design": name,
                "reference": reference,
                "outcome": outcome,
                "difference": mean,
                "low": low,
                "high": high,
                "minimum_important": minimum_important(outcome, given),
                "verdict": decision_verdict(
                    low, high, minimum_important(outcome, given), plan.better(outcome)
                ),
            }
            count = COUNT_OF_SHARE.get(outcome)
            if count is not None:
                people = (mine[count] - base[count]).groupby(level="future").mean()
                row["people"], row["people_low"], row["people_high"] = _t_interval(
                    people.to_numpy(), level
                )
            rows.append(row)
    return pd.DataFrame(rows), family


def _t_interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = scipy_stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _cost_per_outcome(plan: Plan, designs: pd.DataFrame, differences: pd.DataFrame) -> pd.DataFrame:
    """Extra cost per extra person on the objective, against the reference design."""
    objective = plan.spec.decision.objective
    people = COUNT_OF_SHARE.get(objective, objective)
    cost = designs.set_index("design")["cost"]
    rows = []
    for name in plan.designs:
        row = {"design": name, "extra_cost": cost[name] - cost[plan.reference]}
        if name != plan.reference:
            gain = _people_gain(differences, name, objective, people)
            row["extra_people"] = gain[0]
            clear = gain[1] > 0  # the whole (adjusted) interval is a gain
            row["cost_per_extra_person"] = row["extra_cost"] / gain[0] if clear else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _people_gain(
    differences: pd.DataFrame, name: str, objective: str, people: str
) -> tuple[float, float]:
    """(mean, low) of the extra people on the objective, from the differences table."""
    mine = differences[differences["design"] == name]
    if objective in COUNT_OF_SHARE:
        row = mine[mine["outcome"] == objective].iloc[0]
        return float(row["people"]), float(row["people_low"])
    row = mine[mine["outcome"] == people].iloc[0]
    return float(row["difference"]), float(row["low"])


def _outcome_table(cells: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    rows = []
    for name, mine in cells.groupby("scenario", sort=False):
        for outcome in outcomes:
            mean, low, high = _t_interval(mine[outcome].to_numpy(), LEVEL)
            rows.append(
                {"design": name, "outcome": outcome, "mean": mean, "low": low, "high": high}
            )
    return pd.DataFrame(rows)


def _over_time(series: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Each design's mean of each outcome at each kept week (over futures and
    replications), one row per design, outcome and week."""
    means = series.groupby(["scenario", "step"], sort=False)[outcomes].mean().reset_index()
    long = means.melt(id_vars=["scenario", "step"], var_name="outcome", value_name="mean")
    return long.rename(columns={"scenario": "design"}).sort_values(["design", "outcome", "step"])


def mean_over_time(over_time: pd.DataFrame) -> pd.Series:
    """The mean level of each (design, outcome) over the kept weeks: the area under its
    curve (trapezoid rule) divided by the weeks it spans."""

    def level(group: pd.DataFrame) -> float:
        weeks, values = group["step"].to_numpy(float), group["mean"].to_numpy(float)
        if len(weeks) < 2:
            return float(values.mean())
        return float(np.trapezoid(values, weeks) / (weeks[-1] - weeks[0]))

    return over_time.groupby(["design", "outcome"], sort=False)[["step", "mean"]].apply(level)


def _time_to_target(plan: Plan, series: pd.DataFrame) -> pd.DataFrame:
    """Per design and target, the first kept week from which the design's mean (over futures
    and replications) meets the target at every kept week up to the target's week: the time
    to target, not a passing touch."""
    rows = []
    for name, target in plan.spec.targets.items():
        wide = series.pivot_table(
            index=["scenario", "future", "replication"], columns="step", values=target.outcome
        )
        weeks = [w for w in sorted(wide.columns) if 0 < w <= target.week]
        for design in plan.designs:
            mine = wide.xs(design, level="scenario")
            holds = [
                bool(target_holds(target, target_statistic(target, mine[0], mine[w]).mean()))
                for w in weeks
            ]
            first = None
            for k in range(len(weeks)):
                if all(holds[k:]):
                    first = int(weeks[k])
                    break
            rows.append(
                {
                    "design": design,
                    "target": name,
                    "describe": target.describe(),
                    "first_week_met": first,
                }
            )
    return pd.DataFrame(rows)
