"""Calibration specs: the parameters to fit, their priors, the targets and the schedule.

A spec is a TOML file, checked like an experiment spec before anything runs::

    name = "cascade"
    seed = 20261202
    budget = 3000                  # simulations at most (a particle's runs are one)

    [parameters]                   # uniform priors over the parameter table's ranges
    initial_adherence = {}         # the whole plausible range
    effect_size = { low = 0.1, high = 0.3 }   # or a narrower range inside it

    [targets.viral_suppression]
    scenario = "careqic"
    steps = 78
    output = "suppression"
    statistic = "final"            # final | change | site_max_change | site_share_improved
    observed = 0.78
    sd = 0.02
    source = "Cushnie et al. 2021: viral suppression 76% to 80% after Treat All"

    [schedule]
    population = 100               # particles per generation
    generations = 8                # at most
    quantile = 0.5                 # each generation's threshold: this quantile of the last

The distance between a run and the data is the Euclidean norm of the targets' standardised
errors, :math:`d = \\sqrt{\\sum_k ((y_k - o_k)/\\sigma_k)^2}`, with each target's observed
value :math:`o_k` and stated uncertainty :math:`\\sigma_k`: a target known only roughly
weighs less.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coprod_sim import __version__, limits
from coprod_sim.calibration.summaries import STATISTICS, TABLE, Statistic
from coprod_sim.errors import CalibrationError, Problem, ScenarioError, from_validation_error
from coprod_sim.experiments.spec import column_stand_in, scenario_path
from coprod_sim.scenario import Scenario, load_scenario
from coprod_sim.scenario.evidence import SCENARIO as PARAMETER_TABLE
from coprod_sim.scenario.schema import Scenario as ScenarioSchema

#: What only decides when a calibration stops: changing it continues the same calibration.
STOPPING_RULES: dict[str, Any] = {
    "description": True,
    "budget": True,
    "predictive": True,
    "schedule": {"generations", "minimum_epsilon"},
}
#: Simulations one calibration may ask for (a particle's runs count as one).
MAX_BUDGET = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Prior(_Strict):
    """A uniform prior over ``[low, high]``; either end left out is the parameter table's."""

    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)


class Target(_Strict):
    """An observed summary, its uncertainty and its source, and how a run gives it."""

    scenario: str = Field("careqic", min_length=1)
    set: dict[str, Any] = {}
    steps: int = Field(ge=1, le=limits.MAX_STEPS)
    output: str | list[str] = Field(min_length=1)
    statistic: Statistic
    threshold: float | None = Field(
        None, allow_inf_nan=False, description="site_share_improved: the smallest improvement."
    )
    observed: float = Field(allow_inf_nan=False)
    sd: float = Field(gt=0, allow_inf_nan=False)
    source: str = Field(min_length=1, max_length=2000)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,) if isinstance(self.output, str) else tuple(self.output)


class Schedule(_Strict):
    """How the particle populations shrink toward the data."""

    population: int = Field(100, ge=4, le=100_000)
    generations: int = Field(8, ge=1, le=1000)
    quantile: float = Field(0.5, gt=0, lt=1)
    minimum_epsilon: float = Field(0.0, ge=0, allow_inf_nan=False)


