"""Running designs side by side with common random numbers, and saying what differed.

Replication ``r`` of every design starts from the same seed,
``coprod_sim.experiments.replication_seed(root_seed, r)``, so the runs of a
replication share their random stream as far as the designs allow, and each
design's difference from the reference (the first design) is taken replication
by replication (a paired t interval, ``coprod_sim.experiments.paired_difference``).
The interval is valid either way; it is narrower than an unpaired one where the
designs' runs stay correlated (trust and stigma, typically), and no narrower where
the designs' different choices soon send the shared stream apart.

Each difference is judged twice: after the last week, and as the **mean level over
the run** (the area under the outcome's curve divided by the weeks), so a design that
gets there sooner is seen too. A verdict (``decision_verdict``) says whether the
interval shows a difference of at least the outcome's minimum important difference:
"better by at least", "worse by at least", "no important difference" or "unclear".
The intervals are 95% each, unadjusted, unless asked to be Bonferroni-adjusted for the
number of intervals shown (:func:`interval_level`).
"""

from __future__ import annotations

import io
import shlex
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from app.state import OUTCOMES, Outcome
from coprod_sim import CoproductionModel, Scenario, provenance
from coprod_sim.experiments import (
    Interval,
    Side,
    mean_interval,
    paired_difference,
    replication_seed,
    side,
)
from coprod_sim.experiments.stats import (
    BETTER,
    NO_IMPORTANT,
    WORSE,
    decision_verdict,
)

Progress = Callable[[float], None]
#: Confidence of each interval (or of all of them together, when adjusted).
LEVEL = 0.95
When = Literal["end", "run"]


@dataclass
class PairResult:
    """Every design's frames for every replication, and their outcome series. Design 0 is
    the reference the others are compared with (two designs: A and B, as the name says)."""

    names: tuple[str, ...]
    scenarios: tuple[Scenario, ...]
    weeks: np.ndarray
    root_seed: int
    collaborative: tuple[list[pd.DataFrame], ...]
    groups: tuple[list[pd.DataFrame], ...]
    descriptions: tuple[str, ...] = ()

    @property
    def replications(self) -> int:
        return len(self.collaborative[0])

    @property
    def designs(self) -> int:
        return len(self.names)

    def series(self, outcome: Outcome, design: int) -> np.ndarray:
        """(replications, weeks) array of one outcome for design ``design`` (0 is A)."""
        scenario = self.scenarios[design]
        return np.stack([outcome.series(f, scenario) for f in self.collaborative[design]])

    def column(self, name: str, design: int) -> np.ndarray:
        """(replications, weeks) array of a collaborative column."""
        return np.stack([f[name].to_numpy(dtype=float) for f in self.collaborative[design]])

    def difference(
        self, outcome: Outcome, design: int = 1, reference: int = 0, level: float = LEVEL
    ) -> Interval:
        """``design`` − ``reference`` per week with its paired interval."""
        return paired_difference(
            self.series(outcome, reference), self.series(outcome, design), level
        )

    def band(self, outcome: Outcome, design: int) -> Interval:
        """One design's mean per week over replications with its t interval."""
        return mean_interval(self.series(outcome, design))

    def over_run(self, values: np.ndarray) -> np.ndarray:
        """Each replication's mean level over the run: the area under its curve (trapezoid
        rule over the weeks) divided by the weeks it spans."""
        weeks = self.weeks.astype(float)
        if len(weeks) < 2:
            return values[:, -1]
        return np.trapezoid(values, weeks, axis=1) / (weeks[-1] - weeks[0])

    def summary_values(
        self, outcome: Outcome, design: int, when: When, people: bool = False
    ) -> np.ndarray:
        """Per replication: the outcome (or its count of people) after the last week
        (``end``) or as its mean level over the run (``run``)."""
        if people:
            if outcome.count is None:
                raise ValueError(f"{outcome.key} has no count of people behind it")
            values = self.column(outcome.count, design)
        else:
            values = self.series(outcome, design)
        return values[:, -1] if when == "end" else self.over_run(values)


