"""Plan a collaborative: weigh several designs across futures nobody can predict.

The page builds a plan (:mod:`coprod_sim.planning`) from its controls: two to six designs
(each the CaReQIC-like collaborative with its main choices set, starting from a preset),
the unit costs, one or two targets, the ranges of what the planner does not know, the
number of futures and replications, the decision rule and the smallest differences that
matter. Every change is checked at once with ``parse_plan`` and ``resolve_plan``; a bad
setting is shown beside its control, as ``field = value: what is allowed``, and nothing runs
until it is mended.

**Run the plan** writes the plan as TOML into the session's own temporary folder and runs
``python -m coprod_sim plan SPEC --out DIR`` there as a subprocess in its own process group
(the app never imports the CLI). A background thread follows it: the progress bar counts
the rows of ``DIR/experiment/runs/*.parquet`` (completed runs) against the plan's runs.
**Cancel** sends SIGTERM to the process group, which the command handles as Ctrl-C (finished
runs are kept, exit 130), and SIGKILL if anything is still there after a grace period; a
later run with the same settings resumes in the same folder. When the plan is complete the
page shows the ranking (``designs.csv``), the robust choice, the differences from the
reference with their verdicts and people (``differences.csv``), where each design misses its
targets (PRIM, :func:`coprod_sim.planning.discovery.failure_box` on ``futures.parquet``) and
offers the report (``report.html``) for download.

Each browser session has its own state and folder; the folder, and any plan still running
in it, go when the session closes (and when the server stops).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import html
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
import solara.lab
import tomli_w

from app import charts, state
from app.components import Chart, ControlInput, StaleWarning
from app.info import PAGES, InfoPanel
from coprod_sim import Problem, load_scenario, preset_names
from coprod_sim.errors import PlanError
from coprod_sim.planning.run import completed_runs
from coprod_sim.planning.spec import Plan, parse_plan, plausible_range, resolve_plan

#: The collaborative every design starts from (a design sets its main choices).
BASE = "careqic"
MIN_DESIGNS, MAX_DESIGNS = 2, 6
MAX_TARGETS = 2
#: The design levers shown per design (beside ground rules, a checkbox).
LEVER_FIELDS = ("power_sharing", "inclusion", "team_size", "representative_seats", "feedback_loop")
#: Where the plan's problems come from, for messages that name no control.
SOURCE = "the plan page"
#: Seconds a cancelled plan has to stop after SIGTERM before its process group is killed.
CANCEL_GRACE = 20.0
POLL_SECONDS = 0.3

#: Outcomes a target may be set on, in words (all shares of patients or 0-1 scales).
TARGET_OUTCOMES = {
    "key_suppression": "viral suppression among key populations",
    "key_retention": "retention in care among key populations",
    "suppression": "viral suppression among all patients",
    "retention": "retention in care among all patients",
    "patient_trust": "patients' trust in providers",
    "equity_gap": "the equity gap between groups",
}
TARGET_KINDS = {
    "at_least": "at least",
    "at_most": "at most",
    "change": "a change since week 0 of",
}
#: What regret is counted in: people.
OBJECTIVES = {
    "key_suppressed": "people in key populations with a suppressed viral load",
    "suppressed": "people with a suppressed viral load",
    "key_in_care": "people in key populations kept in care",
    "in_care": "people kept in care",
}
#: Every outcome the plan's tables name, in words.
OUTCOME_WORDS = {**TARGET_OUTCOMES, **OBJECTIVES}
#: The rules, in words.
RULES = {
    "satisficing": "most futures meeting every target (satisficing)",
    "regret": "least worst-case regret (minimax regret)",
}
#: The uncertain context offered: the field and what it is, in words.
CONTEXT_FIELDS = {
    "initial_trust": "Patients' initial trust in providers",
    "authority_support": "Managers' support for the work",
    "groups.sex_workers.reachability": "How easily staff reach sex workers",
    "groups.transgender.stigma_factor": "How much more stigma transgender people meet",
}
DEFAULT_CONTEXT_ON = ("initial_trust", "authority_support")
#: The unit costs, in words (the plan's currency; zero leaves an item out).
COST_ITEMS = {
    "staff_hour": "Staff time, per hour",
    "meeting_hours": "Hours per team meeting",
    "stipend_per_meeting": "Stipend per representative per meeting",
    "learning_session": "Learning session, per site",
    "coaching_per_site_week": "Coaching, per site and week of support",
    "preparation_per_site": "Preparation (ground rules, sessions), per site",
}
DEFAULT_COSTS = {
    "staff_hour": 15.0,
    "meeting_hours": 1.5,
    "stipend_per_meeting": 25.0,
    "learning_session": 800.0,
    "coaching_per_site_week": 40.0,
    "preparation_per_site": 300.0,
}
#: Outcomes with a minimum important difference control (the objective's is added).
MINIMUM_OUTCOMES = tuple(TARGET_OUTCOMES)


# ---------------------------------------------------------------------------------------------
# The plan's settings
# ---------------------------------------------------------------------------------------------
@functools.cache
def _base_values() -> dict[str, Any]:
    return load_scenario(BASE).to_dict()


@functools.cache
def design_presets() -> tuple[str, ...]:
    """The presets a design may start from: those of the base's sites and with no crisis
    (a crisis is part of the context, not of a design)."""
    base = _base_values()
    return tuple(
        name
        for name in preset_names()
        if (values := load_scenario(name).to_dict())["sites"] == base["sites"]
        and values.get("crisis_week") is None
    )


@functools.cache
def preset_overrides(preset: str) -> dict[str, Any]:
    """What a preset changes in the base scenario (its name and description left out)."""
    base, values = _base_values(), load_scenario(preset).to_dict()
    return {
        k: v for k, v in values.items() if k not in ("name", "description") and base.get(k) != v
    }


@dataclass(frozen=True)
class DesignChoice:
    """One design: its name, the preset it starts from and the levers changed since."""

    name: str
    preset: str
    changes: tuple[tuple[str, Any], ...] = ()

    def overrides(self) -> dict[str, Any]:
        """The design as overrides of the base scenario."""
        return {**preset_overrides(self.preset), **dict(self.changes)}

    def values(self) -> dict[str, Any]:
        """Every field's value (as set; not validated)."""
        return {**_base_values(), **self.overrides()}

    def words(self) -> str:
        values = self.values()
        shown = {k: values.get(k) for k in (*LEVER_FIELDS, "ground_rules")}
        return state.describe_design(shown)


