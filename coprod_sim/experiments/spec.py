"""Experiment specs: what to run, as a TOML file validated like a scenario.

A spec names a base scenario (a preset or a TOML file) with fixed overrides,
the factors to vary, a design that turns the factors into design points, the
number of replications, the weeks to simulate and the outcomes to keep::

    name = "power_x_inclusion"
    scenario = "careqic"
    replications = 20
    steps = 78
    seed = 1

    [set]                      # fixed overrides, for every run
    feedback_loop = 0.9

    [factors]                  # factorial: a list of values per factor
    power_sharing = [3, 4, 5, 6, 7]
    inclusion = ["convenience", "deliberate"]

    [design]
    kind = "factorial"         # or "lhs", "sobol", "morris"

    [outcomes]
    final = ["patient_trust", "value", "equity_gap"]
    series = ["patient_trust"]
    series_steps = [0, 26, 52, 78]

Sampling designs (``lhs``, ``sobol``, ``morris``) take a range per factor,
``initial_trust = { low = 0.2, high = 0.8 }`` (``integer = true`` rounds it).
Instead of one base scenario, ``[scenarios.NAME]`` tables (``scenario = ...``
and an optional ``set``) name several, crossed with the factorial factors:
that is how two designs are compared.

:func:`resolve` checks everything before anything runs: unknown keys, empty
factors, a design that cannot be built, unknown scenario fields, values a
scenario refuses and outcomes the model does not report.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coprod_sim import __version__, limits
from coprod_sim.errors import Problem, ScenarioError, SpecError, from_validation_error
from coprod_sim.scenario import Scenario, load_scenario, preset_names

# Outcomes kept when a spec does not say: the headline quantities.
DEFAULT_OUTCOMES = (
    "patient_trust",
    "provider_regard",
    "retention",
    "value",
    "equity_gap",
    "changes_adopted",
    "patient_originated",
    "staff_originated",
    "sustained_changes",
    "participation",
    "voice_share",
)
# Runs and design points are counted from the spec before any design is built (a factorial
# of 10^8 points, a Sobol design of 2^19 × 12 points and 10^6 Morris trajectories each ran for
# 23-113 s into a MemoryError when they were built first). See coprod_sim.limits for the
# measurements behind the limits.
MAX_RUNS = limits.MAX_RUNS
MAX_POINTS = limits.MAX_POINTS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FactorRange(_Strict):
    """A factor sampled from ``[low, high]`` (a sampling design)."""

    # Finite and moderate: inf made an OverflowError when an integer factor was rounded,
    # and a range wider than ~1e308 overflows in the sampler. No scenario field reaches 1e12.
    low: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    high: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    integer: bool = Field(False, description="Round sampled values to whole numbers.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low < self.high:
            raise ValueError(f"low = {self.low} must be below high = {self.high}")
        return self


class Design(_Strict):
    """How factors become design points."""

    kind: Literal["factorial", "lhs", "sobol", "morris"] = "factorial"
    samples: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="lhs: points; sobol: base sample N (a power of 2); morris: trajectories.",
    )
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")
    levels: int = Field(4, ge=2, le=1000, description="morris: grid levels per factor.")


class Outcomes(_Strict):
    """Model outputs to keep: the final week's values and series at chosen weeks."""

    final: list[str] = Field(list(DEFAULT_OUTCOMES), min_length=1)
    series: list[str] = []
    series_steps: list[int] = []


class Claim(_Strict):
    """A claim the experiment tests, declared before it runs: the smallest effect that would
    matter, in the outcome's own units, and why that size. A claim holds only when its
    interval lies beyond this margin (see ``validation.checks``)."""

    minimum_effect: float = Field(ge=0.0, le=1e9, allow_inf_nan=False)
    unit: str = Field("", max_length=80, description="The unit of the effect, in plain words.")
    why: str = Field("", max_length=2000, description="Why this is the smallest that matters.")


class ScenarioRef(_Strict):
    """One named base scenario of a comparison."""

    scenario: str = Field(min_length=1)
    set: dict[str, Any] = {}


