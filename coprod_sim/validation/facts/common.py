"""What every fact shares: the study's data, the spec that ran, contrasts and the fact itself.

A fact reads the levels, scenario labels and scenario values it contrasts from the results
folder of the spec that ran (:class:`SpecRun`: ``DIR/spec.toml``, ``DIR/experiment.json``,
``DIR/scenarios/*.toml`` and ``DIR/manifest.parquet``), never from a copy typed in here, so
a spec edited so that it no longer holds what a fact needs stops the study with a
:class:`SpecMismatchError` naming the spec file, the field, its value and what is needed.

``stigma_key``, ``heard_key`` and ``heard_key_share`` (see :func:`derive`) are columns the
facts read beside the spec's outcomes; the key populations are the base scenario's
:attr:`~coprod_sim.scenario.Scenario.key_populations`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from coprod_sim.errors import Problem
from coprod_sim.experiments.analysis import load_manifest, load_runs, load_series, read_header
from coprod_sim.experiments.spec import ExperimentSpec, parse_spec, read_spec
from coprod_sim.experiments.stats import Interval
from coprod_sim.experiments.store import SPEC_FILE, scenario_file
from coprod_sim.scenario import Scenario, load_scenario
from coprod_sim.validation.checks import Check, Direction, paired, per_replication

# The labels the study's specs give the arms several facts compare.
COPRODUCED, STAFF_LED = "coproduced", "staff_led"


class SpecMismatchError(ValueError):
    """A spec that ran does not hold what a fact reads (a factor, a level, a scenario, an
    outcome or a week): names the spec file, the field, its value and what is needed."""


@dataclass(frozen=True)
class SpecRun:
    """What one results folder says ran: the resolved spec, its base scenarios (by label)
    and the factor values of every planned run."""

    folder: Path
    source: str  # the spec file it ran from
    spec: ExperimentSpec
    bases: dict[str, Scenario]
    manifest: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> SpecRun:
        header = read_header(folder)
        spec = parse_spec(read_spec(folder / SPEC_FILE), str(folder / SPEC_FILE))
        # Each label's file by the store's own rule for its name (``A:careqic`` -> ``A_careqic``).
        bases = {
            label: load_scenario(scenario_file(folder, label)) for label in header["scenarios"]
        }
        source = str(header.get("source") or folder / SPEC_FILE)
        return cls(folder, source, spec, bases, load_manifest(folder))

    def mismatch(self, field: str, value: object, needed: str) -> SpecMismatchError:
        return SpecMismatchError(f"{self.source}: {Problem(field, value, needed)}")

    # --- factors ---------------------------------------------------------------------------
    def levels(self, factor: str) -> list[Any]:
        """The distinct values ``factor`` took in the runs, in increasing order."""
        if factor not in self.spec.factors:
            raise self.mismatch("factors", list(self.spec.factors), f"needs a factor {factor}")
        return sorted(self.manifest[factor].dropna().unique().tolist())

    def extremes(self, factor: str) -> tuple[Any, Any]:
        """The lowest and the highest level of ``factor``: the two ends a contrast compares."""
        levels = self.levels(factor)
        if len(levels) < 2:
            raise self.mismatch(
                f"factors.{factor}", levels, "needs at least two levels to contrast"
            )
        return levels[0], levels[-1]

    def level(self, factor: str, value: Any) -> dict[str, Any]:
        """The arm where ``factor`` is ``value``, a level the spec must hold."""
        levels = self.levels(factor)
        if value not in levels:
            raise self.mismatch(f"factors.{factor}", levels, f"needs the level {value!r}")
        return {factor: value}

    def margin(self, claim: str) -> tuple[float, str]:
        """The minimum important effect the spec declares for ``claim``, with its unit."""
        declared = self.spec.claims.get(claim)
        if declared is None:
            raise self.mismatch(
                "claims",
                sorted(self.spec.claims),
                f"needs [claims.{claim}] with its minimum_effect, declared before running",
            )
        return declared.minimum_effect, declared.unit

    def need_factors(self, factors: Iterable[str]) -> None:
        """Each of ``factors`` is a factor of the spec (a region's moderators)."""
        for factor in factors:
            self.levels(factor)

    # --- scenarios ---------------------------------------------------------------------------
    def arm(self, label: str) -> dict[str, str]:
        """The arm of the base scenario labelled ``label``, which the spec must have."""
        if label not in self.bases:
            raise self.mismatch(
                "scenarios", list(self.bases), f"needs a scenario labelled {label!r}"
            )
        return {"scenario": label}

    def value(
        self,
        field: str,
        labels: Sequence[str] | None = None,
        read: Callable[[Scenario], Any] | None = None,
    ) -> Any:
        """``field`` of the base scenarios ``labels`` (all of them by default), or what
        ``read`` computes from them: one value they share, and not a factor of the spec
        (a factor would replace the base's value in the runs)."""
        varied = [f for f in self.spec.factors if f == field or f.startswith(f"{field}.")]
        if varied:
            raise self.mismatch(
                f"factors.{varied[0]}",
                self.levels(varied[0]),
                f"the fact reads one {field} from the base scenarios; it must not be a factor",
            )
        labels = list(self.bases) if labels is None else list(labels)
        for label in labels:
            self.arm(label)
        values = {
            label: read(self.bases[label]) if read else getattr(self.bases[label], field)
            for label in labels
        }
        first = values[labels[0]]
        if any(v != first for v in values.values()):
            raise self.mismatch(
                f"scenarios: {field}", values, f"needs one {field} in {', '.join(labels)}"
            )
        return first

    def groups(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every patient group's name and the key populations, shared by the base scenarios."""
        return self.value(
            "groups", read=lambda s: (tuple(g.name for g in s.groups), s.key_populations)
        )

    # --- outcomes and weeks ----------------------------------------------------------------
    def need_columns(
        self, table: pd.DataFrame, outcomes: Iterable[str], kind: str, weeks: Iterable[int] = ()
    ) -> None:
        """``table`` (runs or series) has each of ``outcomes`` and, for series, each week."""
        groups, key = self.groups()
        missing = sorted(
            {raw for o in outcomes for raw in _raw_columns(o, groups, key) if raw not in table}
        )
        if missing:
            kept = getattr(self.spec.outcomes, kind)
            raise self.mismatch(f"outcomes.{kind}", kept, f"needs {', '.join(missing)}")
        absent = sorted(set(weeks) - set(table["step"].unique().tolist())) if weeks else []
        if absent:
            raise self.mismatch(
                "outcomes.series_steps",
                self.spec.outcomes.series_steps,
                f"needs week{'s' if len(absent) > 1 else ''} {', '.join(map(str, absent))}",
            )


# Columns derived from the spec's outcomes: (prefix, the groups whose columns they need).
DERIVED = {
    "stigma_key": ("stigma", "key"),
    "heard_key": ("heard", "key"),
    "heard_key_share": ("heard", "all"),
}


def _raw_columns(outcome: str, groups: tuple[str, ...], key: tuple[str, ...]) -> list[str]:
    if outcome not in DERIVED:
        return [outcome]
    prefix, which = DERIVED[outcome]
    return [f"{prefix}_{g}" for g in (key if which == "key" else groups)]


def derive(table: pd.DataFrame, groups: Sequence[str], key: Sequence[str]) -> pd.DataFrame:
    """Add the key populations' columns, where the table holds every group's they need.

    ``stigma_key``: providers' mean stigma toward the key populations ``key``; ``heard_key``:
    their representatives heard at the last meeting, and ``heard_key_share`` their share of
    the representatives of all ``groups`` heard then.
    """
    for prefix, how in (("stigma", "mean"), ("heard", "sum")):
        wanted = {f"{prefix}_{g}" for g in key}
        columns = [c for c in table.columns if c in wanted]  # the table's order: same sums
        if columns and len(columns) == len(wanted):
            table[f"{prefix}_key"] = getattr(table[columns], how)(axis=1)
    others = [f"heard_{g}" for g in groups if g not in key]
    if "heard_key" in table and all(c in table for c in others):
        heard = table["heard_key"] + table[others].sum(axis=1, min_count=len(others))
        table["heard_key_share"] = (table["heard_key"] / heard).where(heard > 0)
    return table


def key_population_share(scenario: Scenario) -> float:
    """The key populations' share of the scenario's patients, by its sites' group shares."""
    key = set(scenario.key_populations)
    patients = sum(site.count * site.patients for site in scenario.sites)
    # As one minus the other groups' share: the form the published numbers were computed in.
    others = sum(
        site.count
        * site.patients
        * sum(share for group, share in site.group_shares.items() if group not in key)
        for site in scenario.sites
    )
    return 1 - others / patients


class StudyData:
    """Each spec's results folder under ``root``: what ran (:meth:`spec`), and its runs and
    series with the key populations' columns (:func:`derive`).

    :meth:`runs` and :meth:`series` check that the outcomes (and weeks) a fact names are
    there, so that a spec without them gives a :class:`SpecMismatchError` naming them.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.spec = cache(self._spec)
        self._runs = cache(self._load_runs)
        self._series = cache(self._load_series)

    def runs(self, name: str, *outcomes: str) -> pd.DataFrame:
        table = self._runs(name)
        self.spec(name).need_columns(table, outcomes, "final")
        return table

    def series(self, name: str, *outcomes: str, weeks: Iterable[int] = ()) -> pd.DataFrame:
        table = self._series(name)
        self.spec(name).need_columns(table, outcomes, "series", weeks)
        return table

    def _spec(self, name: str) -> SpecRun:
        return SpecRun.read(self.root / name)

    def _load_runs(self, name: str) -> pd.DataFrame:
        return derive(load_runs(self.root / name), *self.spec(name).groups())

    def _load_series(self, name: str) -> pd.DataFrame:
        return derive(load_series(self.root / name), *self.spec(name).groups())


Measure = Callable[[pd.DataFrame], Interval]


def mechanism_checks(checks: dict[str, Check], rules: Mapping[str, str]) -> dict[str, Check]:
    """The checks, with those in ``rules`` labelled mechanism checks: their verdict follows
    from the one rule named, not from mechanisms working together."""
    return {
        key: replace(check, kind="mechanism", rule=rules[key]) if key in rules else check
        for key, check in checks.items()
    }


def contrast(outcome: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> Measure:
    """``b - a`` in ``outcome``, paired on the replication."""
    return lambda table: paired(
        per_replication(table, a, outcome), per_replication(table, b, outcome)
    )


@dataclass(frozen=True)
class RegionCheck:
    """One contrast applied in every cell of a region sweep's moderators."""

    claim: str
    moderators: tuple[str, ...]
    measure: Measure
    direction: Direction
    final: bool = True  # False: the measure reads the series table
    reference: float = 0.0  # the claim is that the measure lies above or below this
    margin: float = 0.0  # the claim's minimum important effect beyond the reference
    # What the measure reads, checked before it runs: outcomes (or derived columns), weeks.
    outcomes: tuple[str, ...] = ()
    weeks: tuple[int, ...] = ()


@dataclass(frozen=True)
class Fact:
    """A stylized fact (or the CaReQIC case): its spec, its checks and where it fails.

    ``checks`` and ``regions`` read the study's data and return their checks by an id
    stable within the fact (``"patient_originated"``): the study names a check
    ``"<fact id>.<id>"`` and a region ``"<fact id>.region.<id>"``, whatever its wording.
    """

    id: str  # "fact1", …, "careqic": stable, whatever the title says
    number: int | None  # None for the CaReQIC case
    title: str
    statement: str
    spec: str
    checks: Callable[[StudyData], dict[str, Check]]
    region_spec: str | None = None
    regions: Callable[[StudyData], dict[str, RegionCheck]] | None = None
    # What the report draws: (spec's final outcome or "series:<outcome>", grouping columns).
    panels: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    # The subject the report names its checks by, when the fact has no number.
    name: str = "CaReQIC case"

    @property
    def subject(self) -> str:
        return f"Fact {self.number}" if self.number else self.name