@dataclass(frozen=True)
class TargetChoice:
    """A target: an outcome at least, at most, or changed by a value, by a week."""

    outcome: str = "key_suppression"
    kind: str = "at_least"
    value: float = 0.70
    week: int = 52

    def words(self) -> str:
        what = TARGET_OUTCOMES.get(self.outcome, self.outcome)
        value = f"{self.value:+.3g}" if self.kind == "change" else f"{self.value:.3g}"
        return f"{what} {TARGET_KINDS.get(self.kind, self.kind)} {value} by week {self.week}"


@dataclass(frozen=True)
class Uncertain:
    """A field of the context nobody knows: whether it varies across futures, and its range."""

    field: str
    on: bool
    low: float
    high: float


def plausible_ranges() -> dict[str, tuple[float, float]]:
    """The parameter table's plausible range of each context field: what an empty range
    (``field = {}``) means to the planning layer."""
    return {name: r for name in CONTEXT_FIELDS if (r := plausible_range(name)) is not None}


def default_context() -> tuple[Uncertain, ...]:
    ranges = plausible_ranges()
    return tuple(
        Uncertain(name, name in DEFAULT_CONTEXT_ON, *ranges.get(name, (0.0, 1.0)))
        for name in CONTEXT_FIELDS
    )


def default_minimums() -> dict[str, float]:
    """The default minimum important difference of each outcome (assumptions)."""
    out = {key: state.default_minimum(key, 0.02) for key in MINIMUM_OUTCOMES}
    out.update({key: state.default_minimum(key, 50.0) for key in OBJECTIVES})
    return out


DEFAULT_DESIGNS = (
    DesignChoice("staff-led", "staff-led"),
    DesignChoice("tokenistic", "tokenistic"),
    DesignChoice("careqic", "careqic"),
)

# Session state: one value per browser session (see app.state).
plan_name = solara.reactive("my-collaborative")
designs = solara.reactive(DEFAULT_DESIGNS)
targets: solara.Reactive[tuple[TargetChoice, ...]] = solara.reactive((TargetChoice(),))
currency = solara.reactive("USD")
costs = solara.reactive(tuple(DEFAULT_COSTS.items()))
context: solara.Reactive[tuple[Uncertain, ...] | None] = solara.reactive(None)  # None: default
futures = solara.reactive(8)
replications = solara.reactive(2)
steps = solara.reactive(52)
seed = solara.reactive(1)
rule = solara.reactive("satisficing")
objective = solara.reactive("key_suppressed")
minimums: solara.Reactive[tuple[tuple[str, float], ...]] = solara.reactive(())
#: Problems found when Run was pressed (nothing ran), shown by the button.
refused: solara.Reactive[tuple[Problem, ...]] = solara.reactive(())
#: The run under way: (runs done, runs planned, phase), updated by the background thread.
progress: solara.Reactive[tuple[int, int, str]] = solara.reactive((0, 0, ""))
#: This session's folder and plan process (see :class:`Workspace`).
workspace: solara.Reactive[Workspace | None] = solara.reactive(None)


def context_rows() -> tuple[Uncertain, ...]:
    return context.value if context.value is not None else default_context()


def minimum_of(key: str) -> float:
    return dict(minimums.value).get(key, default_minimums()[key])


def update_design(index: int, *, name: str | None = None, preset: str | None = None, **changes):
    """Change design ``index``: its name, the preset it starts from (which clears the
    levers changed since), or levers."""
    chosen = list(designs.value)
    choice = chosen[index]
    if preset is not None:
        choice = replace(choice, preset=preset, changes=())
    if name is not None:
        choice = replace(choice, name=name.strip())
    if changes:
        merged = {**dict(choice.changes), **changes}
        choice = replace(choice, changes=tuple(sorted(merged.items())))
    chosen[index] = choice
    designs.set(tuple(chosen))


def add_design() -> None:
    chosen = designs.value
    if len(chosen) >= MAX_DESIGNS:
        return
    names = {d.name for d in chosen}
    preset = next((p for p in design_presets() if p not in names), design_presets()[0])
    name = preset if preset not in names else f"design {len(chosen) + 1}"
    designs.set((*chosen, DesignChoice(name, preset)))


def remove_design(index: int) -> None:
    if len(designs.value) > MIN_DESIGNS:
        designs.set(tuple(d for i, d in enumerate(designs.value) if i != index))


def update_target(index: int, **changes: Any) -> None:
    chosen = list(targets.value)
    chosen[index] = replace(chosen[index], **changes)
    targets.set(tuple(chosen))


