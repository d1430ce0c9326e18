"""The explorer's parameters in users' words, its outcomes, and each session's state.

Only the public API of :mod:`coprod_sim` is used: scenarios are built with
``Scenario.with_overrides`` and ``load_scenario``, and every refusal comes back
as a :class:`~coprod_sim.ScenarioError` whose problems name the field, the value
and what is allowed.

Session state is kept in ``solara.reactive`` variables. Solara keeps one value
per browser session (per virtual kernel), so two people using the app at once
never see each other's scenario or model; the browser tests check this. Their
defaults are never changed in place (a frozen :class:`Scenario`, numbers,
``None``): a default is one object shared by every session, so the model, which
steps in place, is always built per session.
"""

from __future__ import annotations

import json
import tempfile
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import solara

from coprod_sim import (
    CoproductionModel,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    provenance,
    scenario_from_text,
)
from coprod_sim.experiments.decision import MINIMUM_IMPORTANT
from coprod_sim.mechanisms.power import LADDER, rung_name
from coprod_sim.outputs import COUNT_OF_SHARE

DEFAULT_PRESET = "careqic"
DEFAULT_SEED = 42
DEFAULT_WEEKS = 78
#: Largest scenario file accepted for import (a scenario is a few kB of TOML).
MAX_IMPORT_BYTES = 1_000_000
#: The largest scenario one session may run, so that one class's large run cannot slow
#: another's step (every session shares the server's processor): about 6 times CaReQIC,
#: whose weeks then take tens of milliseconds. Larger scenarios run with ``coprod run``.
MAX_SESSION_PATIENTS = 50_000
MAX_SESSION_PROVIDERS = 2_500
MAX_SESSION_SITES = 100
#: The longest run the explorer plays (four years).
MAX_SESSION_WEEKS = 208


# ---------------------------------------------------------------------------------------------
# Controls
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """One scenario field as a control: its label in users' words and its range."""

    field: str
    label: str
    kind: Literal["int", "float", "choice", "bool"]
    help: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> label

    def describe(self, value: Any) -> str:
        """The value as a reader sees it: rung names for power sharing, labels for choices."""
        if self.field == "power_sharing":
            return f"{value} · {rung_name(int(value))}"
        if self.kind == "choice":
            return self.choices.get(value, str(value))
        if self.kind == "float":
            return f"{value:.2f}"
        return str(value)


#: The main controls of the explorer, in the order they are shown.
CONTROLS: tuple[Control, ...] = (
    Control(
        "power_sharing",
        "Power sharing (Arnstein's ladder)",
        "int",
        "How much say patient representatives have: "
        + ", ".join(f"{i} {n}" for i, n in enumerate(LADDER, 1)),
        1,
        8,
        1,
    ),
    Control(
        "inclusion",
        "Who becomes a representative",
        "choice",
        "Recruit whoever staff reach most easily, or deliberately from each key population.",
        choices={
            "deliberate": "deliberately from each key population",
            "convenience": "whoever staff reach most easily",
        },
    ),
    Control("team_size", "Improvement team size", "int", "Members of each site's team.", 3, 12, 1),
    Control(
        "representative_seats",
        "Seats for patient representatives",
        "int",
        "Team seats held by community representatives (a team also needs a manager and a "
        "provider).",
        0,
        8,
        1,
    ),
    Control(
        "feedback_loop",
        "Feedback loop: chance input is reported back",
        "float",
        "How often the team tells a representative what became of their input.",
    ),
    Control(
        "authority_support",
        "Managers' support for the work",
        "float",
        "One of Allport's conditions for contact to reduce stigma.",
    ),
    Control(
        "initial_trust",
        "Patients' initial trust in providers",
        "float",
        "The general group's mean trust at the start; key populations start lower.",
    ),
    Control(
        "initial_stigma",
        "Providers' initial stigma",
        "float",
        "Providers' mean stigma toward patients at the start (higher toward key populations).",
    ),
)
CONTROL_BY_FIELD = {c.field: c for c in CONTROLS}

#: Crisis controls: a crisis is on when ``crisis_week`` is set.
CRISIS_RECOVERY = {
    "top_down": "top-down (managers decide, patients are informed)",
    "coproduced": "coproduced (patients help lead the recovery)",
}


_RECRUITED = {
    "deliberate": "recruited deliberately from each key population",
    "convenience": "recruited from whoever staff reach most easily",
}


