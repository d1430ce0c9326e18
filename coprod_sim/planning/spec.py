"""Plan specs: the designs a planner weighs, their costs, the targets and the unknown context.

A plan is a TOML file, checked like an experiment spec before anything runs::

    name = "hiv-collaborative-2027"
    scenario = "careqic"          # the collaborative as it would run
    replications = 5              # runs per design and future
    steps = 78                    # weeks (month 18)
    seed = 1

    [designs.staff-led]           # named designs: overrides of the scenario ...
    set = { representative_seats = 0, power_sharing = 3 }
    [designs.partnership]
    set = { representative_seats = 2, power_sharing = 6 }

    [grid]                        # ... and/or a grid over design levers, crossed
    representative_seats = [1, 3]
    stipend_per_meeting = [0, 25] # a lever of the cost only (per design: in its table)
    inclusion = ["convenience", "deliberate"]

    [costs]                       # unit costs the planner types in (any currency)
    staff_hour = 12.0
    stipend_per_meeting = 20.0

    [targets.key_suppression]     # "viral suppression among key populations +5 points
    outcome = "key_suppression"   #  by month 18"
    change = 0.05
    week = 78

    [context]                     # what the planner does not know about their country
    futures = 64                  # Latin hypercube samples of the ranges below
    initial_trust = {}            # the parameter table's plausible range ...
    "groups.sex_workers.reachability" = { low = 0.2, high = 0.6 }   # ... or one's own

    [decision]
    rule = "satisficing"          # most futures meeting every target; or "regret"
    objective = "key_suppressed"  # what regret is counted in (people, here)
    reference = "staff-led"       # what differences and costs per outcome are against
    minimum_important = { key_suppression = 0.02 }

A plan compiles to an experiment (:func:`resolve_plan`): each design is a base scenario, the
futures a Latin hypercube design over the context, and replication ``r`` of every design in
every future runs on the same seed (common random numbers), so the sweep engine streams it
to Parquet and resumes it. ``[context] posterior = "DIR"`` adds a calibration's posterior:
replication ``r`` then also runs on posterior draw ``r``. With a posterior and no ranges,
the futures are the posterior's draws: future ``f`` runs on draw ``f`` and seed ``f``, once
(``replications = 1``).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coprod_sim import __version__, limits
from coprod_sim.errors import (
    InputError,
    PlanError,
    Problem,
    ScenarioError,
    from_validation_error,
)
from coprod_sim.experiments.decision import LOWER_IS_BETTER, better
from coprod_sim.experiments.spec import (
    Experiment,
    model_columns,
    parse_spec,
    read_spec,
    resolve,
    scenario_path,
)
from coprod_sim.outputs import COUNT_OF_SHARE
from coprod_sim.scenario import Scenario, load_scenario
from coprod_sim.scenario.evidence import GROUP, SCENARIO
from coprod_sim.scenario.schema import PatientGroup
from coprod_sim.scenario.schema import Scenario as ScenarioSchema

#: The design levers a grid may cross (the issue's list; the stipend is a cost, below).
__all__ = [
    "COST_LEVERS",
    "LOWER_IS_BETTER",
    "Plan",
    "PlanSpec",
    "load_plan",
    "parse_plan",
    "plausible_range",
    "resolve_plan",
]

LEVERS = (
    "representative_seats",
    "inclusion",
    "power_sharing",
    "feedback_loop",
    "team_size",
    "meeting_interval",
    "learning_sessions",
    "support_weeks",
    "ground_rules",
    "changes_shared",
)
#: Levers that change only what a design costs: the model has no mechanism through which a
#: stipend changes who stays on a team (no source gives its size), so it changes no outcome.
COST_LEVERS = ("stipend_per_meeting",)
#: Outcomes every plan reports, beside its targets' and objective's (the care cascade first).
REPORTED = (
    "key_suppression",
    "key_suppressed",
    "suppression",
    "suppressed",
    "key_retention",
    "key_in_care",
    "retention",
    "in_care",
    "patient_trust",
    "equity_gap",
)
#: Weeks between the kept points of each outcome's series (its area under the curve).
SERIES_EVERY = 13
MAX_DESIGNS = 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DesignRef(_Strict):
    """A named design: overrides of the plan's scenario, and what it is in plain words."""

    set: dict[str, Any] = {}
    description: str = Field("", max_length=500)
    # The design's own stipend, in place of [costs] stipend_per_meeting (a cost only).
    stipend_per_meeting: float | None = Field(None, ge=0, le=1e7, allow_inf_nan=False)