def add_target() -> None:
    if len(targets.value) < MAX_TARGETS:
        targets.set((*targets.value, TargetChoice("key_retention", "at_least", 0.56, steps.value)))


def remove_target(index: int) -> None:
    if len(targets.value) > 1:
        targets.set(tuple(t for i, t in enumerate(targets.value) if i != index))


def update_context(index: int, **changes: Any) -> None:
    rows = list(context_rows())
    rows[index] = replace(rows[index], **changes)
    context.set(tuple(rows))


def set_cost(item: str, value: float | None) -> None:
    if value is not None:
        chosen = dict(costs.value)
        chosen[item] = float(value)
        costs.set(tuple(chosen.items()))


def set_minimum(key: str, value: float | None) -> None:
    if value is not None:
        chosen = dict(minimums.value)
        chosen[key] = float(value)
        minimums.set(tuple(sorted(chosen.items())))


def target_key(index: int) -> str:
    return f"target_{index + 1}"


def plan_data() -> dict[str, Any]:
    """The plan, as its TOML file would hold it, from this session's settings."""
    data_targets = {}
    for i, target in enumerate(targets.value):
        data_targets[target_key(i)] = {
            "outcome": target.outcome,
            target.kind: float(target.value),
            "week": int(target.week),
        }
    kept = {k: minimum_of(k) for k in MINIMUM_OUTCOMES}
    kept[objective.value] = minimum_of(objective.value)
    context_table: dict[str, Any] = {"futures": int(futures.value)}
    for row in context_rows():
        if row.on:
            context_table[row.field] = {"low": float(row.low), "high": float(row.high)}
    chosen = designs.value
    return {
        "name": plan_name.value,
        "description": (
            f"{len(chosen)} designs of the {BASE} collaborative, planned in the app, weighed "
            f"across {futures.value} futures."
        ),
        "scenario": BASE,
        "replications": int(replications.value),
        "steps": int(steps.value),
        "seed": int(seed.value),
        "designs": {d.name: {"description": d.words(), "set": d.overrides()} for d in chosen},
        "costs": {"currency": currency.value, **dict(costs.value)},
        "targets": data_targets,
        "context": context_table,
        "decision": {
            "rule": rule.value,
            "objective": objective.value,
            "minimum_important": kept,
        },
    }


def _own_problems(chosen: Sequence[DesignChoice]) -> list[Problem]:
    """What the plan cannot see: names the page lost to a clash (a plan's designs are a
    table by name). The plan itself names each design's settings and each context range."""
    problems = []
    seen: set[str] = set()
    for d in chosen:
        if not d.name:
            problems.append(Problem("designs..name", d.name, "give each design a name"))
        elif d.name in seen:
            problems.append(
                Problem(f"designs.{d.name}.name", d.name, "another design has this name")
            )
        seen.add(d.name)
    return problems


@functools.lru_cache(maxsize=64)
def _check(text: str) -> tuple[Plan | None, tuple[Problem, ...]]:
    data = json.loads(text)
    try:
        plan = resolve_plan(parse_plan(data, SOURCE), SOURCE)
    except PlanError as error:
        return None, tuple(error.problems)
    return plan, ()


def check_plan(data: Mapping[str, Any] | None = None) -> tuple[Plan | None, tuple[Problem, ...]]:
    """The plan resolved, or the problems that keep it from running (every one of them)."""
    data = plan_data() if data is None else data
    own = _own_problems(designs.value)
    plan, problems = _check(json.dumps(data))  # not sorted: the designs keep their order
    if own:
        shown = {(p.field, repr(p.value), p.allowed) for p in own}
        problems = tuple(p for p in problems if (p.field, repr(p.value), p.allowed) not in shown)
        return None, (*own, *problems)
    return plan, problems


def _matches(field: str, prefix: str) -> bool:
    return field == prefix or field.startswith((prefix + ".", prefix + ":"))


def problems_for(problems: Sequence[Problem], *prefixes: str) -> list[Problem]:
    return [p for p in problems if any(_matches(p.field, x) for x in prefixes)]


def placed_prefixes() -> list[str]:
    """The fields that have a control on the page (their problems are shown beside it)."""
    out = [f"designs.{d.name}" for d in designs.value] + ["designs..name"]
    out += [f"targets.{target_key(i)}" for i in range(len(targets.value))]
    out += [f"costs.{k}" for k in (*COST_ITEMS, "currency")]
    out += [f"context.{k}" for k in CONTEXT_FIELDS] + ["context.futures", "context"]
    out += ["replications", "steps", "seed", "name", "design point"]
    out += [f"decision.minimum_important.{k}" for k in (*MINIMUM_OUTCOMES, *OBJECTIVES)]
    return out


def unplaced(problems: Sequence[Problem]) -> list[Problem]:
    prefixes = placed_prefixes()
    return [p for p in problems if not any(_matches(p.field, x) for x in prefixes)]


# ---------------------------------------------------------------------------------------------
# Running a plan: the session's folder and the subprocess
# ---------------------------------------------------------------------------------------------
_LIVE: weakref.WeakSet[Workspace] = weakref.WeakSet()


