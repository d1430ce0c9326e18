"""The validation study: run every spec, the reductions, and evaluate every check.

:func:`run_study` runs (or resumes) the sweeps of :data:`SPECS` (the specs shipped in
the package, ``coprod_sim/validation/specs/``) into ``out/<spec name>/`` through the
experiment layer, computes the canonical reductions, and evaluates each fact's checks
and failure regions. Nothing is typed in: every number in :class:`Study` is computed
from those results, and each fact reads the levels and scenarios it contrasts from the
spec that ran; a spec that no longer holds them stops the evaluation with a
:class:`StudyError` naming the spec, the field, its value and what the fact needs.
Each check and region carries a stable id (``"fact1.patient_originated"``).

``quick=True`` is the CI subset: the reductions at reduced size and each fact's
main spec at :data:`QUICK_REPLICATIONS` replications and at most :data:`QUICK_STEPS` weeks;
the region sweeps are left out. The seeds, margins and tolerances stay those of the full study.

After every fact is evaluated, the verdicts of all their claims are adjusted together for
multiple comparisons (:func:`adjust`, Holm). Plausibility patterns
(:mod:`~coprod_sim.validation.plausibility`) set model figures beside published ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coprod_sim import provenance
from coprod_sim.experiments.engine import run_experiment
from coprod_sim.experiments.spec import Experiment, load_experiment
from coprod_sim.validation.checks import Check, holm, region
from coprod_sim.validation.facts import FACTS, Fact, StudyData
from coprod_sim.validation.plausibility import PLAUSIBILITY_IDS, run_patterns
from coprod_sim.validation.reductions import Reduction, run_reductions

QUICK_REPLICATIONS = 8
#: The CI subset runs at most this many weeks: the long specs (facts 5 and 9) shortened.
QUICK_STEPS = 104
# Inside the package, so that an installed ``coprod validate`` finds them from any folder.
SPECS = Path(__file__).parent / "specs"


class StudyError(RuntimeError):
    """A sweep of the study did not finish, or its results cannot be read by the checks;
    finished runs are kept for a re-run. ``interrupted``: Ctrl-C or SIGTERM stopped it."""

    def __init__(self, message: str, interrupted: bool = False) -> None:
        super().__init__(message)
        self.interrupted = interrupted


class StudyInputError(ValueError):
    """The study's specs are missing; nothing was run or written."""


@dataclass
class RegionResult:
    """A region check's contrast in every cell of the region sweep's moderators."""

    id: str  # "fact1.region.patient_originated"
    claim: str
    table: pd.DataFrame


@dataclass
class FactResult:
    fact: Fact
    checks: dict[str, Check]  # by id ("fact1.patient_originated"), in the fact's order
    regions: list[RegionResult] = field(default_factory=list)


@dataclass
class Study:
    out: Path
    specs: Path
    quick: bool
    reductions: list[Reduction]
    facts: list[FactResult]
    data: StudyData
    seconds: dict[str, float]  # wall time of each part, for the report
    environment: dict[str, str]
    runs: tuple[int, int] = (0, 0)  # (run by this call, planned in all): a re-run resumes
    plausibility: list[Check] = field(default_factory=list)  # figures beside published ones
    # Held out: each fact's main spec again, every replication on its own posterior draw.
    posterior: Path | None = None
    posterior_facts: list[FactResult] = field(default_factory=list)

    def checks(self) -> pd.DataFrame:
        """Every check of the study, one row each; ``id`` is a fact check's id (None for
        the reductions' checks)."""
        rows = [{"id": None, **c.row()} for r in self.reductions for c in r.checks]
        rows += [{"id": i, **c.row()} for f in self.facts for i, c in f.checks.items()]
        rows += [
            {"id": f"plausibility.{k}", **c.row()}
            for k, c in zip(PLAUSIBILITY_IDS, self.plausibility, strict=True)
        ]
        return pd.DataFrame(rows)

    @property
    def claims(self) -> list[Check]:
        """The checks adjusted together for multiple comparisons: every fact's claims."""
        return [c for f in self.facts for c in f.checks.values() if c.kind in ("fact", "mechanism")
                and c.df > 0]  # fmt: skip


def spec_names(quick: bool) -> list[str]:
    names = [fact.spec for fact in FACTS]
    if not quick:
        names += [fact.region_spec for fact in FACTS if fact.region_spec]
    return names


def load_study(
    specs: Path,
    quick: bool,
    replications: int | None = None,
    posterior: Path | None = None,
    names: list[str] | None = None,
) -> dict[str, Experiment]:
    """Every spec of the study (or those ``names``), read and checked; quick: at most
    ``replications`` (QUICK_REPLICATIONS by default) replications and QUICK_STEPS weeks
    each; with ``posterior``, each replication on its own draw from it."""
    cap = replications or QUICK_REPLICATIONS
    if not specs.is_dir():
        raise StudyInputError(
            f"specs = {specs}: not a folder; expected the folder of the study's specs, "
            f"{', '.join(f'{n}.toml' for n in spec_names(quick)[:2])}, … (as in {SPECS})"
        )
    missing = [n for n in spec_names(quick) if not (specs / f"{n}.toml").is_file()]
    if missing:
        raise StudyInputError(
            f"specs = {specs}: no {', '.join(f'{n}.toml' for n in missing)} there; the study "
            f"needs one spec per fact and region sweep (see {SPECS})"
        )
    experiments = {}
    for name in names or spec_names(quick):
        experiment = load_experiment(specs / f"{name}.toml", posterior=posterior)
        if quick and (experiment.spec.replications > cap or experiment.spec.steps > QUICK_STEPS):
            experiment = load_experiment(
                specs / f"{name}.toml",
                replications=min(experiment.spec.replications, cap),
                steps=min(experiment.spec.steps, QUICK_STEPS),
                posterior=posterior,
            )
        experiments[name] = experiment
    return experiments