class ExperimentSpec(_Strict):
    """A whole experiment, as written in its TOML file."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    scenario: str = Field("careqic", min_length=1)
    set: dict[str, Any] = {}
    scenarios: dict[str, ScenarioRef] = Field({}, max_length=limits.MAX_SCENARIOS)
    factors: dict[str, Any] = Field({}, max_length=limits.MAX_FACTORS)
    design: Design = Design()
    replications: int = Field(10, ge=1, le=100_000)
    steps: int = Field(78, ge=1, le=limits.MAX_STEPS)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    retries: int = Field(0, ge=0, le=10, description="Extra attempts for a run that fails.")
    outcomes: Outcomes = Outcomes()
    # Part of the fingerprint: a margin changed after a run is a new study, not a re-read.
    claims: dict[str, Claim] = {}
    posterior: str | None = Field(
        None,
        min_length=1,
        description="A coprod calibrate folder: replication r of every point runs on draw r.",
    )

    def to_toml(self) -> str:
        import tomli_w

        # None means "not given" (e.g. design.samples), which TOML writes by leaving it out.
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))


_ALLOWED = {
    "": tuple(ExperimentSpec.model_fields),
    "design": tuple(Design.model_fields),
    "outcomes": tuple(Outcomes.model_fields),
    "claims": tuple(Claim.model_fields),
}


@dataclass(frozen=True)
class Point:
    """A design point: a base scenario and the factor values that override it."""

    index: int
    label: str
    values: dict[str, Any]

    @property
    def scenario_id(self) -> str:
        return f"s{self.index:05d}"


@dataclass(frozen=True)
class Experiment:
    """A resolved spec: base scenarios, design points and everything a run needs."""

    spec: ExperimentSpec
    source: str
    bases: dict[str, Scenario]
    points: list[Point]
    sample: np.ndarray | None = None  # the SALib sample matrix (sampling designs)
    problem: dict[str, Any] | None = None  # the SALib problem (sampling designs)
    columns: tuple[str, ...] = field(default=())  # all numeric outputs of the model
    # Posterior draws, one per replication, and where they came from (path, sha256).
    draws: tuple[dict[str, float], ...] = ()
    posterior: dict[str, Any] | None = None

    @property
    def factor_names(self) -> list[str]:
        return list(self.spec.factors)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.spec.replications

    def fingerprint(self) -> str:
        """A hash of everything that decides the results: spec, base scenarios, points, version.

        A results folder belongs to one fingerprint; resuming with another is refused. The
        description and the retries decide nothing in the data, so a re-run may change them
        (``--retries 2`` to try failed runs again).
        """
        payload = {
            "spec": self.spec.model_dump(mode="json", exclude={"description", "retries"}),
            "bases": {label: base.to_toml() for label, base in self.bases.items()},
            "points": [(p.label, p.values) for p in self.points],
            "version": __version__,
        }
        if self.posterior:  # the draws, and the file they came from
            payload["posterior"] = {"sha256": self.posterior["sha256"], "draws": self.draws}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def read_spec(path: str | Path) -> dict[str, Any]:
    """Raw data of a spec file, or :class:`SpecError` naming the file."""
    file = Path(path)
    if not file.is_file():
        raise SpecError([Problem("spec", str(path), "no such file; give an experiment TOML")])
    try:
        return limits.loads_toml(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError([Problem("spec", str(path), f"cannot be read: {error}")]) from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError([Problem("(file)", str(path), f"is not valid TOML: {error}")]) from None
    except limits.TooDeepError as error:
        raise SpecError([Problem("(file)", str(path), str(error))]) from None


def parse_spec(data: dict[str, Any], source: str | None = None) -> ExperimentSpec:
    """Validate raw data as an :class:`ExperimentSpec` (types and ranges only)."""
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, _ALLOWED, source, SpecError) from None


def load_experiment(
    path: str | Path,
    *,
    replications: int | None = None,
    steps: int | None = None,
    retries: int | None = None,
    posterior: str | Path | None = None,
) -> Experiment:
    """Read, validate and resolve a spec file; command-line values (and a posterior folder)
    replace the file's.

    With ``steps`` given, series weeks beyond it are dropped and ``steps`` is kept.
    """
    data = read_spec(path)
    for key, value in (("replications", replications), ("steps", steps), ("retries", retries)):
        if value is not None:
            data[key] = value
    if posterior is not None:
        data["posterior"] = str(Path(posterior).resolve())
    outcomes = data.get("outcomes")
    kept = outcomes.get("series_steps") if isinstance(outcomes, dict) else None
    # Only a list of whole numbers is cut short: anything else is left for validation to
    # refuse by name (a week of "a" was once dropped here without a word).
    if (
        steps is not None
        and isinstance(kept, list)
        and all(type(w) is int for w in kept)
        and isinstance(outcomes, dict)
    ):
        # A shorter run keeps the series weeks it still reaches, and its last week.
        outcomes["series_steps"] = sorted({w for w in kept if w <= steps} | {steps})
    source = str(Path(path).resolve())
    return resolve(parse_spec(data, source), source, base_dir=Path(path).parent)


def resolve(spec: ExperimentSpec, source: str, base_dir: Path | None = None) -> Experiment:
    """Check a spec against the model and build its design, or raise :class:`SpecError`.

    Every problem found is reported at once; nothing has run or been written.
    """
    from coprod_sim.experiments.design import DesignError, build_design

    problems: list[Problem] = []
    refs = spec.scenarios or {"": ScenarioRef(scenario=spec.scenario)}
    bases: dict[str, Scenario] = {}
    for label, ref in refs.items():
        where = f"scenarios.{label}" if spec.scenarios else "scenario"
        try:
            name = scenario_path(ref.scenario, base_dir)
            bases[label] = load_scenario(name, {**spec.set, **ref.set})
        except ScenarioError as error:
            problems += [
                Problem(
                    where if p.field == "scenario" else f"{where}: {p.field}", p.value, p.allowed
                )
                for p in error.problems
            ]
    if "" in bases:  # one base scenario: runs are labelled with its name
        bases = {bases[""].name: bases[""]}
    factor_problems = _factor_problems(spec)
    problems += factor_problems
    if not factor_problems:  # counted from the spec: nothing is built yet
        problems += _size_problems(spec, len(refs))
    if problems:
        raise SpecError(problems, source)

    try:
        values, sample, problem = build_design(spec)
    except DesignError as error:
        raise SpecError(error.problems, source) from None
    points = [
        Point(i, label, dict(point))
        for i, (label, point) in enumerate((label, point) for label in bases for point in values)
    ]
    if len(points) * spec.replications > MAX_RUNS:  # the count above is exact; kept as a guard
        raise SpecError(
            [
                Problem(
                    "replications",
                    spec.replications,
                    f"gives {len(points) * spec.replications:,} runs; at most {MAX_RUNS:,}",
                )
            ],
            source,
        )
    problems += _point_problems(spec, bases, points, sample)
    columns = model_columns(next(iter(bases.values())))
    problems += _outcome_problems(spec, columns)
    draws, posterior = _posterior(spec, bases, base_dir, problems)
    if problems:
        raise SpecError(problems, source)
    return Experiment(spec, source, bases, points, sample, problem, columns, draws, posterior)


def _posterior(
    spec: ExperimentSpec, bases: dict[str, Scenario], base_dir: Path | None, problems: list
) -> tuple[tuple[dict[str, float], ...], dict[str, Any] | None]:
    """The spec's posterior draws, one per replication (see experiments.posterior)."""
    from coprod_sim.experiments import posterior as post

    if spec.posterior is None:
        return (), None
    folder = Path(spec.posterior)
    if not folder.is_absolute() and base_dir is not None:
        folder = base_dir / folder
    try:
        table, parameters = post.read_posterior(folder)
    except post.PosteriorError as error:
        problems.append(error.problem)
        return (), None
    refs = spec.scenarios or {"": ScenarioRef(scenario=spec.scenario)}
    fixed = {*spec.factors, *spec.set, *(k for ref in refs.values() for k in ref.set)}
    for name in sorted(fixed & set(parameters)):
        problems.append(
            Problem(
                "posterior",
                spec.posterior,
                f"fits {name}, which the spec also sets or varies; leave one of them out",
            )
        )
    draws = post.posterior_draws(table, parameters, spec.replications, spec.seed)
    for label, base in bases.items():  # the first draws, checked as design points are
        for draw in draws[: limits.MAX_CHECKED_POINTS // max(len(bases), 1)]:
            try:
                base.with_overrides(draw)
            except ScenarioError as error:
                problems += [
                    Problem(f"posterior ({label})", p.value, p.allowed) for p in error.problems
                ]
                break
    source = {"path": str(folder), "sha256": post.file_sha256(folder), "parameters": parameters}
    return tuple(draws), source


def scenario_path(name: str, base_dir: Path | None) -> str | Path:
    """A preset name as is; a file path relative to the spec's folder."""
    if name in preset_names() or base_dir is None or not name.endswith(".toml"):
        return name
    return name if Path(name).is_absolute() else base_dir / name


def _factor_problems(spec: ExperimentSpec) -> list[Problem]:
    problems = []
    sampling = spec.design.kind != "factorial"
    if not spec.factors and (sampling or not spec.scenarios):
        problems.append(
            Problem("factors", {}, "empty; name at least one factor to vary (a scenario field)")
        )
    for name, value in spec.factors.items():
        where = f"factors.{name}"
        if sampling:
            if not isinstance(value, dict):
                problems.append(
                    Problem(
                        where,
                        value,
                        f"a {spec.design.kind} design needs a range, e.g. "
                        "{ low = 0.2, high = 0.8 } (add integer = true for whole numbers)",
                    )
                )
                continue
            try:
                FactorRange.model_validate(value)
            except ValidationError as error:
                for p in from_validation_error(
                    error, {"": tuple(FactorRange.model_fields)}
                ).problems:
                    problems.append(Problem(f"{where}.{p.field}", p.value, p.allowed))
        elif not isinstance(value, list) or not value:
            problems.append(
                Problem(where, value, "a factorial design needs a non-empty list of values")
            )
        elif len(value) > MAX_POINTS:
            problems.append(
                Problem(where, f"{len(value):,} values", f"at most {MAX_POINTS:,} values")
            )
        elif len({json.dumps(v, sort_keys=True, default=str) for v in value}) < len(value):
            problems.append(Problem(where, value, "values must be distinct"))
    return problems


def design_size(spec: ExperimentSpec) -> int | None:
    """The number of design points the spec's design gives for one base scenario, counted
    from the spec alone (exact, in Python integers: no overflow), or None when a sampling
    design has no samples (the design says so when it is built)."""
    kind, d, n = spec.design.kind, len(spec.factors), spec.design.samples
    if kind == "factorial":  # every combination; 1 with no factors (scenarios alone)
        return math.prod(len(v) for v in spec.factors.values())
    if n is None:
        return None
    if kind == "sobol":  # Saltelli: N·(D+2), or N·(2D+2) with second-order indices
        return n * (2 * d + 2 if spec.design.second_order else d + 2)
    if kind == "morris":  # r trajectories of D+1 points
        return n * (d + 1)
    return n  # lhs


def _size_problems(spec: ExperimentSpec, n_bases: int) -> list[Problem]:
    """Refuse a design too large to start, before it is built."""
    size = design_size(spec)
    if size is None:
        return []
    points = size * n_bases
    runs = points * spec.replications
    per_base = f" × {n_bases} scenarios" if n_bases > 1 else ""
    if points > MAX_POINTS:
        if spec.design.kind == "factorial":
            lengths = " × ".join(str(len(v)) for v in spec.factors.values())
            field, value = "factors", f"{lengths}{per_base}"
        else:
            field, value = "design.samples", spec.design.samples
        shown = f"{points:,}" if points < 10**30 else f"about 10^{len(str(points)) - 1}"
        return [
            Problem(
                field,
                value,
                f"gives {shown} design points; at most {MAX_POINTS:,} (each is built, "
                f"validated and written to the manifest before the first run)",
            )
        ]
    if runs > MAX_RUNS:
        return [
            Problem(
                "replications",
                spec.replications,
                f"gives {runs:,} runs ({points:,} design points × {spec.replications:,}); "
                f"at most {MAX_RUNS:,}",
            )
        ]
    return []


def _point_problems(
    spec: ExperimentSpec,
    bases: dict[str, Scenario],
    points: list[Point],
    sample: np.ndarray | None,
) -> list[Problem]:
    """Build the points' scenarios now, so that a bad value fails here and not mid-sweep.

    Every point is checked when there are at most ``MAX_CHECKED_POINTS`` (each check takes
    about 0.2 ms). A larger design is checked at a bounded cost: each factor's values (every
    value a factorial lists, a sampled factor's smallest and largest) at real design points,
    then the first points in order, ``MAX_CHECKED_POINTS`` in all. A field's own limits are
    ranges, so this finds every value out of range; a point that breaks a rule between fields
    and is not checked here fails as a run, its error kept with the results.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    if len(points) <= limits.MAX_CHECKED_POINTS:
        chosen: Iterator[int] = iter(range(len(points)))
    else:
        chosen = itertools.islice(
            _distinct(_probe_indices(spec, len(bases), len(points), sample)),
            limits.MAX_CHECKED_POINTS,
        )
    for index in chosen:
        point = points[index]
        try:
            bases[point.label].with_overrides(point.values)
        except ScenarioError as error:
            for p in error.problems:
                key = f"{p.field}: {p.allowed}"
                if key in seen:
                    continue
                seen.add(key)
                where = f"design point {point.scenario_id} ({_show_values(point.values)})"
                problems.append(Problem(f"{where}: {p.field}", p.value, p.allowed))
        if len(problems) >= 10:  # enough to act on; the rest are usually the same
            break
    return problems


def _distinct(indices: Iterator[int]) -> Iterator[int]:
    seen: set[int] = set()
    for index in indices:
        if index not in seen:
            seen.add(index)
            yield index


def _probe_indices(
    spec: ExperimentSpec, n_bases: int, n_points: int, sample: np.ndarray | None
) -> Iterator[int]:
    """Indices of the points that test each factor's values, most telling first, then every
    point in order. Points run base by base, and within a base in the design's order (a
    factorial's last factor varies fastest)."""
    size = n_points // n_bases
    offsets = [b * size for b in range(n_bases)]
    yield from offsets  # each base at the design's first values
    if sample is not None:  # a sampled factor's smallest and largest values, at their points
        for column in sample.T:
            for row in (int(np.argmin(column)), int(np.argmax(column))):
                yield from (offset + row for offset in offsets)
    else:
        lengths = [len(v) for v in spec.factors.values()]
        strides = [math.prod(lengths[k + 1 :]) for k in range(len(lengths))]
        orders = [_value_order(v) for v in spec.factors.values()]
        # The extremes of every factor first, then each factor's other values in turn.
        for tier in (slice(0, 4), slice(4, None)):
            for order, stride in zip(orders, strides, strict=True):
                for v in order[tier]:
                    yield from (offset + v * stride for offset in offsets)
    yield from range(n_points)


def _value_order(values: list[Any]) -> list[int]:
    """Positions of a factorial factor's values, the smallest and largest of each number
    type first (a field's limits are a range), then the rest in order."""
    first: list[int] = []
    for kind in (int, float):
        numbers = [i for i, v in enumerate(values) if type(v) is kind and v == v]
        if numbers:
            first += [min(numbers, key=values.__getitem__), max(numbers, key=values.__getitem__)]
    return list(dict.fromkeys(first + list(range(len(values)))))


def _show_values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "base"


def model_columns(scenario: Scenario) -> tuple[str, ...]:
    """The model's numeric collaborative outputs, read from a small stand-in of ``scenario``.

    The columns depend on the groups and the aspects of care, never on the sites, so one
    small site of the same groups gives the same columns at a cost that does not grow with
    the scenario (building the whole base model made a large base crash validation itself).
    """
    from coprod_sim.model import CoproductionModel

    frame = CoproductionModel.from_scenario(
        column_stand_in(scenario), rng=0, with_agents=False
    ).outputs.collaborative()
    return tuple(c for c in frame.columns if c not in ("step", "week"))


def column_stand_in(scenario: Scenario) -> Scenario:
    """``scenario`` with one small site of its groups in place of its sites (and a crisis,
    if any, there), enough to staff its team and seat its representatives."""
    groups = [g.name for g in scenario.groups]
    site = {
        "name": "stand-in",
        "count": 1,
        "patients": max(10 * len(groups), scenario.representative_seats, 20),
        "providers": max(scenario.team_size, 2),
        "group_shares": {g: 1.0 / len(groups) for g in groups},
    }
    return scenario.with_overrides({"sites": [site], "crisis_sites": []})


def _outcome_problems(spec: ExperimentSpec, columns: tuple[str, ...]) -> list[Problem]:
    problems = []
    allowed = f"not a model output; outputs are: {', '.join(columns)}"
    for kind in ("final", "series"):
        for name in getattr(spec.outcomes, kind):
            if name not in columns:
                problems.append(Problem(f"outcomes.{kind}", name, allowed))
    steps = spec.outcomes.series_steps
    if len(set(steps)) < len(steps):
        problems.append(Problem("outcomes.series_steps", steps, "weeks must be distinct"))
    for step in steps:
        if not 0 <= step <= spec.steps:
            problems.append(
                Problem(
                    "outcomes.series_steps", step, f"must be between 0 and steps = {spec.steps}"
                )
            )
    if spec.outcomes.series and not spec.outcomes.series_steps:
        problems.append(
            Problem("outcomes.series_steps", [], "name the weeks at which to keep the series")
        )
    return problems