class Workspace:
    """A session's temporary folder, and the ``coprod plan`` process running in it, if any.

    Each plan runs into a folder named by its fingerprint, so the same settings run again
    resume (or find their results), and other settings get a folder of their own.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="coprod-plan-"))
        self.process: subprocess.Popen | None = None
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self.closed = False
        _LIVE.add(self)

    def paths(self, key: str) -> tuple[Path, Path, Path]:
        """The spec, the plan's folder and the command's log for plan ``key``."""
        return self.folder / f"{key}.toml", self.folder / key, self.folder / f"{key}.log"

    def start(self, key: str, spec_text: str) -> subprocess.Popen:
        """Write the spec and start ``python -m coprod_sim plan`` in a process group of its
        own (so that Cancel reaches its worker processes too)."""
        with self._lock:
            if self.closed:
                raise RuntimeError("this session has closed")
            spec, out, log = self.paths(key)
            spec.write_text(spec_text, encoding="utf-8")
            self.cancelled.clear()
            command = [sys.executable, "-m", "coprod_sim", "plan", str(spec), "--out", str(out)]
            with log.open("wb") as handle:
                self.process = subprocess.Popen(
                    command,
                    cwd=self.folder,
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            return self.process

    def cancel(self, grace: float = CANCEL_GRACE) -> None:
        """Stop the plan under way: SIGTERM to its process group (the command stops as after
        Ctrl-C, keeping what finished), then SIGKILL to whatever is left after ``grace``."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        self.cancelled.set()
        _signal_group(process.pid, signal.SIGTERM)

        def reap() -> None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
            _kill_group_if_running(process)

        threading.Thread(target=reap, name="coprod-plan-cancel", daemon=True).start()

    def close(self) -> None:
        """End any plan still running (waiting for it) and delete the folder."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        process = self.process
        if process is not None and process.poll() is None:
            self.cancelled.set()
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=CANCEL_GRACE)
            _kill_group_if_running(process)
        shutil.rmtree(self.folder, ignore_errors=True)


def _signal_group(pgid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, number)


def _kill_group_if_running(process: subprocess.Popen) -> None:
    """SIGKILL to the command's process group, while its leader (the command) still runs:
    only then is the group surely this plan's. Its workers end with it either way (they
    ask Linux to kill them when their parent dies)."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


@atexit.register
def _close_all() -> None:  # the server stops: no plan outlives it, no folder is left
    for space in list(_LIVE):
        space.close()


def session_workspace() -> Workspace:
    """This session's workspace, made on first use and closed with the session."""
    if workspace.value is not None and not workspace.value.closed:
        return workspace.value
    space = Workspace()
    from solara.server import kernel_context

    if kernel_context.has_current_context():
        kernel_context.get_current_context().on_close(space.close)
    workspace.set(space)
    return space


def runs_done(out: Path) -> int:
    """Completed runs in a plan's folder (the planning layer's count, for progress)."""
    return completed_runs(out)


@dataclass(eq=False)  # compared by identity: its tables have no single truth value
class PlanOutcome:
    """A plan's run as the page shows it: its tables when complete, or how far it got."""

    name: str
    fingerprint: str
    planned: int
    done: int
    cancelled: bool = False
    folder: Path | None = None
    report: Path | None = None
    spec_text: str = ""
    designs: pd.DataFrame = field(default_factory=pd.DataFrame)
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    over_time: pd.DataFrame = field(default_factory=pd.DataFrame)
    choice: str = ""
    failures: dict[str, str] = field(default_factory=dict)
    rule: str = "satisficing"
    objective: str = "key_suppressed"
    currency: str = "USD"
    reference: str = ""
    targets: tuple[str, ...] = ()
    target_outcomes: tuple[str, ...] = ()
    futures: int = 0
    words: dict[str, str] = field(default_factory=dict)


class PlanRunError(RuntimeError):
    """The command stopped with an error; the message holds the end of its output."""


@solara.lab.task(prefer_threaded=True)
def plan_run(space: Workspace, plan: Plan, spec_text: str, words: dict[str, str]) -> PlanOutcome:
    """Run the plan in a subprocess and follow it (in a background thread)."""
    key = plan.fingerprint()[:16]
    _, out, log = space.paths(key)
    planned = plan.n_runs
    progress.set((runs_done(out), planned, "starting"))
    if not (out / "report.html").exists():
        process = space.start(key, spec_text)
        while process.poll() is None:
            done = runs_done(out)
            phase = "analysing" if done >= planned else "running"
            if space.cancelled.is_set():
                phase = "cancelling"
            progress.set((done, planned, phase))
            time.sleep(POLL_SECONDS)
        done = runs_done(out)
        if space.cancelled.is_set():
            progress.set((done, planned, "cancelled"))
            return PlanOutcome(plan.spec.name, plan.fingerprint(), planned, done, cancelled=True)
        if process.returncode != 0 or not (out / "report.html").exists():
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise PlanRunError(f"the plan stopped (exit code {process.returncode}): {tail}")
    progress.set((planned, planned, "reading"))
    return load_outcome(plan, out, spec_text, words)


def load_outcome(plan: Plan, out: Path, spec_text: str = "", words=None) -> PlanOutcome:
    """A complete plan's tables, its robust choice and where each design fails."""
    report = out / "report.html"
    designs_table = pd.read_csv(out / "designs.csv")
    cells = pd.read_parquet(out / "futures.parquet")
    spec = plan.spec
    return PlanOutcome(
        name=spec.name,
        fingerprint=plan.fingerprint(),
        planned=plan.n_runs,
        done=plan.n_runs,
        folder=out,
        report=report,
        spec_text=spec_text,
        designs=designs_table,
        differences=pd.read_csv(out / "differences.csv"),
        outcomes=pd.read_csv(out / "outcomes.csv"),
        over_time=pd.read_csv(out / "over_time.csv"),
        choice=robust_choice(out),
        failures=failure_sentences(cells, plan.context_fields),
        rule=spec.decision.rule,
        objective=spec.decision.objective,
        currency=spec.costs.currency,
        reference=plan.reference,
        targets=tuple(_target_words(t) for t in spec.targets.values()),
        target_outcomes=tuple(dict.fromkeys(t.outcome for t in spec.targets.values())),
        futures=spec.context.futures,
        words=dict(words or {}),
    )