def describe_design(values: Mapping[str, Any] | Scenario) -> str:
    """A design's main choices in plain words, from a scenario or its field values, e.g.
    "power sharing at rung 4 of 8 (consultation); 2 seats for patient representatives on
    teams of 6, recruited from whoever staff reach most easily; input reported back 30% of
    the time; no ground rules"."""
    get = (
        (lambda name: getattr(values, name))
        if isinstance(values, Scenario)
        else (lambda name: values.get(name))
    )
    parts = []
    rung = get("power_sharing")
    if rung is not None:
        try:
            parts.append(f"power sharing at rung {int(rung)} of 8 ({rung_name(int(rung))})")
        except (ValueError, IndexError, TypeError):
            parts.append(f"power sharing at rung {rung} (not a rung of the ladder)")
    seats, size = get("representative_seats"), get("team_size")
    if seats is not None and size is not None:
        if seats == 0:
            parts.append(f"teams of {size} staff with no patient representatives")
        else:
            recruited = _RECRUITED.get(get("inclusion"), f"recruited by {get('inclusion')}")
            seat_word = "seat" if seats == 1 else "seats"
            parts.append(
                f"{seats} {seat_word} for patient representatives on teams of {size}, {recruited}"
            )
    loop = get("feedback_loop")
    if loop is not None and (seats is None or seats > 0):
        parts.append(f"input reported back {float(loop):.0%} of the time")
    support = get("authority_support")
    if support is not None:
        parts.append(f"managers' support {float(support):.2f}")
    rules = get("ground_rules")
    if rules is not None:
        parts.append("ground rules and preparatory sessions" if rules else "no ground rules")
    return "; ".join(parts)


def control_values(scenario: Scenario) -> dict[str, Any]:
    """The current value of every main control, and of the crisis controls."""
    values = {c.field: getattr(scenario, c.field) for c in CONTROLS}
    values.update(
        crisis_week=scenario.crisis_week,
        crisis_duration=scenario.crisis_duration,
        recovery=scenario.recovery,
    )
    return values


# ---------------------------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------------------------
def scenario_from_upload(name: str, data: bytes) -> Scenario:
    """Read an uploaded TOML scenario; ``extends = "careqic"`` and other presets work.

    Raises :class:`ScenarioError` for anything that cannot be run, naming each problem.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ScenarioError(
            [Problem("(file)", name, f"is {len(data):,} bytes; a scenario file must be ≤ 1 MB")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(
            [Problem("(file)", name, "is not UTF-8 text; export a TOML scenario and try again")]
        ) from None
    if not name.lower().endswith(".toml"):
        raise ScenarioError([Problem("(file)", name, "must be a .toml scenario file")])
    # The same reading as the CLI's, minus a folder: `extends` may name a preset only.
    return scenario_from_text(text, name)


def results_bundle(model: CoproductionModel, seed: int) -> bytes:
    """This run so far as a ZIP of what ``coprod run`` writes (the four tables as Parquet,
    with provenance in each file, the scenario as TOML, ``run.json``, the figure) plus the
    four tables as CSV and a README saying how to make the same run again: the package
    version, the scenario's SHA-256, the seed, the weeks and the command."""
    from coprod_sim.results import reproducing_command, write_results

    name = model.parameters.name
    toml_name = f"{name}.toml"
    command = reproducing_command(model, seed, toml_name)
    with tempfile.TemporaryDirectory(prefix="coprod-download-") as tmp:
        out = Path(tmp) / f"{name}-seed{seed}-week{model.week}"
        write_results(model, out, seed, command=command)
        (out / "scenario.toml").rename(out / toml_name)
        for table, frame in model.outputs.frames().items():
            frame.to_csv(out / f"{table}.csv", index=False)
        record = json.loads((out / "run.json").read_text(encoding="utf-8"))
        (out / "README.txt").write_text(
            f"coprod_sim {record['version']}: scenario {name!r} (SHA-256 "
            f"{record['scenario_sha256']}), seed {seed}, {model.week} weeks.\n"
            f"Every change made during the run is in {toml_name} (interventions).\n\n"
            f"To make this run again:\n    {command}\n",
            encoding="utf-8",
        )
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, f"{out.name}/{path.name}")
    return buffer.getvalue()


def results_csv(model: CoproductionModel) -> bytes:
    """The collaborative's weekly series as CSV."""
    return model.outputs.collaborative().to_csv(index=False).encode()


def results_parquet(model: CoproductionModel, seed: int) -> bytes:
    """The collaborative's weekly series as Parquet, with the run's provenance in the
    file's metadata (key ``coprod_sim``), as ``coprod run`` writes it, and the scenario's
    whole TOML (``scenario_toml``), since no scenario file goes with the download."""
    frame = model.outputs.collaborative()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # No command: the app's own command line says nothing about how this run was made.
    meta = {
        **provenance.run_record(model, seed, int(model.week), command=None),
        "scenario_toml": model.parameters.to_toml(),
    }
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"coprod_sim": json.dumps(meta).encode()}
    )
    buffer = BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Outcomes compared across designs
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """An outcome series taken from the collaborative frame."""

    key: str
    label: str
    better: Literal["higher", "lower"]
    series: Callable[[pd.DataFrame, Scenario], np.ndarray]
    digits: int = 3
    #: The smallest difference that matters, in the outcome's units (the default of the
    #: minimum important difference control: an assumption the user may change).
    minimum: float = 0.02
    #: The collaborative column counting the people behind a share (in_care behind
    #: retention), or None when the outcome is not a share of patients.
    count: str | None = None
    #: The people counted by ``count``, for sentences ("people in care").
    people: str = ""

    @property
    def sign(self) -> int:
        """+1 when more is better, -1 when less is (``decision_verdict``'s ``better``)."""
        return 1 if self.better == "higher" else -1


