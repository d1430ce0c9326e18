"""One typed object holding every parameter of the model, read from and written to TOML.

A :class:`Scenario` is validated when it is built: unknown keys, wrong types,
out-of-range values and inconsistent settings are refused with a
:class:`~coprod_sim.errors.ScenarioError` that names each field, the value and
what is allowed. Writing a scenario to TOML and reading it back gives an equal
scenario (``Scenario.from_toml(s.to_toml()) == s``).

This module holds the pydantic models, :class:`Scenario`, :class:`SiteSpec` and
:class:`PatientGroup`: each field with its type, default, range and meaning, checked one by one
by pydantic and then together by the rules of :mod:`coprod_sim.scenario.rules`. The order of the
fields is the order of ``to_toml()`` and of ``CoproductionModel``'s keyword parameters.
:func:`validate` and :func:`apply_overrides` are here too, beside the models they are bound to,
so that ``from_toml`` and ``with_overrides`` need no module that imports this one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Self

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coprod_sim import caribbean, limits
from coprod_sim.errors import Problem, ScenarioError, from_validation_error
from coprod_sim.limits import TooDeepError, loads_toml
from coprod_sim.mechanisms.power import LADDER
from coprod_sim.scenario.overrides import set_dotted_keys
from coprod_sim.scenario.rules import consistency_problems, intervention_problems

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AspectRole(_Strict):
    """What kind of change improves an aspect of care, and what that aspect drives."""

    kind: Literal["organisational", "practice"] = Field(
        description="organisational: decided once for a whole site, kept or reversed by the "
        "site; practice: a way of working that spreads provider by provider."
    )
    drives: Literal["experience", "adherence", "lab_monitoring", "retention"] = Field(
        "experience",
        description="experience: part of what patients meet at the clinic (it counts through "
        "what matters to each group); adherence: counselling that restores adherence; "
        "lab_monitoring: viral-load tests done when due; retention: reminders and tracing "
        "that keep patients in care and bring back those lost.",
    )


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
    # The totals over all sites have their own limits (rules.collaborative_is_not_too_large).
    count: int = Field(1, ge=1, le=limits.MAX_SITES, description="Number of sites of this kind.")
    patients: int = Field(
        ge=1, le=limits.MAX_SITE_PATIENTS, description="Patients enrolled per site."
    )
    providers: int = Field(
        ge=1, le=limits.MAX_SITE_PROVIDERS, description="Providers (clinical staff) per site."
    )
    group_shares: dict[str, Share] = Field(
        description="Expected share of each patient group at these sites; sums to 1."
    )


class Intervention(_Strict):
    """Settings changed during a run, from a given week on: managers withdraw their support,
    a crisis begins, seats are added. Only the settings the model reads week by week may
    change (``CHANGEABLE_MID_RUN``); adding seats enlarges each team by as many seats."""

    week: int = Field(
        ge=1,
        le=limits.MAX_STEPS,
        description="The week the change is made: it holds for every week simulated after "
        "week `week` has been recorded.",
    )
    changes: dict[str, bool | int | float | str] = Field(
        min_length=1, max_length=20, description="Settings and their new values."
    )
    label: str = Field("", max_length=200, description="What happened, in words (for charts).")

    def describe(self) -> str:
        """'week 30: authority_support = 0.1', or the label when it has one."""
        if self.label:
            return f"week {self.week}: {self.label}"
        said = ", ".join(f"{k} = {v}" for k, v in self.changes.items())
        return f"week {self.week}: {said}"


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
        max_length=limits.MAX_SITES,
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
        max_length=limits.MAX_ASPECTS,
        description="What staff assume matters to patients; its keys define the aspects "
        "of care (normalised).",
    )
    baseline_quality: dict[str, Share] = Field(
        default_factory=lambda: dict(caribbean.BASELINE_QUALITY),
        description="How well each aspect of care is done at the start.",
    )
    aspect_roles: dict[str, AspectRole] = Field(
        default_factory=lambda: {a: AspectRole(**r) for a, r in caribbean.ASPECT_ROLES.items()},
        description="For each aspect of care: whether changes to it are organisational or "
        "practice changes, and which part of the care cascade it drives.",
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
    token_leave_ratio: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        1.5,
        description="How many times more likely a representative who is the only patient on "
        "the team is to leave it (a token, in Kanter's sense).",
    )
    word_of_mouth: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        1.0,
        description="How much a group's word of mouth about the team (its past and present "
        "representatives' experiences there) sways whether a member accepts a seat; 0: not "
        "at all.",
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
    tokenism_sensitivity: Share = Field(
        0.5,
        description="Chance that being present but unheard, or told one's input was not "
        "taken up without feeling valued, is felt as tokenism (a bad experience).",
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
        0.55,
        description="General group's mean trust in providers at the start (the evidence "
        "patients start with); key populations start lower by their trust_deficit.",
    )
    historical_trust: Share | None = Field(
        None,
        description="General group's trust before any evidence of its own: the base rate "
        "its history sets (key populations lower by their trust_deficit). Unset: the same "
        "as initial_trust.",
    )
    history_weeks: Annotated[float, Field(ge=1.0)] = Field(
        520.0,
        description="Weeks over which a patient's experience becomes their history: the "
        "time constant of the base rate moving toward their trust (inf: history never "
        "changes).",
    )
    trust_appraisal: Share = Field(
        0.2,
        description="How much distrust colours a visit: at trust t a visit that went well "
        "is felt as good with probability 1 - trust_appraisal·(1 - t).",
    )
    initial_regard: Share = Field(0.5, description="Providers' mean initial regard for patients.")
    trust_memory: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.99,
        description="Weekly weight kept on past experiences (1: never forget; 0.99 halves "
        "an experience's weight in 69 weeks).",
    )
    negativity_bias: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        1.5,
        description="How many good experiences one bad experience outweighs.",
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
        2.0,
        description="How much more a bad contact moves stigma than a good one.",
    )
    contact_without_conditions: Share = Field(
        0.75,
        description="How strong a good contact's effect is with none of Allport's conditions, "
        "relative to all four met.",
    )
    peer_latitude: Share = Field(
        0.25, description="Bounded confidence between colleagues (Deffuant's epsilon)."
    )
    peer_rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.1, description="Convergence rate between colleagues (Deffuant's mu)."
    )
    stigma_harm: Share = Field(
        0.3,
        description="How much a provider's stigma spoils a patient's visit.",
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

    # --- improvement capability (Repenning & Sterman 2001) ---
    initial_capability: Share = Field(
        0.5,
        description="Each team's improvement capability at the start (skills, routines, data).",
    )
    capability_reliance: Share = Field(
        0.5,
        description="How much a test's success depends on the team's capability: a team with "
        "none realises 1 - capability_reliance of an idea's design quality.",
    )
    capability_learning: Share = Field(
        0.05,
        description="Share of the remaining gap to full capability one successful PDSA cycle "
        "closes.",
    )
    capability_decay: Share = Field(
        0.005,
        description="Weekly share of capability lost without practice; multiplied by "
        "(1 + crisis_pressure) in a crisis.",
    )

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
    reversal_rate: Share = Field(
        0.01,
        description="Weekly hazard that a site reverses an organisational change nobody "
        "reinforces.",
    )

    # --- care, engagement and retention ---
    visit_rate: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.25, description="Weekly chance a patient in care has a scheduled visit."
    )
    experience_floor: Share = Field(
        0.5,
        description="Chance a visit goes well when care delivers nothing that matters.",
    )
    attendance: Share = Field(
        0.75,
        description="Chance a patient in care attends a scheduled visit at neutral (½) trust, "
        "value of care and stigma.",
    )
    initial_retention: Share = Field(
        0.6,
        description="Share of enrolled patients in care at the start.",
    )
    dropout_rate: Share = Field(
        0.005,
        description="Weekly chance of leaving care at neutral (½) trust, value, stigma and "
        "tracing.",
    )
    return_rate: Share = Field(
        0.01,
        description="Weekly chance a patient out of care returns, at neutral (½) trust and "
        "tracing.",
    )
    mistrust_effect: Annotated[float, Field(ge=1.0, le=20.0)] = Field(
        2.5,
        description="Ratio by which no trust, against full trust, multiplies the hazards of "
        "leaving care and of stopping adherence, and divides the odds of attending and the "
        "hazard of returning.",
    )
    stigma_effect: Annotated[float, Field(ge=1.0, le=20.0)] = Field(
        1.5,
        description="Ratio by which full stigma from one's provider, against none, "
        "multiplies the hazards of leaving care and of stopping adherence, and divides the "
        "odds of attending.",
    )
    access_effect: Annotated[float, Field(ge=1.0, le=20.0)] = Field(
        2.0,
        description="Ratio by which care that delivers nothing of what matters to a group "
        "(confidentiality, safe waiting, hours), against all of it, multiplies the hazard of "
        "leaving care and divides the odds of attending.",
    )
    tracing_effect: Annotated[float, Field(ge=1.0, le=20.0)] = Field(
        3.0,
        description="Ratio by which full reminders and tracing (the retention aspect), "
        "against none, divide the hazard of leaving care and multiply that of returning.",
    )
    initial_on_treatment: Share = Field(
        0.9,
        description="Share of patients in care on antiretroviral treatment at the start.",
    )
    initial_adherence: Share = Field(
        0.76,
        description="Share of patients on treatment adherent, and virally suppressed, at "
        "the start.",
    )
    treatment_start: Share = Field(
        0.5,
        description="Chance a patient in care but not on treatment starts it at a visit.",
    )
    adherence_lapse_rate: Share = Field(
        0.012,
        description="Weekly chance an adherent patient stops taking treatment as prescribed, "
        "at neutral (½) trust and stigma.",
    )
    adherence_counselling: Share = Field(
        0.5,
        description="Chance a patient not adhering resumes after a visit where adherence "
        "support is done fully (it scales with that aspect's quality).",
    )
    enhanced_counselling: Share = Field(
        0.46,
        description="Chance a patient resumes adherence after a viral-load test finds "
        "their virus unsuppressed (enhanced adherence counselling).",
    )
    suppression_rate: Share = Field(
        0.09,
        description="Weekly chance an adherent patient not yet suppressed becomes virally "
        "suppressed.",
    )
    rebound_rate: Share = Field(
        0.23,
        description="Weekly chance a suppressed patient who stops adhering loses suppression.",
    )
    viral_load_interval: int = Field(
        52,
        ge=1,
        le=520,
        description="Weeks between routine viral-load tests: a patient is due once this long "
        "has passed since their last.",
    )

    # --- crisis ---
    crisis_week: int | None = Field(
        None, ge=1, le=100_000, description="Week a crisis switches sites to command-and-control."
    )
    crisis_duration: int = Field(12, ge=1, le=10_000, description="Weeks the crisis lasts.")
    crisis_sites: list[str] = Field(
        default_factory=list,
        max_length=limits.MAX_SITES,
        description="Sites or regions the crisis hits, e.g. ['Barbados']; all sites if empty.",
    )
    recovery: Literal["coproduced", "top_down"] = Field(
        "top_down", description="How sites recover after the crisis."
    )
    crisis_strain: Share = Field(0.3, description="How much the crisis spoils visits.")
    crisis_pressure: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        3.0, description="How much faster changes erode under crisis pressure."
    )

    # --- changes during the run ---
    interventions: list[Intervention] | None = Field(
        None,
        max_length=100,
        description="Settings changed during the run, each from its week on (unset: none).",
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
    def key_populations(self) -> tuple[str, ...]:
        """Names of the marginalised key populations (``key_population`` groups), in group order."""
        return tuple(g.name for g in self.groups if g.key_population)

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

    # --- changes during the run ---
    def settings_from(self) -> list[tuple[int, Scenario]]:
        """Each intervention's week and the settings in force from then on (every earlier
        intervention applied too), in week order; interventions of one week in the order
        given. The settings have no interventions of their own.

        Raises :class:`ScenarioError` naming ``interventions.K.changes.FIELD`` for a
        setting that cannot change during a run, a value the settings refuse, seats taken
        away, or a crisis moved into the past or once it has begun."""
        if not self.interventions:
            return []
        data = self.to_dict()
        data.pop("interventions")
        current = validate(data, "interventions")
        order = sorted(range(len(self.interventions)), key=lambda k: self.interventions[k].week)
        steps, problems = [], []
        for k in order:
            intervention = self.interventions[k]
            where = f"interventions.{k}.changes"
            found = intervention_problems(current, intervention, where)
            if found:
                problems += found
                continue
            changes = dict(intervention.changes)
            added = int(changes.get("representative_seats", current.representative_seats))
            added -= current.representative_seats
            if added > 0:  # a team gains the seats; its staff stay
                changes["team_size"] = current.team_size + added
            try:
                current = current.with_overrides(changes)
            except ScenarioError as error:
                problems += [
                    Problem(f"{where}.{p.field}", p.value, p.allowed) for p in error.problems
                ]
                continue
            steps.append((intervention.week, current))
        if problems:
            raise ScenarioError(problems, "interventions")
        return steps

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
            data = loads_toml(text)
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError(
                [Problem("(file)", source or "<text>", f"is not valid TOML: {error}")], source
            ) from None
        except TooDeepError as error:
            problem = Problem("(file)", source or "<text>", str(error))
            raise ScenarioError([problem], source) from None
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


class InconsistentScenarioError(ScenarioError):
    """Settings that are valid one by one but not together (raised inside pydantic's
    validation, which carries its problems into the :class:`ScenarioError` it becomes)."""


def site_names(sites: Iterable[SiteSpec]) -> list[str]:
    """'Jamaica 1' ... 'Jamaica 20' for an entry of 20 sites, 'Barbados' for an entry of one."""
    return [
        spec.name if spec.count == 1 else f"{spec.name} {k + 1}"
        for spec in sites
        for k in range(spec.count)
    ]


# ---------------------------------------------------------------------------------------------
# Validation and overrides, bound to these models
# ---------------------------------------------------------------------------------------------
_ALLOWED = {
    "": tuple(Scenario.model_fields),
    "sites": tuple(SiteSpec.model_fields),
    "groups": tuple(PatientGroup.model_fields),
    "aspect_roles": tuple(AspectRole.model_fields),
    "interventions": tuple(Intervention.model_fields),
}


def validate(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Build a :class:`Scenario` from plain data, or raise :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as error:
        raise from_validation_error(error, _ALLOWED, source) from None


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str]) -> None:
    """Set dotted keys in raw scenario data, in place.

    A dotted key walks tables by name and lists of tables by index or by the
    entry's ``name``: ``sites.Jamaica.patients`` or ``sites.0.patients``.
    """
    set_dotted_keys(data, overrides, Scenario.model_fields)