def _target_words(target: Any) -> str:
    kind = next(k for k in ("at_least", "at_most", "change") if getattr(target, k) is not None)
    return TargetChoice(target.outcome, kind, getattr(target, kind), target.week).words()


def robust_choice(out: Path) -> str:
    """The robust choice, as the plan wrote it (``choice.json``)."""
    return str(json.loads((out / "choice.json").read_text(encoding="utf-8"))["design"])


#: The context fields as nouns, for sentences on where a design fails.
CONTEXT_NOUNS = {
    "initial_trust": "patients' initial trust",
    "authority_support": "managers' support",
    "groups.sex_workers.reachability": "how easily staff reach sex workers",
    "groups.transgender.stigma_factor": "the stigma transgender people meet (as a factor)",
}


def context_words(name: str) -> str:
    return CONTEXT_NOUNS.get(name, name)


def failure_sentences(cells: pd.DataFrame, fields: Sequence[str]) -> dict[str, str]:
    """Per design, where in the context it misses its targets, in words (PRIM's box)."""
    from coprod_sim.planning.discovery import failure_box

    out = {}
    for design, mine in cells.groupby("scenario", sort=False):
        mine = mine.sort_values("future")
        fails = ~mine["targets_met"].to_numpy(dtype=bool)
        n, missed = len(fails), int(fails.sum())
        if missed == 0:
            out[str(design)] = (
                f"meets every target in all {n} futures: there is no failure to locate."
            )
            continue
        if missed == n:
            out[str(design)] = f"misses the targets in all {n} futures: the failure is everywhere."
            continue
        box = failure_box(str(design), mine[list(fields)], fails)
        if box is None or not box.limits:
            out[str(design)] = (
                f"misses the targets in {missed} of {n} futures, spread across the context "
                "(no part of it stands out)."
            )
            continue
        parts = box.conditions(context_words, "{:.2f}")
        out[str(design)] = (
            f"misses the targets in {missed} of {n} futures, mostly when {' and '.join(parts)} "
            f"({box.coverage:.0%} of its misses lie there, and {box.density:.0%} of the "
            "futures there are misses)."
        )
    return out


def start_run() -> None:
    """Run the plan (the click on Run the plan), or refuse with its problems."""
    data = plan_data()
    plan, problems = check_plan(data)
    if problems or plan is None:
        refused.set(tuple(problems))
        return
    refused.set(())
    words = {d.name: d.words() for d in designs.value}
    plan_run(session_workspace(), plan, tomli_w.dumps(data), words)


def cancel_run() -> None:
    space = workspace.value
    if space is not None:
        space.cancel()


# ---------------------------------------------------------------------------------------------
# Pieces of the page
# ---------------------------------------------------------------------------------------------
@solara.component
def Problems(problems: Sequence[Problem], name: str) -> None:
    """A control's problems beside it: 'field = value: what is allowed'."""
    if not problems:
        return
    with solara.Div(classes=["plan-problem", f"plan-problem-{name}"]):
        for problem in problems:
            solara.Text(
                f"⚠ {problem}",
                style={"display": "block", "color": "#b00020", "font-size": "0.85em"},
            )


def _note(text: str, classes: Sequence[str] = ()) -> None:
    solara.Text(
        text,
        classes=list(classes),
        style={"display": "block", "font-size": "0.85em", "color": "#444", "margin": "4px 0"},
    )


@solara.component
def DesignCard(index: int, choice: DesignChoice, problems: Sequence[Problem]) -> None:
    """One design: its name, the preset it starts from, its levers, and the design in words."""
    values = choice.values()
    with solara.Card(f"Design {index + 1}", classes=["plan-design", f"plan-design-{index}"]):
        solara.InputText(
            "Name",
            value=choice.name,
            on_value=lambda name: update_design(index, name=name or ""),
            dense=True,
        )
        solara.Select(
            "Start from",
            value=choice.preset,
            values=list(design_presets()),
            on_value=lambda preset: update_design(index, preset=preset),
        )
        for lever in LEVER_FIELDS:
            ControlInput(
                state.CONTROL_BY_FIELD[lever],
                values[lever],
                on_value=lambda new, lever=lever: update_design(index, **{lever: new}),
            )
        solara.Checkbox(
            label="Ground rules and preparatory sessions",
            value=bool(values["ground_rules"]),
            on_value=lambda on: update_design(index, ground_rules=bool(on)),
        )
        _note(choice.words(), ["plan-design-words"])
        Problems(
            problems_for(problems, f"designs.{choice.name}", "designs..name"), f"design-{index}"
        )
        if len(designs.value) > MIN_DESIGNS:
            solara.Button(
                "Remove this design",
                text=True,
                color="secondary",
                on_click=lambda: remove_design(index),
            )


