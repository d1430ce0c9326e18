"""One typed object holding every parameter of the model, read from and written to TOML.

A :class:`Scenario` is validated when it is built: unknown keys, wrong types,
out-of-range values and inconsistent settings are refused with a
:class:`~coprod_sim.errors.ScenarioError` that names each field, the value and
what is allowed. Writing a scenario to TOML and reading it back gives an equal
scenario (``Scenario.from_toml(s.to_toml()) == s``).

Presets live as TOML files in ``coprod_sim/presets``. A TOML file may start
from another scenario with ``extends = "careqic"`` (a preset name or a path
relative to the file); its own tables are merged into the base, key by key,
and lists (``sites``, ``groups``) replace the base's list whole. Text that
comes from no folder (an upload to the app) is read with
:func:`scenario_from_text`, and may extend a preset only.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coprod_sim import caribbean
from coprod_sim.errors import Problem, ScenarioError, from_validation_error
from coprod_sim.mechanisms.power import LADDER

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]

#: Tolerance for shares that must sum to 1.
SHARE_TOLERANCE = 1e-6
#: Size limits of a whole collaborative (array indices stay in 32 bits).
MAX_PATIENTS = 100_000_000
MAX_PROVIDERS = 10_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PatientGroup(_Strict):
    """A patient group: the general group or a marginalised key population."""

    name: Identifier = Field(description="Short identifier used in outputs, e.g. 'msm'.")
    label: str = Field(min_length=1, description="Plain-language name shown to readers.")
    key_population: bool = Field(False, description="A marginalised key population.")
    trust_deficit: Share = Field(
        0.0, description="How much lower this group's initial trust in providers is."
    )
    stigma_factor: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        1.0, description="Providers' initial stigma toward the group, relative to initial_stigma."
    )
    reachability: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0, description="How easily staff reach members when recruiting by convenience."
    )
    what_matters: dict[str, Weight] = Field(
        description="Relative importance of each aspect of care to the group (normalised)."
    )


class SiteSpec(_Strict):
    """One or more sites (clinics) alike in expectation, e.g. the 20 Jamaican teams."""

    name: str = Field(min_length=1, description="Region or site name, e.g. 'Jamaica'.")
    count: int = Field(1, ge=1, le=10_000, description="Number of sites of this kind.")
    patients: int = Field(ge=1, le=10_000_000, description="Patients enrolled per site.")
    providers: int = Field(ge=1, le=100_000, description="Providers (clinical staff) per site.")
    group_shares: dict[str, Share] = Field(
        description="Expected share of each patient group at these sites; sums to 1."
    )


class Scenario(_Strict):
    """Every parameter of :class:`~coprod_sim.CoproductionModel`, with CaReQIC defaults.

    Time is in weeks: one model step is one week.
    """

    name: str = Field(
        "careqic",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.&()-]*$",
        max_length=80,
        description="Scenario name: letters, digits, spaces and _ . & ( ) -.",
    )
    description: str = Field("", description="What the scenario represents.")

    # --- structure ---
    sites: list[SiteSpec] = Field(
        default_factory=lambda: [SiteSpec(**s) for s in caribbean.careqic_sites()],
        min_length=1,
        description="The sites of the collaborative.",
    )
    groups: list[PatientGroup] = Field(
        default_factory=lambda: [PatientGroup(**g) for g in caribbean.careqic_groups()],
        min_length=1,
        max_length=100,
        description="Patient groups.",
    )
    share_variation: Annotated[float, Field(ge=0.0, le=0.95)] = Field(
        0.25,
        description="How much group shares differ between sites (0: all sites get the "
        "expected shares exactly).",
    )
    staff_assumptions: dict[str, Weight] = Field(
        default_factory=lambda: dict(caribbean.STAFF_ASSUMPTIONS),
        description="What staff assume matters to patients; its keys define the aspects "
        "of care (normalised).",
    )
    baseline_quality: dict[str, Share] = Field(
        default_factory=lambda: dict(caribbean.BASELINE_QUALITY),
        description="How well each aspect of care is done at the start.",
    )

    # --- the collaborative (IHI Breakthrough Series) ---
    support_weeks: int = Field(
        52, ge=0, le=10_000, description="Weeks of external support (learning sessions, coaching)."
    )
    learning_sessions: int = Field(
        3, ge=0, le=100, description="Learning sessions, evenly spaced over the support period."
    )
    meeting_interval: int = Field(
        4, ge=1, le=52, description="Weeks between improvement-team meetings."
    )
    meetings_after_support: bool = Field(
        True, description="Teams keep meeting after external support ends."
    )
    changes_shared: int = Field(
        2, ge=0, le=50, description="Changes a team takes from other teams at a learning session."
    )

    # --- the improvement team and voice ---
    team_size: int = Field(6, ge=2, le=100, description="Members of each improvement team.")
    representative_seats: int = Field(
        2, ge=0, le=100, description="Team seats held by patient (community) representatives."
    )
    inclusion: Literal["convenience", "deliberate"] = Field(
        "deliberate",
        description="How representatives are recruited: whoever staff reach most easily, "
        "or deliberately from each key population.",
    )
    speaking_turns: int = Field(
        5, ge=1, le=100, description="Members who get to speak in a meeting (airtime)."
    )
    ground_rules: bool = Field(
        True, description="Preparatory sessions and ground rules (safe space, no blame)."
    )
    staff_voice: Share = Field(0.9, description="Chance a staff member speaks up in a meeting.")
    voice_base: Annotated[float, Field(ge=-10.0, le=10.0)] = Field(
        0.0,
        description="Log-odds that a representative speaks at neutral (½) trust, "
        "psychological safety and felt stigma.",
    )
    voice_trust: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        4.0, description="How much trust raises a representative's log-odds of speaking."
    )
    voice_safety: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        4.0, description="How much psychological safety raises the log-odds of speaking."
    )
    voice_stigma: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        3.0, description="How much felt stigma lowers a representative's log-odds of speaking."
    )
    representative_leave_rate: Share = Field(
        0.1, description="Chance per meeting that a representative with no trust leaves."
    )

    # --- power sharing and the feedback loop ---
    power_sharing: int = Field(
        6,
        ge=1,
        le=8,
        description="Rung on Arnstein's ladder: "
        + ", ".join(f"{i} {n}" for i, n in enumerate(LADDER, 1))
        + ".",
    )
    feedback_loop: Share = Field(
        0.9, description="Chance the team reports back to a representative on their input."
    )
    acknowledgement: Share = Field(
        0.5, description="Chance that input reported back but not acted on still feels valued."
    )
    negotiation: Share = Field(
        0.5, description="How hard it is to agree when staff and patient priorities differ."
    )

    # --- Allport's conditions for contact ---
    authority_support: Share = Field(0.8, description="Managers' support for the work.")
    cooperation: Share = Field(0.8, description="How much staff and representatives work together.")
    common_goals: Share = Field(0.8, description="How far they share the team's aims.")

    # --- trust (beta reputation) ---
    initial_trust: Share = Field(
        0.55, description="General group's mean initial trust in providers."
    )
    initial_regard: Share = Field(0.5, description="Providers' mean initial regard for patients.")
    trust_memory: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.98, description="Weekly weight kept on past experiences (1: never forget)."
    )
    negativity_bias: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        2.0, description="How many good experiences one bad experience outweighs."
    )
    trust_prior_strength: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        6.0, description="Past experiences behind initial trust (higher: trust moves slower)."
    )

    # --- stigma and attitude exchange ---
    initial_stigma: Share = Field(0.5, description="Providers' mean initial stigma (factor 1).")
    stigma_spread: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.15, description="Spread of initial stigma between providers."
    )
    contact_rate: Share = Field(
        0.15, description="How far one positive contact moves a provider's stigma."
    )
    contact_positivity: Share = Field(
        0.6, description="Share of team contacts that go well when psychological safety is nil."
    )
    negative_contact_weight: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        2.0, description="How much more a bad contact moves stigma than a good one."
    )
    latitude_base: Share = Field(
        0.25, description="Stigma below which a provider accepts disconfirming contact at all."
    )
    latitude_status: Share = Field(0.45, description="How much equal status widens that latitude.")
    latitude_authority: Share = Field(
        0.3, description="How much authority support widens that latitude."
    )
    peer_latitude: Share = Field(
        0.25, description="Bounded confidence between colleagues (Deffuant's epsilon)."
    )
    peer_rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.1, description="Convergence rate between colleagues (Deffuant's mu)."
    )
    stigma_harm: Share = Field(
        0.4, description="How much a provider's stigma spoils a patient's visit."
    )

    # --- change ideas and PDSA ---
    pdsa_cycle_weeks: int = Field(4, ge=1, le=52, description="Weeks per PDSA cycle.")
    pdsa_successes_to_scale: int = Field(
        2, ge=0, le=20, description="Successful PDSA cycles before a change is scaled up."
    )
    pdsa_max_cycles: int = Field(
        5, ge=1, le=50, description="PDSA cycles before an idea that keeps failing is dropped."
    )
    pdsa_capacity: int = Field(2, ge=1, le=50, description="Ideas a team tests at once.")
    design_quality: Share = Field(
        0.55, description="Mean chance a new idea works as first designed."
    )
    pdsa_learning: Share = Field(
        0.3, description="Share of the remaining flaws a failed cycle teaches the team to fix."
    )
    effect_size: Share = Field(
        0.25, description="Quality gain on its aspect from a change that works fully."
    )
    backlog_limit: int = Field(8, ge=1, le=1000, description="Ideas a team keeps in its backlog.")

    # --- uptake ---
    uptake_rule: Literal["bass", "threshold"] = Field(
        "bass", description="Bass hazard (p + q·share) or Granovetter threshold."
    )
    external_influence: Share = Field(
        0.03,
        description="Bass p: weekly adoption hazard from management push alone (per week, "
        "not the per-year means of Bass-model meta-analyses).",
    )
    imitation: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.4, description="Bass q: weekly adoption hazard when all colleagues use the change."
    )
    threshold_mean: Share = Field(0.3, description="Mean share of colleagues a provider waits for.")
    threshold_sd: Share = Field(0.15, description="Spread of those thresholds.")
    provider_network: Literal["small_world", "complete"] = Field(
        "small_world", description="Ties between providers within a site."
    )
    within_site_ties: int = Field(
        4,
        ge=0,
        le=1000,
        description="Colleagues each provider is tied to in a small world (Watts-Strogatz k; "
        "0 for none, an odd number counts as the even number below it).",
    )
    rewiring: Share = Field(0.1, description="Small-world rewiring probability.")
    cross_site_ties: int = Field(
        2, ge=0, le=100, description="Ties each team provider forms with other sites' teams."
    )

    # --- sustainment ---
    decay_rate: Share = Field(
        0.03, description="Weekly hazard that a provider drops a change nobody reinforces."
    )
    support_reinforcement: Share = Field(
        0.8, description="How much external support holds changes in place while it lasts."
    )

    # --- care, engagement and retention ---
    visit_rate: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.25, description="Weekly chance a patient in care has a scheduled visit."
    )
    experience_floor: Share = Field(
        0.6, description="Chance a visit goes well when care delivers nothing that matters."
    )
    initial_retention: Share = Field(0.8, description="Share of patients in care at the start.")
    dropout_rate: Share = Field(0.01, description="Weekly chance of leaving care at neutral trust.")
    return_rate: Share = Field(
        0.04, description="Weekly chance of returning to care at neutral trust."
    )

    # --- crisis ---
    crisis_week: int | None = Field(
        None, ge=1, le=100_000, description="Week a crisis switches sites to command-and-control."
    )
    crisis_duration: int = Field(12, ge=1, le=10_000, description="Weeks the crisis lasts.")
    crisis_sites: list[str] = Field(
        default_factory=list,
        description="Sites or regions the crisis hits, e.g. ['Barbados']; all sites if empty.",
    )
    recovery: Literal["coproduced", "top_down"] = Field(
        "top_down", description="How sites recover after the crisis."
    )
    crisis_strain: Share = Field(0.3, description="How much the crisis spoils visits.")
    crisis_pressure: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        3.0, description="How much faster changes erode under crisis pressure."
    )

    # --------------------------------------------------------------------------------------------
    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = consistency_problems(self)
        if problems:
            raise InconsistentScenarioError(problems)
        return self

    # --- derived views ---
    @property
    def aspects(self) -> tuple[str, ...]:
        """Aspects of care, in the order of ``staff_assumptions``."""
        return tuple(self.staff_assumptions)

    @property
    def site_names(self) -> list[str]:
        """Every site's name: the entry's name, numbered when it has more than one site."""
        return site_names(self.sites)

    @property
    def n_sites(self) -> int:
        return sum(s.count for s in self.sites)

    @property
    def n_patients(self) -> int:
        return sum(s.count * s.patients for s in self.sites)

    @property
    def n_providers(self) -> int:
        return sum(s.count * s.providers for s in self.sites)

    # --- TOML ---
    def to_dict(self) -> dict[str, Any]:
        """Plain data, with unset optional fields (None) left out, as TOML needs."""
        return self.model_dump(mode="python", exclude_none=True)

    def to_toml(self) -> str:
        """The scenario as TOML text; ``Scenario.from_toml`` reads it back exactly."""
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str, source: str | None = None) -> Scenario:
        """Read a scenario from TOML text (no ``extends``)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError(
                [Problem("(file)", source or "<text>", f"is not valid TOML: {error}")], source
            ) from None
        return validate(data, source)

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Scenario:
        """A copy with overrides applied: ``{"groups.msm.trust_deficit": 0.3}`` or
        ``["power_sharing=4"]`` (values written as TOML literals)."""
        data = self.to_dict()
        try:
            apply_overrides(data, overrides)
            path_problems: list[Problem] = []
        except ScenarioError as error:  # keep going, to report every problem at once
            path_problems = error.problems
        try:
            scenario = validate(data, "overrides")
        except ScenarioError as error:
            raise ScenarioError(path_problems + error.problems, "overrides") from None
        if path_problems:
            raise ScenarioError(path_problems, "overrides")
        return scenario