class Costs(_Strict):
    """Unit costs, in the plan's currency; each design's cost is counted from them
    (:mod:`coprod_sim.planning.costs`). Zero leaves an item out."""

    currency: str = Field("USD", min_length=1, max_length=12)
    staff_hour: float = Field(0.0, ge=0, le=1e7, allow_inf_nan=False)
    meeting_hours: float = Field(1.5, gt=0, le=24, allow_inf_nan=False)
    stipend_per_meeting: float = Field(0.0, ge=0, le=1e7, allow_inf_nan=False)
    learning_session: float = Field(0.0, ge=0, le=1e9, allow_inf_nan=False)
    coaching_per_site_week: float = Field(0.0, ge=0, le=1e9, allow_inf_nan=False)
    preparation_per_site: float = Field(0.0, ge=0, le=1e9, allow_inf_nan=False)


class Target(_Strict):
    """A target on one outcome by a week: a change from week 0, or a level to reach."""

    outcome: str = Field(min_length=1)
    week: int = Field(ge=1, le=limits.MAX_STEPS)
    change: float | None = Field(None, allow_inf_nan=False)
    at_least: float | None = Field(None, allow_inf_nan=False)
    at_most: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [k for k in ("change", "at_least", "at_most") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of change, at_least or at_most (given: {given or 'none'})"
            )
        return self

    def describe(self) -> str:
        if self.change is not None:
            return f"{self.outcome} {self.change:+g} from week 0 by week {self.week}"
        if self.at_least is not None:
            return f"{self.outcome} at least {self.at_least:g} by week {self.week}"
        return f"{self.outcome} at most {self.at_most:g} by week {self.week}"


class Range(_Strict):
    """A context range; either end left out is the parameter table's plausible one."""

    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)


class Context(BaseModel):
    """The uncertain context: ranges of scenario fields, sampled into ``futures`` futures by
    Latin hypercube, and optionally a calibration's posterior."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    futures: int = Field(32, ge=2, le=10_000)
    posterior: str | None = Field(None, min_length=1)


class Decision(_Strict):
    """How the robust choice is made, and the smallest differences that matter."""

    rule: Literal["satisficing", "regret"] = "satisficing"
    objective: str = Field("key_suppressed", min_length=1)
    reference: str | None = Field(None, min_length=1)
    # Outcomes left out take the defaults of coprod_sim.experiments.decision (assumptions).
    minimum_important: dict[str, float] = {}
    bootstrap: int = Field(1000, ge=100, le=100_000)


class PlanSpec(_Strict):
    """A whole plan, as written in its TOML file."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    scenario: str = Field("careqic", min_length=1)
    set: dict[str, Any] = {}
    designs: dict[str, DesignRef] = Field({}, max_length=MAX_DESIGNS)
    grid: dict[str, list[Any]] = {}
    costs: Costs = Costs()
    targets: dict[str, Target] = Field(min_length=1, max_length=20)
    context: Context = Context()
    decision: Decision = Decision()
    outcomes: list[str] = []
    replications: int = Field(5, ge=1, le=1000)
    steps: int = Field(78, ge=1, le=limits.MAX_STEPS)
    seed: int = Field(0, ge=0, le=2**63 - 1)


_ALLOWED = {
    "": tuple(PlanSpec.model_fields),
    "designs": tuple(DesignRef.model_fields),
    "costs": tuple(Costs.model_fields),
    "targets": tuple(Target.model_fields),
    "decision": tuple(Decision.model_fields),
}