@solara.component
def TargetCard(index: int, target: TargetChoice, problems: Sequence[Problem]) -> None:
    """A target in words, and its outcome, kind, value and week."""
    with solara.Div(classes=["plan-target", f"plan-target-{index}"]):
        solara.Select(
            "Outcome",
            value=TARGET_OUTCOMES[target.outcome],
            values=list(TARGET_OUTCOMES.values()),
            on_value=lambda words: update_target(
                index, outcome=next(k for k, v in TARGET_OUTCOMES.items() if v == words)
            ),
        )
        with solara.Row():
            solara.Select(
                "Kind",
                value=TARGET_KINDS[target.kind],
                values=list(TARGET_KINDS.values()),
                on_value=lambda words: update_target(
                    index, kind=next(k for k, v in TARGET_KINDS.items() if v == words)
                ),
            )
            solara.InputFloat(
                "Value (a share, 0–1)",
                value=target.value,
                on_value=lambda v: v is not None and update_target(index, value=float(v)),
                classes=["plan-target-value"],
            )
            solara.InputInt(
                "By week",
                value=target.week,
                on_value=lambda v: v is not None and update_target(index, week=int(v)),
                classes=["plan-target-week"],
            )
        _note(f"Target {index + 1}: {target.words()}.")
        Problems(problems_for(problems, f"targets.{target_key(index)}"), f"target-{index}")
        if len(targets.value) > 1:
            solara.Button("Remove this target", text=True, on_click=lambda: remove_target(index))


@solara.component
def Settings(problems: Sequence[Problem]) -> None:
    """Targets, costs, the uncertain context, the runs and the decision rule."""
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start", "gap": "8px"}):
        with solara.Card("Targets", style={"width": "420px"}, classes=["plan-targets"]):
            for i, target in enumerate(targets.value):
                TargetCard(i, target, problems)
            if len(targets.value) < MAX_TARGETS:
                solara.Button("Add a second target", outlined=True, on_click=add_target)
        with solara.Card("Unit costs", style={"width": "340px"}, classes=["plan-costs"]):
            solara.InputText("Currency", value=currency.value, on_value=currency.set, dense=True)
            chosen = dict(costs.value)
            for item, words in COST_ITEMS.items():
                solara.InputFloat(
                    words,
                    value=chosen[item],
                    on_value=lambda v, item=item: set_cost(item, v),
                    classes=[f"plan-cost-{item}"],
                    dense=True,
                )
                Problems(problems_for(problems, f"costs.{item}"), f"cost-{item}")
            Problems(problems_for(problems, "costs.currency"), "cost-currency")
        with solara.Card(
            "What you do not know", style={"width": "420px"}, classes=["plan-context"]
        ):
            _note(
                "Each future draws these from their ranges (a Latin hypercube); the ranges "
                "start as the parameter table's plausible ones."
            )
            for i, row in enumerate(context_rows()):
                with solara.Div(classes=[f"plan-context-{i}"]):
                    solara.Checkbox(
                        label=CONTEXT_FIELDS[row.field],
                        value=row.on,
                        on_value=lambda on, i=i: update_context(i, on=bool(on)),
                    )
                    if row.on:
                        with solara.Row():
                            solara.InputFloat(
                                "from",
                                value=row.low,
                                on_value=lambda v, i=i: (
                                    v is not None and update_context(i, low=float(v))
                                ),
                                dense=True,
                            )
                            solara.InputFloat(
                                "to",
                                value=row.high,
                                on_value=lambda v, i=i: (
                                    v is not None and update_context(i, high=float(v))
                                ),
                                dense=True,
                            )
                    Problems(problems_for(problems, f"context.{row.field}"), f"context-{i}")
            Problems(
                problems_for(problems, "design point")
                + [p for p in problems if p.field == "context"],
                "context",
            )
        with solara.Card("Runs and the decision", style={"width": "380px"}, classes=["plan-runs"]):
            solara.InputText("Plan name", value=plan_name.value, on_value=plan_name.set, dense=True)
            Problems(problems_for(problems, "name"), "name")
            counts = (
                ("Futures (draws of what you do not know)", futures, "context.futures"),
                ("Replications per design and future", replications, "replications"),
                ("Weeks", steps, "steps"),
                ("Seed", seed, "seed"),
            )
            for label, value, key in counts:
                solara.InputInt(
                    label,
                    value=value.value,
                    on_value=lambda v, value=value: v is not None and value.set(int(v)),
                    classes=[f"plan-{key.split('.')[-1]}"],
                    dense=True,
                )
                Problems(problems_for(problems, key), key.split(".")[-1])
            solara.Select(
                "Rule",
                value=RULES[rule.value],
                values=list(RULES.values()),
                on_value=lambda words: rule.set(next(k for k, v in RULES.items() if v == words)),
            )
            solara.Select(
                "Regret counted in",
                value=OBJECTIVES[objective.value],
                values=list(OBJECTIVES.values()),
                on_value=lambda words: objective.set(
                    next(k for k, v in OBJECTIVES.items() if v == words)
                ),
            )
            _note(
                "The smallest difference that matters, per outcome (a share of 0.02 is two "
                "percentage points; the defaults are assumptions):"
            )
            for key in (*MINIMUM_OUTCOMES, objective.value):
                solara.InputFloat(
                    OUTCOME_WORDS[key],
                    value=minimum_of(key),
                    on_value=lambda v, key=key: set_minimum(key, v),
                    classes=[f"plan-mid-{key}"],
                    dense=True,
                )
                Problems(problems_for(problems, f"decision.minimum_important.{key}"), f"mid-{key}")