def run_study(
    specs: Path = SPECS,
    out: Path = Path("results/validation"),
    *,
    quick: bool = False,
    workers: int | None = None,
    progress: bool = False,
    log=print,
    replications: int | None = None,
    posterior: Path | None = None,
) -> Study:
    """Run what is missing of the study into ``out`` and evaluate it (see module docstring);
    ``replications`` caps the quick subset's (a smoke run of every pipeline). With
    ``posterior`` (a ``coprod calibrate`` folder), each fact's main spec runs again with every
    replication on its own posterior draw, into ``out/posterior-<sha>/``: the facts held
    out of the calibration, checked across its posterior."""
    experiments = load_study(specs, quick, replications)  # every spec checked before running
    held_out = {}
    if posterior is not None:
        main = [fact.spec for fact in FACTS]
        held_out = load_study(specs, quick, replications, posterior=posterior, names=main)
    seconds: dict[str, float] = {}
    ran, planned = _run_all(experiments, out, workers, progress, log, seconds)
    posterior_out = None
    if held_out:
        sha = next(iter(held_out.values())).posterior["sha256"][:12]
        posterior_out = out / f"posterior-{sha}"
        more = _run_all(held_out, posterior_out, workers, progress, log, seconds, "posterior: ")
        ran, planned = ran + more[0], planned + more[1]
    started = time.perf_counter()
    reductions = run_reductions("quick" if quick else "full")
    seconds["reductions"] = time.perf_counter() - started
    log(f"canonical reductions: {seconds['reductions']:.0f} s")
    data = StudyData(out)
    facts = adjust([evaluate(fact, data, regions=not quick) for fact in FACTS])
    posterior_facts = []
    if posterior_out is not None:
        drawn = StudyData(posterior_out)
        posterior_facts = adjust([evaluate(fact, drawn, regions=False) for fact in FACTS])
    started = time.perf_counter()
    patterns = run_patterns("quick" if quick else "full")
    seconds["plausibility"] = time.perf_counter() - started
    environment = provenance.environment()
    return Study(
        out, specs, quick, reductions, facts, data, seconds, environment, (ran, planned), patterns,
        posterior, posterior_facts,
    )  # fmt: skip


def _run_all(
    experiments: dict[str, Experiment], out: Path, workers, progress, log, seconds, label=""
) -> tuple[int, int]:
    """Run (or resume) each experiment into ``out/<name>``; the runs made and planned."""
    ran = planned = 0
    for name, experiment in experiments.items():
        started = time.perf_counter()
        summary = run_experiment(
            experiment, out / name, workers=workers, progress=progress, command="coprod validate"
        )
        seconds[label + name] = time.perf_counter() - started
        ran, planned = ran + summary.completed, planned + summary.planned
        if summary.interrupted or summary.failed:
            raise StudyError(
                f"{name}: {summary.done} of {summary.planned} runs done, {summary.failed} "
                f"failed{f', stopped by {summary.stopped_by}' if summary.interrupted else ''}; "
                f"finished runs are in {out / name} and a re-run resumes",
                interrupted=summary.stopped_by_user,
            )
        log(
            f"{label}{name}: {summary.planned} runs ({summary.completed} now), "
            f"{seconds[label + name]:.0f} s"
        )
    return ran, planned


def evaluate(fact: Fact, data: StudyData, regions: bool = True) -> FactResult:
    """A fact's checks and, with ``regions``, its contrasts cell by cell over the region sweep.

    Raises :class:`StudyError` when a spec that ran does not hold what the fact reads.
    """
    with _reading(fact, data.root / fact.spec):
        checks = {f"{fact.id}.{key}": check for key, check in fact.checks(data).items()}
    result = FactResult(fact, checks)
    if regions and fact.region_spec and fact.regions:
        name = fact.region_spec
        with _reading(fact, data.root / name):
            for key, check in fact.regions(data).items():
                data.spec(name).need_factors(check.moderators)
                table = (
                    data.runs(name, *check.outcomes)
                    if check.final
                    else data.series(name, *check.outcomes, weeks=check.weeks)
                )
                found = region(
                    table, check.moderators, check.measure, check.direction, check.reference,
                    check.margin,
                )  # fmt: skip
                result.regions.append(RegionResult(f"{fact.id}.region.{key}", check.claim, found))
    return result


def adjust(facts: list[FactResult]) -> list[FactResult]:
    """Every fact's checks with their verdicts adjusted for multiple comparisons across the
    whole study (Holm, see :func:`~coprod_sim.validation.checks.holm`)."""
    ids = [(i, key) for i, f in enumerate(facts) for key in f.checks]
    adjusted = holm([facts[i].checks[key] for i, key in ids])
    for (i, key), check in zip(ids, adjusted, strict=True):
        facts[i].checks[key] = check
    return facts


@contextmanager
def _reading(fact: Fact, folder: Path) -> Iterator[None]:
    """Re-raise what reading a fact's results raises (a spec that no longer holds what the
    fact reads, a folder that is not there) as a :class:`StudyError` naming the fact and
    the results folder."""
    try:
        yield
    except (KeyError, ValueError) as error:
        detail = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise StudyError(f"{fact.subject} cannot be evaluated from {folder}: {detail}") from error