@dataclass(frozen=True)
class Plan:
    """A resolved plan: its experiment, the designs' names, the context's ranges."""

    spec: PlanSpec
    source: str
    experiment: Experiment
    designs: dict[str, dict[str, Any]]  # name -> the overrides that make the design
    descriptions: dict[str, str]
    ranges: dict[str, tuple[float, float]]
    reference: str
    design_costs: dict[str, Costs]  # each design's unit costs: the plan's, with its own stipend

    @property
    def n_runs(self) -> int:
        return self.experiment.n_runs

    @property
    def futures(self) -> int:
        return self.spec.context.futures

    @property
    def posterior_futures(self) -> bool:
        """Whether each future is one posterior draw on its own seed (a context given by a
        posterior alone, with no ranges)."""
        return not self.ranges

    @property
    def context_fields(self) -> list[str]:
        """What varies from future to future: the ranged fields, or the fitted parameters."""
        return list(self.ranges) or list(self.experiment.posterior["parameters"])

    def context_values(self) -> list[dict[str, float]]:
        """Each future's context values, in future order."""
        if self.posterior_futures:
            return [dict(draw) for draw in self.experiment.draws]
        per = len(self.experiment.points) // len(self.experiment.bases)
        return [dict(p.values) for p in self.experiment.points[:per]]

    def context_bounds(self) -> dict[str, tuple[float, float]]:
        """Each context field's range: as given, or the span of the posterior's draws."""
        if not self.posterior_futures:
            return dict(self.ranges)
        values = self.context_values()
        return {
            name: (min(v[name] for v in values), max(v[name] for v in values))
            for name in self.context_fields
        }

    def better(self, outcome: str) -> int:
        """+1 when more of ``outcome`` is better, -1 when less is."""
        return better(outcome)

    def fingerprint(self) -> str:
        """A hash of everything that decides the plan's numbers (its experiment, costs,
        targets and decision rule): a folder belongs to one."""
        # The scenario and the posterior count through the experiment (resolved, and by the
        # posterior's checksum), not by how the spec names them.
        spec = self.spec.model_dump(mode="json", exclude={"description", "scenario"})
        spec["context"].pop("posterior", None)
        payload = {
            "spec": spec,
            "experiment": self.experiment.fingerprint(),
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load_plan(path: str | Path) -> Plan:
    """Read, validate and resolve a plan file, or raise :class:`PlanError` naming every
    problem; nothing runs and nothing is written."""
    try:
        data = read_spec(path)
    except InputError as error:
        raise PlanError(error.problems, str(path)) from None
    source = str(Path(path).resolve())
    return resolve_plan(parse_plan(data, source), source, base_dir=Path(path).parent)


def parse_plan(data: dict[str, Any], source: str | None = None) -> PlanSpec:
    """Validate raw data as a :class:`PlanSpec` (types and ranges only)."""
    try:
        return PlanSpec.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, _ALLOWED, source, PlanError) from None


def resolve_plan(spec: PlanSpec, source: str, base_dir: Path | None = None) -> Plan:
    """Check a plan against the model and compile it to an experiment."""
    problems: list[Problem] = []
    designs, descriptions = _designs(spec, problems)
    ranges = _ranges(spec, problems)
    reference = spec.decision.reference or next(iter(designs), "")
    if designs and reference not in designs:
        problems.append(
            Problem("decision.reference", reference, f"must be a design: {', '.join(designs)}")
        )
    try:
        base = load_scenario(scenario_path(spec.scenario, base_dir), spec.set)
    except ScenarioError:
        base = None  # compiling names the scenario's own problems
    if base is not None:  # every problem at once, each named by the plan's own field
        problems += _design_problems(base, designs)
        problems += _context_problems(base, ranges)
        problems += _outcome_problems(spec, base)
    if problems:
        raise PlanError(problems, source)
    outcomes = _outcomes(spec)
    # Files by absolute path: the folder's own spec.toml, which names them so, is the same
    # plan (and the same experiment) as the file it came from.
    scenario = scenario_path(spec.scenario, base_dir)
    scenario = str(Path(scenario).resolve()) if isinstance(scenario, Path) else scenario
    posterior = spec.context.posterior
    if posterior and base_dir is not None:
        posterior = str((base_dir / posterior).resolve())
    experiment_data = {
        "name": spec.name,
        "description": spec.description or f"the plan {spec.name}",
        "scenarios": {
            name: {"scenario": scenario, "set": {**spec.set, **overrides}}
            for name, overrides in designs.items()
        },
        # A posterior alone: every design runs once per future, future f on posterior draw
        # f and seed f (the engine draws per replication); otherwise a Latin hypercube.
        "factors": {
            name: {"low": low, "high": high, **({"integer": True} if _whole(name) else {})}
            for name, (low, high) in ranges.items()
        },
        "design": {"kind": "lhs", "samples": spec.context.futures} if ranges else {},
        "replications": spec.replications if ranges else spec.context.futures,
        "steps": spec.steps,
        "seed": spec.seed,
        "outcomes": {
            "final": outcomes,
            "series": outcomes,
            "series_steps": _series_steps(spec),
        },
        **({"posterior": posterior} if posterior else {}),
    }
    try:
        experiment = resolve(parse_spec(experiment_data, source), source, base_dir)
    except InputError as error:
        raise PlanError([_plan_field(p, designs) for p in error.problems], source) from None
    return Plan(
        spec, source, experiment, designs, descriptions, ranges, reference, _design_costs(spec)
    )