@solara.component
def RunBar(plan: Plan | None, problems: Sequence[Problem]) -> None:
    """Run and Cancel, the size of the plan, and its progress while it runs."""
    running = plan_run.pending
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "12px"}):
        solara.Button(
            "Run the plan",
            color="primary",
            disabled=running,
            on_click=start_run,
            classes=["plan-run"],
        )
        solara.Button(
            "Cancel",
            color="error",
            outlined=True,
            disabled=not running,
            on_click=cancel_run,
            classes=["plan-cancel"],
        )
        if plan is not None:
            n = len(plan.designs)
            _note(
                f"{n} designs × {plan.futures} futures × {plan.spec.replications} replications "
                f"= {plan.n_runs:,} runs of {plan.spec.steps} weeks.",
                ["plan-size"],
            )
        else:
            solara.Text(
                f"{len(problems)} setting(s) need mending before the plan can run.",
                classes=["plan-not-ready"],
                style={"color": "#b00020"},
            )
    if refused.value:
        with solara.Div(classes=["plan-refused"]):
            solara.Error(
                f"Nothing was run: {len(refused.value)} setting(s) cannot be used. Each is "
                "marked beside its control.",
                dense=True,
                icon=False,
            )
    Problems(unplaced(problems), "other")
    if running:
        RunProgress()


@solara.component
def RunProgress() -> None:
    """The progress bar: completed runs of those planned (rows in the runs parts)."""
    done, planned, phase = progress.value
    share = done / planned if planned else 0.0
    solara.ProgressLinear(
        value=100 * share if phase != "analysing" else True, classes=["plan-progress-bar"]
    )
    words = {
        "starting": f"Starting… {done} of {planned} runs done",
        "running": f"Running: {done} of {planned} runs done ({share:.0%})",
        "analysing": f"All {planned} runs done: weighing the designs and writing the report…",
        "cancelling": f"Cancelling… {done} of {planned} runs done",
        "reading": "Reading the results…",
    }
    solara.Text(words.get(phase, phase or "Starting…"), classes=["plan-progress"])


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], classes: list[str]) -> None:
    cell = "border: 1px solid #ccc; padding: 2px 6px; text-align: left"
    head = "".join(f"<th style='{cell}; background: #f3f3f3'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='{cell}'>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    solara.HTML(
        tag="table",
        unsafe_innerHTML=f"<tr>{head}</tr>{body}",
        classes=classes,
        style="border-collapse: collapse; font-size: 0.85em; margin: 6px 0",
    )


def _money(value: float, currency_name: str) -> str:
    return f"{currency_name} {value:,.0f}" if math.isfinite(value) else ""