def _column(name: str) -> Callable[[pd.DataFrame, Scenario], np.ndarray]:
    return lambda frame, _scenario: frame[name].to_numpy(dtype=float)


def key_population_stigma(frame: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Mean provider stigma toward the key populations (every group if none is marked)."""
    groups = list(scenario.key_populations) or [g.name for g in scenario.groups]
    return frame[[f"stigma_{g}" for g in groups]].to_numpy(dtype=float).mean(axis=1)


def default_minimum(key: str, fallback: float) -> float:
    """The project's default minimum important difference of an outcome (an assumption,
    from :mod:`coprod_sim.experiments.decision` where it has one), else ``fallback``."""
    found = MINIMUM_IMPORTANT.get(key)
    return float(found[0]) if found else fallback


def _share(key: str, label: str, people: str) -> Outcome:
    """A share of patients, with the count of people behind it."""
    return Outcome(
        key,
        label,
        "higher",
        _column(key),
        minimum=default_minimum(key, 0.02),
        count=COUNT_OF_SHARE.get(key),
        people=people,
    )


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "patient_trust",
        "Patients' trust in providers",
        "higher",
        _column("patient_trust"),
        minimum=default_minimum("patient_trust", 0.02),
    ),
    Outcome(
        "provider_regard",
        "Providers' regard for patients",
        "higher",
        _column("provider_regard"),
        minimum=default_minimum("provider_regard", 0.02),
    ),
    Outcome(
        "key_population_stigma",
        "Provider stigma toward key populations",
        "lower",
        key_population_stigma,
        minimum=0.02,  # as stigma toward each group: two points on a 0-100 scale
    ),
    Outcome(
        "patient_originated",
        "Patient-originated changes adopted",
        "higher",
        _column("patient_originated"),
        1,
        minimum=default_minimum("patient_originated", 5.0),
    ),
    Outcome(
        "value",
        "Value of care to patients",
        "higher",
        _column("value"),
        minimum=default_minimum("value", 0.02),
    ),
    Outcome(
        "equity_gap",
        "Equity gap between groups",
        "lower",
        _column("equity_gap"),
        minimum=default_minimum("equity_gap", 0.01),
    ),
    _share("retention", "Retention in care", "people in care"),
    _share(
        "key_suppression",
        "Viral suppression among key populations",
        "people in key populations with a suppressed viral load",
    ),
)
OUTCOME_BY_KEY = {o.key: o for o in OUTCOMES}


# ---------------------------------------------------------------------------------------------
# Session state (one value per browser session)
# ---------------------------------------------------------------------------------------------
preset = solara.reactive(DEFAULT_PRESET)  # the preset shown, or "(imported)"
scenario = solara.reactive(load_scenario(DEFAULT_PRESET))  # the preset or import + controls
seed = solara.reactive(DEFAULT_SEED)
weeks = solara.reactive(DEFAULT_WEEKS)
model: solara.Reactive[CoproductionModel | None] = solara.reactive(None)
tick = solara.reactive(0)  # bumped after every step: what the charts redraw on
playing = solara.reactive(False)
control_problems: solara.Reactive[tuple[Problem, ...]] = solara.reactive(())
import_problems: solara.Reactive[tuple[Problem, ...]] = solara.reactive(())
import_message = solara.reactive("")
refusals = solara.reactive(0)  # bumped when a control's value is refused: controls redraw
intervention_problems: solara.Reactive[tuple[Problem, ...]] = solara.reactive(())
#: Presenter mode: large charts and text for a projector (one value per session).
presenter = solara.reactive(False)
# Each session's lock for stepping and rebuilding its model, made on first use: the play
# thread and a button press of one session must never touch its model at once, and no
# session may ever wait for another's (a lock shared by all would let one large run stall
# every class in the room).
_session_lock: solara.Reactive[threading.RLock | None] = solara.reactive(None)
_MAKING_LOCKS = threading.Lock()  # held only while a session's lock is made


def session_lock() -> threading.RLock:
    """This session's lock for stepping and rebuilding its model."""
    with _MAKING_LOCKS:
        if _session_lock.value is None:
            _session_lock.set(threading.RLock())
        return _session_lock.value