class InconsistentScenarioError(ValueError):
    """Settings that are valid one by one but not together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def site_names(sites: Iterable[SiteSpec]) -> list[str]:
    """'Jamaica 1' ... 'Jamaica 20' for an entry of 20 sites, 'Barbados' for an entry of one."""
    return [
        spec.name if spec.count == 1 else f"{spec.name} {k + 1}"
        for spec in sites
        for k in range(spec.count)
    ]


def consistency_problems(s: Scenario) -> list[Problem]:
    """Every cross-field problem in an otherwise well-typed scenario."""
    problems: list[Problem] = []
    aspects = set(s.staff_assumptions)
    group_names = [g.name for g in s.groups]

    def check_weights(field: str, weights: Mapping[str, float]) -> None:
        if set(weights) != aspects:
            missing, extra = sorted(aspects - set(weights)), sorted(set(weights) - aspects)
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(extra)}" if extra else "",
                )
                if part
            )
            problems.append(
                Problem(
                    field,
                    sorted(weights),
                    f"must name exactly the aspects of care in staff_assumptions "
                    f"({', '.join(s.staff_assumptions)}): {detail}",
                )
            )
        elif sum(weights.values()) <= 0:
            problems.append(Problem(field, dict(weights), "needs at least one positive weight"))

    if not aspects:
        problems.append(Problem("staff_assumptions", {}, "must name at least one aspect of care"))
    else:
        if sum(s.staff_assumptions.values()) <= 0:
            problems.append(
                Problem("staff_assumptions", s.staff_assumptions, "needs a positive weight")
            )
        check_weights("baseline_quality", s.baseline_quality)
        for i, g in enumerate(s.groups):
            check_weights(f"groups[{i}].what_matters", g.what_matters)

    for i, name in enumerate(group_names):
        if name in group_names[:i]:
            problems.append(Problem(f"groups[{i}].name", name, "must be unique among groups"))
    expanded = site_names(s.sites)
    clashes = sorted({name for name in expanded if expanded.count(name) > 1})
    if clashes:
        problems.append(
            Problem(
                "sites",
                clashes,
                "gives two sites the same name (an entry of several sites numbers them, "
                "e.g. 'Jamaica 1'); rename an entry",
            )
        )
    if s.n_patients > MAX_PATIENTS:
        problems.append(
            Problem("sites", s.n_patients, f"patients in all must be <= {MAX_PATIENTS:,}")
        )
    if s.n_providers > MAX_PROVIDERS:
        problems.append(
            Problem("sites", s.n_providers, f"providers in all must be <= {MAX_PROVIDERS:,}")
        )
    if s.learning_sessions > s.support_weeks > 0:
        problems.append(
            Problem(
                "learning_sessions",
                s.learning_sessions,
                f"must be <= support_weeks = {s.support_weeks} (at most one a week)",
            )
        )
    entry_names = [site.name for site in s.sites]
    for i, name in enumerate(entry_names):
        if name in entry_names[:i]:
            problems.append(Problem(f"sites[{i}].name", name, "must be unique among sites"))

    staff_seats = s.team_size - s.representative_seats
    if staff_seats < 2:
        problems.append(
            Problem(
                "representative_seats",
                s.representative_seats,
                f"leaves {staff_seats} staff seat(s) on a team of {s.team_size}; a team needs "
                f"a manager and at least one provider, so representative_seats must be "
                f"<= {s.team_size - 2}",
            )
        )
    for i, site in enumerate(s.sites):
        unknown = sorted(set(site.group_shares) - set(group_names))
        if unknown:
            problems.append(
                Problem(
                    f"sites[{i}].group_shares",
                    unknown,
                    f"names unknown group(s); groups are: {', '.join(group_names)}",
                )
            )
        total = sum(site.group_shares.values())
        if not math.isclose(total, 1.0, abs_tol=SHARE_TOLERANCE):
            problems.append(
                Problem(
                    f"sites[{i}].group_shares",
                    dict(site.group_shares),
                    f"shares sum to {total:.6g}; they must sum to 1",
                )
            )
        team_providers = staff_seats - 1
        if staff_seats >= 2 and team_providers > site.providers:
            problems.append(
                Problem(
                    "team_size",
                    s.team_size,
                    f"is larger than site {site.name!r} can staff: its {site.providers} "
                    f"provider(s) and 1 manager fill at most {site.providers + 1} staff seats "
                    f"beside {s.representative_seats} representative seat(s), so team_size "
                    f"must be <= {site.providers + 1 + s.representative_seats}",
                )
            )
        if s.representative_seats > site.patients:
            problems.append(
                Problem(
                    "representative_seats",
                    s.representative_seats,
                    f"is more than the {site.patients} patient(s) of site {site.name!r}",
                )
            )
    if s.learning_sessions > 0 and s.support_weeks == 0:
        problems.append(
            Problem(
                "learning_sessions",
                s.learning_sessions,
                "needs support_weeks > 0 (learning sessions happen during external support)",
            )
        )
    known_places = set(site_names(s.sites)) | {site.name for site in s.sites}
    for i, place in enumerate(s.crisis_sites):
        if place not in known_places:
            problems.append(
                Problem(
                    f"crisis_sites[{i}]",
                    place,
                    f"names no site or region; regions are: "
                    f"{', '.join(site.name for site in s.sites)} (or a site such as "
                    f"{site_names(s.sites)[0]!r})",
                )
            )
    if s.within_site_ties == 1:
        problems.append(
            Problem(
                "within_site_ties",
                1,
                "must be 0 (no ties) or at least 2 (a small world of neighbours on each side)",
            )
        )
    if s.pdsa_successes_to_scale > s.pdsa_max_cycles:
        problems.append(
            Problem(
                "pdsa_successes_to_scale",
                s.pdsa_successes_to_scale,
                f"can never be reached within pdsa_max_cycles = {s.pdsa_max_cycles}; "
                f"must be <= {s.pdsa_max_cycles}",
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Validation, overrides and loading
# ---------------------------------------------------------------------------------------------
_ALLOWED = {
    "": tuple(Scenario.model_fields),
    "sites": tuple(SiteSpec.model_fields),
    "groups": tuple(PatientGroup.model_fields),
}


def validate(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Build a :class:`Scenario` from plain data, or raise :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as error:
        raise from_validation_error(error, _ALLOWED, source) from None


def parse_value(text: str) -> Any:
    """Read an override value as a TOML literal (``4``, ``0.3``, ``true``, ``"deliberate"``,
    ``[1, 2]``); a bare word that is not TOML is taken as a string, and ``none`` unsets an
    optional field (``crisis_week=none``)."""
    if text.strip().lower() == "none":
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(
                [Problem("--set", item, "must be written KEY=VALUE, e.g. power_sharing=4")]
            )
        out[key.strip()] = parse_value(value.strip())
    return out


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str]) -> None:
    """Set dotted keys in raw scenario data, in place.

    A dotted key walks tables by name and lists of tables by index or by the
    entry's ``name``: ``sites.Jamaica.patients`` or ``sites.0.patients``.
    """
    if not isinstance(overrides, Mapping):
        overrides = _parse_assignments(overrides)
    problems = []
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        try:
            for depth, part in enumerate(parts[:-1]):
                node = _child(node, part, ".".join(parts[: depth + 1]))
            last = parts[-1]
            if isinstance(node, list):
                raise LookupError(f"{key}: names a whole entry; name a field inside it")
            if not isinstance(node, dict):
                raise LookupError(f"{'.'.join(parts[:-1])} is not a table")
            if len(parts) == 1 and last not in Scenario.model_fields:
                raise LookupError("unknown")
            node[last] = value
        except LookupError as error:
            if str(error) == "unknown":
                close = difflib.get_close_matches(key, list(Scenario.model_fields), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                allowed = (
                    f"unknown field; {hint}allowed fields are: "
                    f"{', '.join(sorted(Scenario.model_fields))}"
                )
            else:
                allowed = str(error)
            problems.append(Problem(key, value, allowed))
    if problems:
        raise ScenarioError(problems, "overrides")


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return node[int(part)]
        for entry in node:
            if isinstance(entry, dict) and entry.get("name") == part:
                return entry
        names = [str(e.get("name")) for e in node if isinstance(e, dict)]
        raise LookupError(
            f"{path}: no entry {part!r}; use an index 0..{len(node) - 1} or one of: "
            f"{', '.join(names)}"
        )
    if isinstance(node, dict):
        if part not in node:
            raise LookupError(f"{path}: no such table or field")
        return node[part]
    raise LookupError(f"{path}: is not a table")


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    files = resources.files("coprod_sim.presets").iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def preset_summary(name: str) -> str:
    """The one-line description of a preset."""
    return load_scenario(name).description.strip().splitlines()[0]


def _read_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict, str]:
    """Raw data of a preset or TOML file, with ``extends`` resolved."""
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if text_name in preset_names():
        source = f"preset {text_name!r}"
        text = resources.files("coprod_sim.presets").joinpath(f"{text_name}.toml").read_text()
        base_dir = None
    elif path.suffix == ".toml" or path.exists():
        source = str(path.resolve())
        if not path.is_file():
            raise ScenarioError(
                [Problem("scenario", text_name, "no such file; give a preset name or a TOML file")]
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(
                [Problem("scenario", text_name, f"cannot be read as a UTF-8 TOML file ({error})")]
            ) from None
        base_dir = path.parent
    else:
        raise ScenarioError(
            [
                Problem(
                    "scenario",
                    text_name,
                    f"is neither a preset nor a .toml file; presets are: "
                    f"{', '.join(preset_names())}",
                )
            ]
        )
    return _parse_raw(text, text_name, source, base_dir, seen)


def _parse_raw(
    text: str, name: str, source: str, base_dir: Path | None, seen: tuple[str, ...] = ()
) -> tuple[dict, str]:
    """Raw data of TOML ``text`` with ``extends`` resolved; ``name`` is what problems call
    the text, and a non-preset ``extends`` is a path relative to ``base_dir``."""
    if source in seen:
        raise ScenarioError([Problem("extends", name, "extends itself (a cycle)")], source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(
            [Problem("(file)", name, f"is not valid TOML: {error}")], source
        ) from None
    base = data.pop("extends", None)
    if base is None:
        return data, source
    if not isinstance(base, str):
        raise ScenarioError([Problem("extends", base, "must be a preset name or a path")], source)
    if base in preset_names():
        base_data, _ = _read_raw(base, (*seen, source))
    elif base_dir is None:
        raise ScenarioError(
            [
                Problem(
                    "extends",
                    base,
                    f"must name a preset here (a path has no folder to start from); presets "
                    f"are: {', '.join(preset_names())}",
                )
            ],
            source,
        )
    else:
        base_data, _ = _read_raw(base_dir / base, (*seen, source))
    return _merge(base_data, data), source


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def scenario_from_text(text: str, name: str) -> Scenario:
    """Read a scenario from TOML ``text`` that came from outside a folder (an upload): it may
    ``extends`` a preset, and every problem calls the text ``name``."""
    data, source = _parse_raw(text, name, name, None)
    return validate(data, source)


def load_scenario(
    name_or_path: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()
) -> Scenario:
    """Load a preset (by name) or a TOML file, apply overrides, and validate."""
    data, source = _read_raw(name_or_path)
    scenario = validate(data, source)
    # Overrides apply to the resolved scenario, so they can reach defaults the file left out.
    return scenario.with_overrides(overrides) if overrides else scenario