def _design_problems(base: Scenario, designs: dict[str, dict[str, Any]]) -> list[Problem]:
    """Each design's settings, checked against the base scenario."""
    problems = []
    for name, overrides in designs.items():
        try:
            base.with_overrides(overrides)
        except ScenarioError as error:
            problems += [
                Problem(f"designs.{name}: {p.field}", p.value, p.allowed) for p in error.problems
            ]
    return problems


def _context_problems(base: Scenario, ranges: dict[str, tuple[float, float]]) -> list[Problem]:
    """Each end of each context range, checked as a value of its field."""
    problems = []
    for name, bounds in ranges.items():
        for end, value in zip(("low", "high"), bounds, strict=True):
            try:
                base.with_overrides({name: round(value) if _whole(name) else value})
            except ScenarioError as error:
                problems += [
                    Problem(f"context.{name}.{end}", value, p.allowed) for p in error.problems
                ]
    return problems


def _outcome_problems(spec: PlanSpec, base: Scenario) -> list[Problem]:
    """The outcomes the plan names (its targets', objective's, minimum differences' and
    extra outcomes), checked against the model's outputs for its base scenario."""
    columns = set(model_columns(base))
    problems = []
    for name, target in spec.targets.items():
        if target.outcome not in columns:
            problems.append(
                Problem(
                    f"targets.{name}.outcome",
                    target.outcome,
                    _outcome_help(target.outcome, columns),
                )
            )
        if target.week > spec.steps:
            problems.append(
                Problem(f"targets.{name}.week", target.week, f"at most steps = {spec.steps}")
            )
    for field, names in (
        ("decision.objective", [spec.decision.objective]),
        ("decision.minimum_important", list(spec.decision.minimum_important)),
        ("outcomes", spec.outcomes),
    ):
        problems += [
            Problem(field, n, _outcome_help(n, columns)) for n in names if n not in columns
        ]
    problems += [
        Problem(f"decision.minimum_important.{name}", value, "must be 0 or more")
        for name, value in spec.decision.minimum_important.items()
        if not value >= 0
    ]
    return problems


def _grid(spec: PlanSpec) -> list[tuple[str, dict[str, Any]]]:
    """The grid's designs: (name, every lever's value), crossed in the grid's order."""
    names = list(spec.grid)
    combos = itertools.product(*(spec.grid[n] for n in names))
    levels = [dict(zip(names, combo, strict=True)) for combo in combos]
    return [(", ".join(f"{k}={v}" for k, v in level.items()), level) for level in levels]


def _design_costs(spec: PlanSpec) -> dict[str, Costs]:
    """Each design's unit costs: the plan's, with the design's own stipend if it has one."""
    stipends = {n: ref.stipend_per_meeting for n, ref in spec.designs.items()}
    for name, level in _grid(spec):
        stipends.setdefault(name, level.get("stipend_per_meeting"))
    return {
        name: spec.costs if stipend is None
        else spec.costs.model_copy(update={"stipend_per_meeting": float(stipend)})
        for name, stipend in stipends.items()
    }  # fmt: skip


def _designs(spec: PlanSpec, problems: list[Problem]) -> tuple[dict, dict]:
    """The named designs, then the grid's, each a name -> its scenario overrides."""
    designs = {name: dict(ref.set) for name, ref in spec.designs.items()}
    descriptions = {name: ref.description for name, ref in spec.designs.items()}
    allowed = (*LEVERS, *COST_LEVERS)
    for lever, values in spec.grid.items():
        if lever not in allowed:
            problems.append(
                Problem(
                    f"grid.{lever}", lever, "not a design lever; levers are: " + ", ".join(allowed)
                )
            )
        elif not values:
            problems.append(Problem(f"grid.{lever}", values, "give at least one value"))
        elif lever in COST_LEVERS and not all(
            type(v) in (int, float) and 0 <= v <= 1e7 for v in values
        ):
            problems.append(
                Problem(f"grid.{lever}", values, "each value must be a cost, 0 to 10,000,000")
            )
    if spec.grid and not any(p.field.startswith("grid.") for p in problems):
        for name, level in _grid(spec):
            overrides = {k: v for k, v in level.items() if k not in COST_LEVERS}
            designs.setdefault(name, overrides)
            descriptions.setdefault(name, "")
    if not designs:
        problems.append(Problem("designs", {}, "name at least two designs, or give a [grid]"))
    elif len(designs) < 2:
        problems.append(Problem("designs", list(designs), "a plan weighs at least two designs"))
    elif len(designs) > MAX_DESIGNS:
        problems.append(Problem("grid", len(designs), f"gives more than {MAX_DESIGNS} designs"))
    return designs, descriptions