def session_size_problems(candidate: Scenario) -> list[Problem]:
    """What makes a scenario too large for one session of the explorer, if anything."""
    problems = []
    for what, size, cap in (
        ("patients", candidate.n_patients, MAX_SESSION_PATIENTS),
        ("providers", candidate.n_providers, MAX_SESSION_PROVIDERS),
        ("sites", candidate.n_sites, MAX_SESSION_SITES),
    ):
        if size > cap:
            problems.append(
                Problem(
                    f"{what} (all sites)",
                    size,
                    f"the explorer runs at most {cap:,} {what} in a session, so that no "
                    "class waits for another's run; run larger scenarios from the command "
                    "line (coprod run)",
                )
            )
    return problems


def modified_name(current: Scenario) -> str:
    """The name of a scenario changed in the explorer: a preset's name gains "-modified",
    so a download is never mistaken for the preset itself."""
    from coprod_sim import preset_names

    name = current.name
    return f"{name}-modified" if name in preset_names() else name


def reset_model() -> CoproductionModel:
    """Build a fresh model of the current scenario and seed (week 0)."""
    playing.set(False)
    built = CoproductionModel.from_scenario(scenario.value, rng=seed.value)
    model.set(built)
    tick.set(tick.value + 1)
    return built


def current_model() -> CoproductionModel:
    """This session's model, built on first use."""
    return model.value if model.value is not None else reset_model()


def step_model(n: int = 1) -> CoproductionModel:
    """Advance this session's model ``n`` weeks and ask the charts to redraw."""
    built = current_model()
    built.run_for(n)
    tick.set(tick.value + 1)
    return built


def choose_preset(name: str) -> None:
    """Start again from a preset; the controls take its values."""
    chosen = load_scenario(name)
    preset.set(name)
    scenario.set(chosen)
    control_problems.set(())
    reset_model()


def set_controls(changes: Mapping[str, Any]) -> bool:
    """Apply control values to the current scenario and rebuild the model; on bad values
    keep the previous scenario and report the problems. Returns whether it applied."""
    try:
        updated = (
            scenario.value.with_overrides({**changes, "name": modified_name(scenario.value)})
            if changes
            else scenario.value
        )
    except ScenarioError as error:
        refuse_controls(tuple(error.problems))
        return False
    too_large = session_size_problems(updated)
    if too_large:
        refuse_controls(tuple(too_large))
        return False
    control_problems.set(())
    scenario.set(updated)
    reset_model()
    return True


def refuse_controls(problems: tuple[Problem, ...]) -> None:
    """Show why a control's value was refused, and put every control back to the
    scenario's values (a slider dragged to a refused value must not stay there)."""
    control_problems.set(problems)
    refusals.set(refusals.value + 1)


def set_horizon(value: int) -> None:
    """Run to week ``value``; never before the week already reached."""
    reached = model.value.week if model.value is not None else 0
    weeks.set(max(int(value), reached, 1))


def intervene(changes: Mapping[str, Any], week: int | None = None, label: str = "") -> bool:
    """Change settings during the run, without starting again (``CoproductionModel.
    intervene``): the change is made now (or at ``week``) and becomes part of the
    scenario, so Reset and a download replay it. Returns whether it was accepted; the
    problems are shown beside the intervention's controls."""
    built = current_model()
    try:
        built.intervene(changes, week=week, label=label)
    except ScenarioError as error:
        intervention_problems.set(tuple(error.problems))
        return False
    intervention_problems.set(())
    name = modified_name(built.parameters)
    if name != built.parameters.name:
        # The name changes nothing in a run; it keeps a download from posing as the preset.
        built.parameters = built.parameters.with_overrides({"name": name})
    scenario.set(built.parameters)
    tick.set(tick.value + 1)
    return True


def clear_interventions() -> None:
    """Remove every change made during the run and start again from week 0."""
    data = scenario.value.to_dict()
    data.pop("interventions", None)
    scenario.set(Scenario.model_validate(data))
    intervention_problems.set(())
    reset_model()


def import_scenario(name: str, data: bytes) -> bool:
    """Import an uploaded TOML scenario; on errors keep the previous scenario running and
    show the problems next to the import control. Returns whether it was imported."""
    try:
        imported = scenario_from_upload(name, data)
        problems = session_size_problems(imported)
    except ScenarioError as error:
        problems = error.problems
    if problems:
        # The message first: the problems are what makes the list appear.
        import_message.set(f"{name} was not imported; the previous scenario is kept.")
        import_problems.set(tuple(problems))
        return False
    import_problems.set(())
    import_message.set(f"Imported {name}: scenario {imported.name!r}.")
    preset.set("(imported)")
    scenario.set(imported)
    control_problems.set(())
    reset_model()
    return True