def run_designs(
    scenarios: Sequence[Scenario],
    *,
    names: Sequence[str] | None = None,
    descriptions: Sequence[str] | None = None,
    replications: int = 5,
    weeks: int = 78,
    root_seed: int = 1,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PairResult:
    """Run ``replications`` paired replications of every design for ``weeks`` weeks."""
    if len(scenarios) < 2:
        raise ValueError(f"{len(scenarios)} design(s): need at least 2 to compare")
    if replications < 2:
        raise ValueError(f"replications = {replications}: need at least 2 for an interval")
    if weeks < 1:
        raise ValueError(f"weeks = {weeks}: must be at least 1")
    n = len(scenarios)
    names = tuple(names) if names is not None else tuple("ABCDEFGH"[:n])
    frames: tuple[list[pd.DataFrame], ...] = tuple([] for _ in range(n))
    groups: tuple[list[pd.DataFrame], ...] = tuple([] for _ in range(n))
    total = n * replications
    for r in range(replications):
        seed = replication_seed(root_seed, r)
        for d, scenario in enumerate(scenarios):
            if cancelled is not None and cancelled():
                raise InterruptedError("cancelled")
            # Only the outputs are read: no per-person Mesa agents (the same results).
            model = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False)
            model.run_for(weeks)
            frames[d].append(model.outputs.collaborative())
            groups[d].append(model.outputs.groups())
            if progress is not None:
                progress((n * r + d + 1) / total)
    return PairResult(
        names=names,
        scenarios=tuple(scenarios),
        weeks=frames[0][0]["week"].to_numpy(),
        root_seed=root_seed,
        collaborative=frames,
        groups=groups,
        descriptions=tuple(descriptions) if descriptions is not None else ("",) * n,
    )