def _ranges(spec: PlanSpec, problems: list[Problem]) -> dict[str, tuple[float, float]]:
    """Each context field's range: given, or the parameter table's plausible range."""
    ranges = {}
    extra = spec.context.model_extra or {}
    for name, value in extra.items():
        where = f"context.{name}"
        try:
            given = Range.model_validate(value)
        except ValidationError as error:
            problems += from_validation_error(error, {"": tuple(Range.model_fields)}).problems
            continue
        if not _is_field(name):
            problems.append(
                Problem(
                    where,
                    value,
                    "not a scenario field: give a field of the parameter table (coprod "
                    "parameters) or groups.<group>.<field>",
                )
            )
            continue
        table = plausible_range(name)
        low = given.low if given.low is not None else (table or (None, None))[0]
        high = given.high if given.high is not None else (table or (None, None))[1]
        if low is None or high is None:
            problems.append(
                Problem(
                    where,
                    value,
                    "no plausible range in the parameter table: give low and high",
                )
            )
        elif not low < high:
            problems.append(Problem(f"{where}.low", low, f"must be below high = {high:g}"))
        else:
            ranges[name] = (float(low), float(high))
    if not ranges and not spec.context.posterior:
        problems.append(
            Problem(
                "context",
                {},
                "give at least one uncertain field (e.g. initial_trust = {}) or a posterior",
            )
        )
    if not ranges and spec.context.posterior and spec.replications != 1:
        problems.append(
            Problem(
                "replications",
                spec.replications,
                "with a posterior alone each future is one posterior draw on its own seed: "
                "set replications = 1, or add a range to the context",
            )
        )
    return ranges


def _whole(name: str) -> bool:
    """Whether a context field takes whole numbers (sampled, then rounded)."""
    parts = name.split(".")
    fields = ScenarioSchema.model_fields if len(parts) == 1 else PatientGroup.model_fields
    return fields[parts[-1]].annotation is int


def _is_field(name: str) -> bool:
    parts = name.split(".")
    if len(parts) == 1:
        return name in ScenarioSchema.model_fields
    return len(parts) == 3 and parts[0] == "groups" and parts[2] in PatientGroup.model_fields


def plausible_range(name: str) -> tuple[float, float] | None:
    """The parameter table's plausible range of a context field (a scenario field, or
    ``groups.<group>.<field>``), or None when it has none: what ``field = {}`` means."""
    parts = name.split(".")
    if len(parts) == 1 and name in SCENARIO:
        return SCENARIO[name].plausible
    if len(parts) == 3 and parts[0] == "groups" and parts[2] in GROUP:
        return GROUP[parts[2]].plausible
    return None


def _outcomes(spec: PlanSpec) -> list[str]:
    """Every outcome the plan reads, in a fixed order, each with its count of people."""
    wanted = [
        *(t.outcome for t in spec.targets.values()),
        spec.decision.objective,
        *spec.decision.minimum_important,
        *spec.outcomes,
        *REPORTED,
    ]
    wanted += [COUNT_OF_SHARE[o] for o in wanted if o in COUNT_OF_SHARE]
    return list(dict.fromkeys(wanted))


def _series_steps(spec: PlanSpec) -> list[int]:
    """Week 0, every 13th week, each target's week and the last week."""
    weeks = {0, spec.steps, *range(SERIES_EVERY, spec.steps, SERIES_EVERY)}
    weeks |= {t.week for t in spec.targets.values() if t.week <= spec.steps}
    return sorted(weeks)


def _outcome_help(name: str, columns: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(columns), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"not an outcome of the model; {hint}outcomes are the columns of collaborative.parquet"


def _plan_field(problem: Problem, designs: dict[str, dict]) -> Problem:
    """An experiment's problem named in the plan's own terms."""
    field = problem.field
    for prefix, plan_prefix in (
        ("scenarios.", "designs."),
        ("factors.", "context."),
        ("replications", "replications"),
        ("design.samples", "context.futures"),
    ):
        if field.startswith(prefix):
            return Problem(plan_prefix + field[len(prefix) :], problem.value, problem.allowed)
    return problem