class CalibrationSpec(_Strict):
    """A whole calibration, as written in its TOML file."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    budget: int = Field(ge=1, le=MAX_BUDGET)
    parameters: dict[str, Prior] = Field(min_length=1, max_length=limits.MAX_FACTORS)
    targets: dict[str, Target] = Field(min_length=1, max_length=50)
    schedule: Schedule = Schedule()
    predictive: int = Field(
        100, ge=0, le=10_000, description="Posterior draws simulated for the predictive check."
    )

    @model_validator(mode="after")
    def _names(self) -> Self:
        # Parameters and targets are columns of one table, beside these.
        reserved = {"generation", "index", "seed", "error", "seconds", "weight", "distance"}
        for name in self.targets:
            if name in self.parameters or name in reserved:
                raise ValueError(
                    f"targets.{name}: a target's name must differ from the parameters' and "
                    f"from {', '.join(sorted(reserved))}"
                )
        return self

    @model_validator(mode="after")
    def _thresholds(self) -> Self:
        for name, target in self.targets.items():
            if (target.statistic == "site_share_improved") != (target.threshold is not None):
                raise ValueError(
                    f"targets.{name}: a threshold goes with statistic = "
                    '"site_share_improved", and only with it'
                )
        return self


_ALLOWED = {
    "": tuple(CalibrationSpec.model_fields),
    "schedule": tuple(Schedule.model_fields),
    "targets": tuple(Target.model_fields),
    "parameters": tuple(Prior.model_fields),
}


@dataclass(frozen=True)
class RunGroup:
    """One run a simulation makes, and the targets read from it (targets that share a
    scenario and a length share the run)."""

    scenario: Scenario
    steps: int
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Calibration:
    """A resolved spec: the priors' bounds and the runs each simulation makes."""

    spec: CalibrationSpec
    source: str
    bounds: dict[str, tuple[float, float]]
    groups: tuple[RunGroup, ...]

    @property
    def parameter_names(self) -> list[str]:
        return list(self.bounds)

    @property
    def target_names(self) -> list[str]:
        return list(self.spec.targets)

    def observed(self) -> dict[str, float]:
        return {name: t.observed for name, t in self.spec.targets.items()}

    def fingerprint(self) -> str:
        """A hash of everything that decides each generation: not the description, nor the
        rules that only say when to stop (the budget, the generations, the minimum epsilon,
        the predictive draws), so a calibration can be continued with a larger budget."""
        payload = {
            # The targets' scenarios count as resolved (below), not by name: the folder's
            # own spec.toml, which names their resolved copies, is the same calibration.
            "spec": self.spec.model_dump(
                mode="json",
                exclude={**STOPPING_RULES, "targets": {"__all__": {"scenario", "set"}}},
            ),
            "bounds": self.bounds,
            "runs": [(g.scenario.to_toml(), g.steps, g.targets) for g in self.groups],
            "version": __version__,
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def load_calibration(
    path: str | Path, *, budget: int | None = None, population: int | None = None
) -> Calibration:
    """Read, validate and resolve a calibration spec; ``budget`` and ``population`` (the
    schedule's) replace the file's."""
    file = Path(path)
    if not file.is_file():
        raise CalibrationError(
            [Problem("spec", str(path), "no such file; give a calibration TOML")]
        )
    try:
        data = limits.loads_toml(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise CalibrationError([Problem("spec", str(path), f"cannot be read: {error}")]) from None
    except tomllib.TOMLDecodeError as error:
        raise CalibrationError(
            [Problem("(file)", str(path), f"is not valid TOML: {error}")]
        ) from None
    except limits.TooDeepError as error:
        raise CalibrationError([Problem("(file)", str(path), str(error))]) from None
    if budget is not None:
        data["budget"] = budget
    if population is not None and isinstance(data.get("schedule", {}), dict):
        data["schedule"] = {**data.get("schedule", {}), "population": population}
    source = str(file.resolve())
    return resolve(parse_calibration(data, source), source, base_dir=file.parent)


def parse_calibration(data: dict[str, Any], source: str | None = None) -> CalibrationSpec:
    """Validate raw data as a :class:`CalibrationSpec` (types and ranges only)."""
    try:
        return CalibrationSpec.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, _ALLOWED, source, CalibrationError) from None


def resolve(spec: CalibrationSpec, source: str, base_dir: Path | None = None) -> Calibration:
    """Check a spec against the parameter table and the model, or raise
    :class:`~coprod_sim.errors.CalibrationError` naming every problem; nothing runs."""
    problems: list[Problem] = []
    bounds = _bounds(spec, problems)
    groups: dict[tuple[str, int], list[str]] = {}
    scenarios: dict[tuple[str, int], Scenario] = {}
    for name, target in spec.targets.items():
        where = f"targets.{name}"
        try:
            scenario = load_scenario(scenario_path(target.scenario, base_dir), target.set)
        except ScenarioError as error:
            problems += [Problem(f"{where}.{p.field}", p.value, p.allowed) for p in error.problems]
            continue
        problems += _output_problems(where, target, scenario)
        for parameter in bounds:
            for end, value in zip(("low", "high"), bounds[parameter], strict=True):
                try:
                    scenario.with_overrides({parameter: value})
                except ScenarioError as error:
                    problems += [
                        Problem(f"parameters.{parameter}.{end}", value, f"{where}: {p}")
                        for p in error.problems
                    ]
        # Targets on the same scenario (however it is named) and length share one run.
        key = (scenario.to_toml(), target.steps)
        scenarios[key] = scenario
        groups.setdefault(key, []).append(name)
    if problems:
        raise CalibrationError(problems, source)
    runs = tuple(RunGroup(scenarios[k], k[1], tuple(names)) for k, names in groups.items())
    return Calibration(spec, source, bounds, runs)


def _bounds(spec: CalibrationSpec, problems: list[Problem]) -> dict[str, tuple[float, float]]:
    """Each parameter's prior range, inside the parameter table's plausible range."""
    bounds = {}
    fields = ScenarioSchema.model_fields
    for name, prior in spec.parameters.items():
        where = f"parameters.{name}"
        evidence = PARAMETER_TABLE.get(name)
        if name not in fields or evidence is None:
            problems.append(Problem(where, name, "not a scenario field (see coprod parameters)"))
            continue
        if evidence.plausible is None:
            problems.append(Problem(where, name, "a choice, not a quantity: it has no range"))
            continue
        if fields[name].annotation not in (float, float | None):
            problems.append(
                Problem(where, name, "a whole number; calibration fits continuous fields")
            )
            continue
        table_low, table_high = evidence.plausible
        low = table_low if prior.low is None else prior.low
        high = table_high if prior.high is None else prior.high
        allowed = f"inside the parameter table's range {table_low:g} to {table_high:g}"
        if not table_low <= low <= table_high:
            problems.append(Problem(f"{where}.low", low, allowed))
        elif not table_low <= high <= table_high:
            problems.append(Problem(f"{where}.high", high, allowed))
        elif not low < high:
            problems.append(Problem(f"{where}.low", low, f"must be below high = {high:g}"))
        else:
            bounds[name] = (float(low), float(high))
    return bounds


def _output_problems(where: str, target: Target, scenario: Scenario) -> list[Problem]:
    from coprod_sim.model import CoproductionModel

    table = TABLE[target.statistic]
    frames = CoproductionModel.from_scenario(
        column_stand_in(scenario), rng=0, with_agents=False
    ).outputs.frames()
    columns = [c for c in frames[table].columns if c not in ("step", "week", "site", "region")]
    problems = []
    if target.statistic in ("final", "change") and len(target.outputs) != 1:
        problems.append(
            Problem(f"{where}.output", target.output, f"{target.statistic} reads one output")
        )
    for output in target.outputs:
        if output not in columns:
            problems.append(
                Problem(
                    f"{where}.output",
                    output,
                    f"not an output of the {table} table; outputs are: {', '.join(columns)}",
                )
            )
    return problems


__all__ = [
    "STATISTICS",
    "Calibration",
    "CalibrationSpec",
    "Prior",
    "RunGroup",
    "Schedule",
    "Target",
    "load_calibration",
    "parse_calibration",
    "resolve",
]