def run_pair(
    a: Scenario,
    b: Scenario,
    *,
    names: tuple[str, str] = ("A", "B"),
    descriptions: tuple[str, str] = ("", ""),
    replications: int = 5,
    weeks: int = 78,
    root_seed: int = 1,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PairResult:
    """Run ``replications`` paired replications of both designs for ``weeks`` weeks."""
    return run_designs(
        (a, b),
        names=names,
        descriptions=descriptions,
        replications=replications,
        weeks=weeks,
        root_seed=root_seed,
        progress=progress,
        cancelled=cancelled,
    )


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def verdict(result: PairResult, outcome: Outcome) -> str:
    """One plain sentence on an outcome at the last week: which of the first two designs
    did better, by how much, and how sure that is (from the paired 95% interval); the
    direction only, with no minimum important difference (see :func:`decision`)."""
    diff = result.difference(outcome)
    mean, low, high = (float(np.asarray(v)[-1]) for v in (diff.mean, diff.low, diff.high))
    ends = [float(result.band(outcome, d).mean[-1]) for d in (0, 1)]
    name_a, name_b = result.names[:2]
    d = outcome.digits
    weeks = int(result.weeks[-1])
    numbers = (
        f"{name_a} {_fmt(ends[0], d)}, {name_b} {_fmt(ends[1], d)} after {weeks} weeks; "
        f"{name_b} − {name_a} = {mean:+.{d}f}, 95% interval {low:+.{d}f} to {high:+.{d}f} "
        f"over {diff.n} paired replications"
    )
    where = side(low, high)
    if not where.clear:
        return (
            f"{outcome.label}: no clear difference ({numbers}; the interval includes 0, so "
            f"either design could be ahead)."
        )
    better = name_b if (where is Side.ABOVE) == (outcome.better == "higher") else name_a
    return (
        f"{outcome.label}: {better} did better ({numbers}; the whole interval is on one side "
        f"of 0, so the direction is clear)."
    )


def summary(result: PairResult, outcomes: tuple[Outcome, ...] = OUTCOMES) -> list[str]:
    """One direction-only verdict per outcome (the first two designs)."""
    return [verdict(result, o) for o in outcomes]


# ---------------------------------------------------------------------------------------------
# Decision framing: minimum important differences, people, the mean level over the run
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One design against the reference on one outcome, after the last week or over the run."""

    outcome: Outcome
    design: int
    reference: int
    when: When
    levels: tuple[float, float]  # the reference's mean, the design's mean
    mean: float
    low: float
    high: float
    n: int
    minimum: float
    verdict: str  # one of coprod_sim.experiments.stats' verdicts
    people: tuple[float, float, float] | None = None  # mean, low, high of the count's change
    level: float = 100 * LEVEL  # the intervals' confidence, in percent


def comparisons(result: PairResult, outcomes: Sequence[Outcome] = OUTCOMES) -> int:
    """How many intervals a comparison shows: each design but the reference, on each
    outcome, after the last week and over the run."""
    return (result.designs - 1) * len(outcomes) * 2


def interval_level(result: PairResult, outcomes: Sequence[Outcome], adjusted: bool) -> float:
    """Each interval's confidence: 95%, or Bonferroni-adjusted so that all the intervals
    shown hold together with 95% confidence."""
    if not adjusted:
        return LEVEL
    return 1 - (1 - LEVEL) / max(comparisons(result, outcomes), 1)


def finding(
    result: PairResult,
    outcome: Outcome,
    design: int,
    when: When,
    minimum: float,
    level: float = LEVEL,
    reference: int = 0,
) -> Finding:
    """``design`` against ``reference`` on ``outcome``, judged with ``minimum``."""

    def paired(people: bool) -> Interval:
        return paired_difference(
            result.summary_values(outcome, reference, when, people),
            result.summary_values(outcome, design, when, people),
            level,
        )

    diff = paired(False)
    mean, low, high = float(diff.mean), float(diff.low), float(diff.high)
    people = None
    if outcome.count is not None:
        count = paired(True)
        people = (float(count.mean), float(count.low), float(count.high))
    levels = tuple(
        float(result.summary_values(outcome, d, when).mean()) for d in (reference, design)
    )
    return Finding(
        outcome=outcome,
        design=design,
        reference=reference,
        when=when,
        levels=levels,  # type: ignore[arg-type]
        mean=mean,
        low=low,
        high=high,
        n=diff.n,
        minimum=float(minimum),
        verdict=decision_verdict(low, high, minimum, outcome.sign),
        people=people,
        level=100 * level,
    )


def findings(
    result: PairResult,
    minimums: Mapping[str, float],
    *,
    adjusted: bool = False,
    outcomes: Sequence[Outcome] = OUTCOMES,
) -> list[Finding]:
    """Every design but the reference, on every outcome, after the last week and over the
    run; ``minimums`` by outcome key (the outcome's default where missing)."""
    level = interval_level(result, outcomes, adjusted)
    return [
        finding(result, o, d, when, minimums.get(o.key, o.minimum), level)
        for d in range(1, result.designs)
        for o in outcomes
        for when in ("end", "run")
    ]


def verdict_words(found: Finding) -> str:
    """The verdict in words, with the minimum: "better by at least 0.02", "unclear", ..."""
    d = found.outcome.digits
    mid = f"{found.minimum:.{max(d, 2)}g}" if found.minimum else "0"
    if found.verdict in (BETTER, WORSE):
        if found.minimum > 0:
            return f"{found.verdict} {mid}"
        return f"{found.verdict.split()[0]} (no minimum important difference set)"
    return found.verdict


def decision(result: PairResult, found: Finding) -> str:
    """One sentence: the verdict, the levels, the difference with its interval and, for a
    share of patients, the difference in people."""
    name, ref = result.names[found.design], result.names[found.reference]
    d = found.outcome.digits
    mid = f"{found.minimum:g}"
    if found.verdict == BETTER:
        head = f"{name} did better than {ref}" + (f" by at least {mid}" if found.minimum else "")
    elif found.verdict == WORSE:
        head = f"{name} did worse than {ref}" + (f" by at least {mid}" if found.minimum else "")
    elif found.verdict == NO_IMPORTANT:
        head = (
            f"no important difference between {name} and {ref}: the whole interval lies "
            f"within ±{mid}"
        )
    else:
        head = f"unclear whether {name} and {ref} differ by {mid} or more: the interval " + (
            "includes 0"
            if found.low <= 0 <= found.high
            else f"excludes 0 but reaches inside ±{mid}"
            if np.isfinite(found.low)
            else "cannot be computed"
        )
    when = (
        f"after {int(result.weeks[-1])} weeks"
        if found.when == "end"
        else f"on average over the {int(result.weeks[-1])} weeks"
    )
    numbers = (
        f"{ref} {_fmt(found.levels[0], d)}, {name} {_fmt(found.levels[1], d)} {when}; "
        f"{name} − {ref} = {found.mean:+.{d}f} ({found.level:.4g}% interval "
        f"{found.low:+.{d}f} to {found.high:+.{d}f}, {found.n} paired replications)"
    )
    if found.people is not None:
        mean, low, high = found.people
        numbers += f", {mean:+,.0f} {found.outcome.people} ({low:+,.0f} to {high:+,.0f})"
    return f"{found.outcome.label}: {head}. {numbers}."


def framing(result: PairResult, outcomes: Sequence[Outcome], adjusted: bool) -> str:
    """How many outcomes and intervals are compared, and whether the intervals are adjusted
    for that number."""
    others = result.names[1:]
    who = others[0] if len(others) == 1 else ", ".join(others[:-1]) + f" and {others[-1]}"
    each = "is" if len(others) == 1 else "are each"
    total = comparisons(result, outcomes)
    text = (
        f"{who} {each} compared with {result.names[0]} (the reference) on {len(outcomes)} "
        f"outcomes, after {int(result.weeks[-1])} weeks and as the mean level over the run: "
        f"{total} intervals in all. "
    )
    if adjusted:
        level = interval_level(result, outcomes, adjusted)
        return text + (
            f"The intervals are Bonferroni-adjusted: each is a {level:.2%} paired interval, so "
            f"that all {total} hold together with 95% confidence."
        )
    return text + (
        f"The intervals are unadjusted: each is a 95% paired interval on its own, so among "
        f"{total} about {0.05 * total:.0f} may miss the true difference by chance."
    )


def results_bundle(result: PairResult, title: str = "comparison") -> bytes:
    """A comparison's runs as a ZIP anyone can check and make again: each design's
    scenario (``A.toml``, ``B.toml``, ...), every replication's weekly series with its seed
    (``weekly.csv``) and its outcomes after the last week (``outcomes.csv``), and a README
    with the package version, each scenario's SHA-256, the root seed, the replications'
    seeds and the ``coprod compare`` command that runs the same replications."""
    letters = "ABCDEFGH"[: result.designs]
    seeds = [replication_seed(result.root_seed, r) for r in range(result.replications)]
    weekly, outcomes = [], []
    for d, letter in enumerate(letters):
        for r, frame in enumerate(result.collaborative[d]):
            meta = {"design": letter, "name": result.names[d], "replication": r, "seed": seeds[r]}
            weekly.append(frame.assign(**meta))
            last = frame.iloc[-1]
            outcomes.append(
                {
                    **meta,
                    "week": int(last["week"]),
                    **{o.key: float(o.series(frame, result.scenarios[d])[-1]) for o in OUTCOMES},
                }
            )
    files = {
        f"{letter}.toml": s.to_toml() for letter, s in zip(letters, result.scenarios, strict=True)
    }
    command = shlex.join(
        ["coprod", "compare", *files, "--replications", str(result.replications),
         "--steps", str(int(result.weeks[-1])), "--seed", str(result.root_seed)]
    )  # fmt: skip
    lines = [
        f"coprod_sim {provenance.package_version()}: {title}, {result.replications} paired "
        f"replications of {int(result.weeks[-1])} weeks, root seed {result.root_seed}.",
        "",
        *(
            f"Design {letter} ({result.names[d]}): {letter}.toml, scenario {s.name!r}, "
            f"SHA-256 {provenance.scenario_sha256(s)}"
            for d, (letter, s) in enumerate(zip(letters, result.scenarios, strict=True))
        ),
        "",
        "Replication r of every design starts from the same seed (common random numbers):",
        *(f"    replication {r}: seed {seed}" for r, seed in enumerate(seeds)),
        "",
        f"To run the same replications again:\n    {command}",
        "",
    ]
    files["weekly.csv"] = pd.concat(weekly, ignore_index=True).to_csv(index=False)
    files["outcomes.csv"] = pd.DataFrame(outcomes).to_csv(index=False)
    files["README.txt"] = "\n".join(lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(f"{title}/{name}", text)
    return buffer.getvalue()