def _number(value: Any, fmt: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return format(number, fmt) if math.isfinite(number) else ""


def _per_person(row: Any, outcome: PlanOutcome) -> str:
    """Extra cost per extra person against the reference, given only for a clear gain."""
    if row.design == outcome.reference:
        return "(the reference)"
    value = _number(getattr(row, "cost_per_extra_person", float("nan")), ",.0f")
    return f"{outcome.currency} {value}" if value else "no clear gain"


def choice_sentence(outcome: PlanOutcome) -> str:
    """The robust choice in a sentence."""
    table = outcome.designs.set_index("design")
    name = outcome.choice
    row = table.loc[name]
    how = RULES[outcome.rule]
    met = (
        f"it meets every target in {row.targets_met_share:.0%} of the {outcome.futures} futures "
        f"(95% interval {row.targets_met_low:.0%} to {row.targets_met_high:.0%})"
    )
    regret = (
        f"its worst-case regret is {row.max_regret:,.0f} "
        f"{OBJECTIVES.get(outcome.objective, outcome.objective)}"
    )
    return (
        f"Under the rule “{how}”, the robust choice is {name}: {met}, {regret}, it costs "
        f"{_money(row.cost, outcome.currency)}, and it is the choice in "
        f"{row.chosen_share:.0%} of the resampled futures."
    )


def verdict_text(verdict: str, minimum: float) -> str:
    if verdict.endswith("at least"):
        return f"{verdict} {minimum:g}" if minimum > 0 else verdict.split()[0]
    return verdict


@solara.component
def Results(outcome: PlanOutcome, stale: bool) -> None:
    """The ranking, the robust choice, the differences, where designs fail, the report."""
    if outcome.cancelled:
        solara.Warning(
            f"Cancelled after {outcome.done} of {outcome.planned} runs. The finished runs are "
            "kept in this session's folder: run the same settings again to resume.",
            classes=["plan-cancelled"],
            dense=True,
        )
        return
    solara.Markdown(f"### {html.escape(outcome.name)}: the designs weighed")
    if stale:
        StaleWarning(
            "the settings changed after this plan was run",
            "Run the plan again to update them.",
            ["plan-stale"],
        )
    solara.Text(
        choice_sentence(outcome),
        classes=["plan-choice"],
        style={"display": "block", "font-size": "1.1em", "margin": "6px 0"},
    )
    _note("Targets: " + "; ".join(outcome.targets) + ".")
    people = OBJECTIVES.get(outcome.objective, outcome.objective)
    table = outcome.designs.sort_values("chosen_share", ascending=False, kind="stable")
    rows = []
    for row in table.itertuples():
        rows.append(
            [
                row.design,
                outcome.words.get(row.design, ""),
                _money(row.cost, outcome.currency),
                f"{row.targets_met_share:.0%} ({row.targets_met_low:.0%} to "
                f"{row.targets_met_high:.0%})",
                _number(row.max_regret, ",.0f"),
                _number(row.mean_regret, ",.1f"),
                f"{row.chosen_share:.0%}",
                _per_person(row, outcome),
            ]
        )
    _table(
        [
            "design",
            "what it is",
            "planned cost",
            "futures meeting every target (95% interval)",
            f"worst-case regret ({people})",
            "mean regret",
            "chosen in resampled futures",
            f"cost per extra person vs {outcome.reference}",
        ],
        rows,
        ["plan-ranking"],
    )
    _note(
        "Regret in a future is how many fewer "
        f"{people} a design has than the best design in that future. How often a design is "
        "chosen comes from resampling the futures (a bootstrap)."
    )

    solara.Markdown("#### Where each design misses its targets")
    with solara.Div(classes=["plan-failures"]):
        for design, sentence in outcome.failures.items():
            solara.Text(f"{design} {sentence}", style={"display": "block", "margin": "2px 0"})

    solara.Markdown(f"#### Each design against {html.escape(outcome.reference)}")
    diffs = outcome.differences
    family = len(diffs)
    _note(
        f"Paired on future and replication. {family} differences are compared; each interval "
        f"is Bonferroni-adjusted (to {1 - 0.05 / max(family, 1):.2%}) so that all hold "
        "together with 95% confidence."
    )
    rows = []
    for row in diffs.itertuples():
        fmt = "+,.1f" if row.outcome in OBJECTIVES else "+.3f"
        people = getattr(row, "people", float("nan"))
        rows.append(
            [
                row.design,
                OUTCOME_WORDS.get(row.outcome, row.outcome),
                f"{row.difference:{fmt}} ({row.low:{fmt}} to {row.high:{fmt}})",
                f"{people:+,.0f} ({row.people_low:+,.0f} to {row.people_high:+,.0f})"
                if pd.notna(people)
                else "",
                f"{row.minimum_important:g}",
                verdict_text(row.verdict, row.minimum_important),
            ]
        )
    _table(
        ["design", "outcome", "difference (interval)", "people (interval)", "minimum", "verdict"],
        rows,
        ["plan-differences"],
    )
    OverTime(outcome)
    if outcome.report is not None and outcome.report.exists():
        report = outcome.report
        with solara.Row(style={"gap": "8px"}):
            solara.FileDownload(
                lambda: report.read_bytes(),
                filename=f"{_slug(outcome.name)}-report.html",
                label="Download the report (HTML)",
                mime_type="text/html",
            )
            solara.FileDownload(
                outcome.spec_text.encode(),
                filename=f"{_slug(outcome.name)}.toml",
                label="Download the plan (TOML)",
            )
        _note(
            "The plan runs again with `coprod plan FILE.toml --out DIR`; the report opens offline."
        )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "plan"


@solara.component
def OverTime(outcome: PlanOutcome) -> None:
    """Each target outcome over the weeks per design, and its mean level over the run."""
    frame = outcome.over_time
    specs = {}
    for key in outcome.target_outcomes:
        mine = frame[frame["outcome"] == key]
        series = {
            str(design): rows.sort_values("step")["mean"].to_numpy()
            for design, rows in mine.groupby("design", sort=False)
        }
        if not series:
            continue
        weeks = np.sort(mine["step"].unique())
        spec = charts.lines(
            weeks,
            series,
            title=OUTCOME_WORDS.get(key, key).capitalize(),
            y_title="mean over futures and replications",
            colours=dict(zip(series, charts.DESIGN_COLOURS * 2, strict=False)),
        )
        spec["layer"][0]["encoding"]["y"]["scale"] = {"zero": False}  # the designs apart
        specs[key] = spec
    if specs:
        solara.Markdown("#### Over time")
        with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
            for key, spec in specs.items():
                Chart(f"plan-{key}", spec)
    levels = outcome.outcomes
    if "mean_over_time" in levels:
        rows = [
            [
                row.design,
                OUTCOME_WORDS.get(row.outcome, row.outcome),
                f"{row.mean:.3f}",
                f"{row.mean_over_time:.3f}",
            ]
            for row in levels.itertuples()
            if row.outcome in outcome.target_outcomes
        ]
        _table(
            ["design", "outcome", "at the last week", "mean level over the run"],
            rows,
            ["plan-levels"],
        )


@solara.component
def Page() -> None:
    """The Plan page."""
    solara.Markdown(
        "## Plan a collaborative\n"
        f"Weigh two to six designs of an improvement collaborative (each the {BASE} "
        "collaborative of 26 sites with its main choices set) across futures you cannot "
        "predict. Each design runs in every future with the same seeds; the robust choice is "
        "the design that meets your targets in the most futures, or whose worst case "
        "falls least short of the best design."
    )
    InfoPanel(PAGES["plan"], title="About Plan")
    data = plan_data()
    plan, problems = check_plan(data)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start", "gap": "8px"}):
        for i, choice in enumerate(designs.value):
            with solara.Div(style={"width": "340px"}):
                DesignCard(i, choice, problems)
        if len(designs.value) < MAX_DESIGNS:
            solara.Button("Add a design", outlined=True, color="primary", on_click=add_design)
    Settings(problems)
    RunBar(plan, problems)
    if plan_run.error:
        solara.Error(f"The plan failed: {plan_run.exception}", classes=["plan-error"])
    elif plan_run.finished and plan_run.value is not None:
        outcome = plan_run.value
        current = plan.fingerprint() if plan is not None else None
        Results(outcome, stale=current != outcome.fingerprint)
