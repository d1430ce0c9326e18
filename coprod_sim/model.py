"""``CoproductionModel``: the Mesa model that assembles the mechanisms.

One step is one week; :meth:`CoproductionModel.step` is the week's schedule:

1. the calendar, per site: crisis phase, effective rung, external support,
   whether the team meets; at a learning session teams take up each other's
   changes (the first, in week 1, is where teams start: nothing is shared yet);
2. team meetings (``improvement.Improvement.meet``): inclusion, voice, ideas,
   choice, feedback, contact;
3. PDSA cycles that fall due; successful changes are scaled up; successes build
   each team's improvement capability, which erodes week by week (faster in a crisis);
4. uptake (Bass or threshold) and decay (sustainment) of changes in use;
5. quality of care per provider and the value it delivers to each group;
6. attitude exchange between colleagues (Deffuant);
7. care: visits, experiences, trust both ways; at the visits attended, starting
   treatment, viral-load tests and adherence counselling;
8. treatment: adherence lapses, viral suppression and rebound (the care cascade);
9. retention: leaving and returning to care; experience becoming history;
10. outputs are recorded.

The improvement process (steps 1's learning sessions, 2 and 3) lives in
:mod:`coprod_sim.improvement`; the model hands it the population and reads back
what it decided. See docs/ODD.md for the full description.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.agentset import _HardKeyAgentSet
from mesa.experimental.mesa_signals.signal_types import ModelSignals
from numpy.typing import NDArray

from coprod_sim import initialization
from coprod_sim.agents import Manager, Patient, Provider
from coprod_sim.collector import collaborative_collector
from coprod_sim.errors import Problem, ScenarioError
from coprod_sim.improvement import Changes, GroupViews, Improvement, Teams
from coprod_sim.initialization import Site
from coprod_sim.mechanisms import (
    bounded_confidence,
    care,
    cascade,
    crisis,
    priorities,
    retention,
    sustainment,
    uptake,
)
from coprod_sim.mechanisms import trust as trust_mechanism
from coprod_sim.mechanisms.effects import event_occurs, event_probability, factor, overwrite
from coprod_sim.outputs import Recorder
from coprod_sim.scenario import Scenario, load_scenario, validate


class CoproductionModel(mesa.Model):
    """Patients, providers and managers improving care together, week by week.

    Build it from keyword parameters (every field of :class:`Scenario`, with
    CaReQIC defaults) and ``rng``; from a ready :class:`Scenario` with
    ``parameters=scenario``; or from a preset or TOML file with
    :meth:`from_scenario`. Run it with ``model.run_for(weeks)``.

    ``with_agents=False`` builds no per-person Mesa agents (for sweeps, where nothing
    reads them): the arrays, outputs and results are the same, only
    ``model.agents`` is empty.

    ``record_steps`` (for sweeps that keep a few weeks): record the outputs at those
    steps only. Each frame then has the rows of those steps, the same rows as a full
    recording's, and there is no Mesa DataCollector (``datacollector`` is ``None``);
    the run itself is the same.

    Attributes:
        parameters: the validated :class:`Scenario`.
        week: the weeks simulated so far (Mesa's ``model.time``).
        sites: the sites (clinics), in order.
        patients, providers: population state as arrays (see ``population``).
        improvement: the improvement process (teams, changes, tests; see ``improvement``).
        teams: each site's improvement team (``improvement.teams``).
        changes: every change tested, and who uses it (``improvement.changes``).
        network: ties between providers, as edges and a sparse adjacency matrix;
            ``provider_network`` gives them as a networkx graph.
        datacollector: Mesa DataCollector with the collaborative-level series.
        outputs: tidy per-step DataFrames (collaborative, sites, groups, site_groups).
    """

    def __init__(
        self,
        *,
        rng: Any = None,
        parameters: Scenario | None = None,
        with_agents: bool = True,
        record_steps: Iterable[int] | None = None,
        **overrides: Any,
    ) -> None:
        scenario = parameters
        if scenario is None:
            scenario = validate(overrides, "model parameters")
        elif overrides:
            scenario = scenario.with_overrides(overrides)
        super().__init__(rng=rng)
        self.parameters: Scenario = scenario
        # The settings in force this week: the scenario's, until an intervention changes
        # them (``intervene``, ``Scenario.interventions``); the week's schedule reads these.
        self.settings: Scenario = scenario
        self._pending: list[tuple[int, Scenario]] = scenario.settings_from()
        self._build(with_agents)
        self.outputs = Recorder(self, record_steps)
        self.outputs.record(self, visits=None)  # week 0: the state before the first week
        self.datacollector: mesa.DataCollector | None = None
        if record_steps is None:
            self.datacollector = collaborative_collector(self.outputs)
            self.datacollector.collect(self)

    @classmethod
    def from_scenario(
        cls,
        name_or_path: str | Path | Scenario,
        *,
        rng: Any = None,
        with_agents: bool = True,
        record_steps: Iterable[int] | None = None,
        **overrides: Any,
    ) -> CoproductionModel:
        """Build from a preset name, a TOML file or a :class:`Scenario`, with overrides as
        keyword arguments (dotted keys via a dict: ``**{"groups.msm.trust_deficit": 0.3}``)."""
        scenario = (
            name_or_path if isinstance(name_or_path, Scenario) else load_scenario(name_or_path)
        )
        if overrides:
            scenario = scenario.with_overrides(overrides)
        return cls(parameters=scenario, rng=rng, with_agents=with_agents, record_steps=record_steps)

    @property
    def week(self) -> int:
        """Weeks simulated so far: 0 before the first step (Mesa's ``model.time``)."""
        return int(self.time)

    @property
    def teams(self) -> Teams:
        """Each site's improvement team."""
        return self.improvement.teams

    @property
    def changes(self) -> Changes:
        """Every change tested, where it is adopted and who uses it."""
        return self.improvement.changes

    # ------------------------------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------------------------------
    def _build(self, with_agents: bool) -> None:
        s = self.parameters
        self.group_names = [g.name for g in s.groups]
        self.aspect_names = list(s.aspects)
        self.what_matters = priorities.normalise(
            [[g.what_matters[a] for a in s.aspects] for g in s.groups]
        )
        self.staff_view = priorities.normalise([s.staff_assumptions[a] for a in s.aspects])
        self.baseline = np.array([s.baseline_quality[a] for a in s.aspects])
        self.group_reachability = np.array([g.reachability for g in s.groups])
        self.key_population = np.isin(self.group_names, s.key_populations)
        roles = [s.aspect_roles[a] for a in s.aspects]
        self.organisational = np.array([r.kind == "organisational" for r in roles])
        self.driver_columns = care.driver_columns([r.drives for r in roles])

        # The collaborative, in the order it draws from the generator (ODD §5).
        layout = initialization.build_sites(s, self.group_names, self.rng)
        self.sites = layout.sites
        self.crisis_hit = layout.crisis_hit
        self.patients_by_site_group = np.stack(layout.group_counts).astype(float)
        self.patients = initialization.build_patients(s, layout, self.rng)
        self.providers, team_staff = initialization.build_providers(s, layout, self.rng)
        self.network = initialization.build_network(s, layout, self.providers, self.rng)
        self._network_graph: nx.Graph | None = None
        self.improvement = Improvement(
            s,
            self.rng,
            self.patients,
            self.providers,
            GroupViews(self.what_matters, self.staff_view, self.group_reachability,
                       self.key_population, self.organisational),
            team_staff,
        )  # fmt: skip
        self.in_care_by_cell = self._count_in_care_by_cell()
        self.quality = np.tile(self.baseline, (self.providers.n, 1))
        self._derive_from_quality()
        self.care_factor = retention.care_factor(
            self.value, self.providers.stigma, s.access_effect, s.stigma_effect
        ).ravel()
        self._patient_care = self.patients.per_cell(self.care_factor)  # each patient's
        self.returned = self.out_of_care_before = np.zeros(self.patients.n, dtype=bool)
        # Each patient's cell times the 5 states of a visit (``_care``), for bincount; and
        # which of a provider's (group, state) visit counts are due, and attended.
        self._visit_code = self.patients.cell.astype(np.intp) * 5
        state = np.arange(5)
        self._due_and_attended = np.tile(
            np.column_stack([state >= 2, state >= 3]), (len(self.group_names), 1)
        ).astype(float)
        self.learning_session_weeks = learning_session_weeks(s.support_weeks, s.learning_sessions)
        # The calendar before the first week.
        n_sites = len(self.sites)
        self.site_phase = np.full(n_sites, crisis.Phase.BEFORE)
        self.site_rung = np.full(n_sites, s.power_sharing)
        self.site_reporting = np.full(n_sites, s.feedback_loop)
        self.site_support = np.full(n_sites, s.support_weeks > 0)
        self.site_meeting = np.zeros(n_sites, dtype=bool)
        # What ``_calendar`` derives from the collaborative's phase, when it changes.
        self._calendar_phase: crisis.Phase | None = None
        self._in_crisis = np.zeros(n_sites, dtype=bool)
        self._strain = np.zeros((self.providers.n, 1))
        self.managers: list[Manager] = []
        self.provider_agents: list[Provider] = []
        self.patient_agents: list[Patient] = []
        if with_agents:
            self._build_agents()
        self.improvement.recruit()
        self.patient_trust = self.patients.trust()

    def _build_agents(self) -> None:
        """Mesa agents, as views into the arrays."""
        # Collecting garbage during a million allocations only wastes time: they form no
        # cycles to free.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.managers = [Manager(self, site) for site in range(len(self.sites))]
            self.provider_agents = [Provider(self, i) for i in range(self.providers.n)]
            self.patient_agents = self._patient_views()
        finally:
            if was_enabled:
                gc.enable()

    def _patient_views(self) -> list[Patient]:
        """One :class:`Patient` per patient, made and registered in bulk.

        ``Patient(model, i)`` costs ~3 us, most of it Mesa's per-agent bookkeeping (a
        signal, a log call, two set insertions): a tenth of a CaReQIC run. This makes
        the same agents (the attributes ``Agent.__init__`` and ``Patient.__init__`` set,
        ``unique_id`` counting on from the model's counter) and registers them in Mesa's
        same two agent sets, at once. Mesa's registration also tells observers: where
        something could be told (a subscriber to the model's agents, a dataset tracking
        patients, a batch of signals open), the agents are made one by one as usual.
        This leans on the internals of Mesa 3.5 (the version pinned).
        """
        n = self.patients.n
        observed = (
            Patient._datasets
            or self._batch_context is not None
            or self._has_subscribers("agents", ModelSignals.AGENT_ADDED)
        )
        if observed or not hasattr(self, "_all_agents") or Patient in self._agents_by_type:
            return [Patient(self, i) for i in range(n)]
        first = self.agent_id_counter
        agents = []
        for i in range(n):  # each made whole at once, in __init__'s order: the most compact
            agent = Patient.__new__(Patient)
            agent.model = self
            agent.unique_id = first + i
            agent.pos = None
            agent.index = i
            agents.append(agent)
        self.agent_id_counter = first + n
        for agent in agents:
            self._all_agents.add(agent)
        self._agents_by_type[Patient] = _HardKeyAgentSet(agents, random=self.random)
        return agents

    @property
    def provider_network(self) -> nx.Graph:
        """Ties between providers as a networkx graph; nodes carry ``site`` and ``team``."""
        if self._network_graph is None:
            self._network_graph = self.network.graph(self.providers.site, self.providers.on_team)
        return self._network_graph

    # ------------------------------------------------------------------------------------------
    # The week
    # ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one week (Mesa calls this; use ``run_for``): the week's schedule."""
        week = self.week
        # Inside a step, the week is the one being simulated (Mesa has advanced its clock):
        # a change made once week w had been run holds from week w + 1.
        while self._pending and self._pending[0][0] < week:
            self._change_settings(self._pending.pop(0)[1])
        in_crisis, learning_session = self._calendar(week)
        if learning_session:
            self.improvement.learning_session(
                self.site_rung, self.site_support, self.site_quality()
            )
        if self.site_meeting.any():
            self.improvement.meet(
                week, self.site_rung, self.site_reporting, self.site_meeting, self.site_quality()
            )
        self.improvement.advance_tests(week, ~in_crisis)
        self.improvement.erode_capability(in_crisis)
        self._uptake_and_decay(in_crisis)
        self._update_quality()
        self._exchange_attitudes()
        visits = self._care(self._strain)
        # Trust after this week's visits: nothing changes the evidence again this week, so
        # treatment, retention and the outputs share it, and the factor it puts on rates.
        trust = self.patient_trust = self.patients.trust()
        mistrust = factor(self.settings.mistrust_effect, trust)
        self._treatment(mistrust)
        self._retention(trust, mistrust)
        self._observe(visits)

    def _calendar(self, week: int) -> tuple[NDArray[np.bool_], bool]:
        """Each site's crisis phase, effective rung, external support and whether its team
        meets this week. Returns the sites in crisis and whether a learning session is held."""
        s = self.settings
        # The sites' phases, rungs and reporting follow from the collaborative's phase
        # alone: recompute them only when it changes (twice a run at most).
        phase = crisis.phase(week, s.crisis_week, s.crisis_duration)
        if phase != self._calendar_phase:
            self._calendar_phase = phase
            self.site_phase = crisis.site_phases(
                week, s.crisis_week, s.crisis_duration, self.crisis_hit
            )
            self._in_crisis = self.site_phase == crisis.Phase.CRISIS
            self.site_rung = crisis.effective_rung(s.power_sharing, self.site_phase, s.recovery)
            self.site_reporting = crisis.reporting_back(
                s.feedback_loop, self.site_phase, s.recovery
            )
            # the crisis strain on each provider's visits, (providers, 1)
            self._strain = np.where(self._in_crisis, s.crisis_strain, 0.0)[self.providers.site]
            self._strain = self._strain[:, None]
        in_crisis = self._in_crisis
        supported = week <= s.support_weeks
        self.site_support = supported & ~in_crisis
        self.site_meeting = meeting_due(week, s) & ~in_crisis
        return in_crisis, supported and week in self.learning_session_weeks

    def intervene(
        self, changes: Mapping[str, Any], week: int | None = None, label: str = ""
    ) -> Scenario:
        """Change settings from week ``week`` on (by default the current week: from the next
        step on) without starting again: managers withdraw their support, a crisis begins,
        seats are added. The change joins ``parameters.interventions``, so a model built
        from ``parameters`` with the same seed makes the same run.

        Only the settings in :data:`~coprod_sim.scenario.rules.CHANGEABLE_MID_RUN` may
        change. Raises :class:`ScenarioError` naming the field, the value and what is
        allowed, and changes nothing, for a week already run or a change refused.
        Returns the new ``parameters``."""
        week = self.week if week is None else week
        if isinstance(week, bool) or not isinstance(week, int) or week < max(self.week, 1):
            raise ScenarioError(
                [
                    Problem(
                        "week",
                        week,
                        f"the run is at week {self.week}: a change can be made in week "
                        f"{max(self.week, 1)} or later",
                    )
                ],
                "intervention",
            )
        data = self.parameters.to_dict()
        made = {"week": week, "changes": dict(changes)} | ({"label": label} if label else {})
        data["interventions"] = [*data.get("interventions", []), made]
        updated = validate(data, "intervention")
        self.parameters = updated
        self._pending = [(w, s) for w, s in updated.settings_from() if w >= self.week]
        return updated

    def _change_settings(self, settings: Scenario) -> None:
        """Put ``settings`` in force from this week on (an intervention's)."""
        added = settings.representative_seats - self.settings.representative_seats
        if added > 0:
            self.improvement.teams.add_seats(added)
        self.settings = settings
        self.improvement.scenario = settings
        self._calendar_phase = None  # the sites' rungs, reporting and strain are derived anew

    def introduce_change(
        self, site: int, aspect: str, users: Iterable[int] = (), design_quality: float = 1.0
    ) -> int:
        """Bring a ready-made change into use at a site, outside any team's testing (an
        evidence-based change a planner rolls out). A practice change: every provider of
        the site may take it up, and the providers in ``users`` start using it now; an
        organisational change (``aspect_roles``) is in place at once for every provider of
        the site. Returns the change's id."""
        if aspect not in self.aspect_names:
            raise ValueError(
                f"aspect {aspect!r} is not an aspect of care; aspects are: "
                f"{', '.join(self.aspect_names)}"
            )
        if not 0 <= design_quality <= 1:
            raise ValueError(f"design_quality must be in [0, 1], got {design_quality}")
        if not 0 <= site < len(self.sites):
            raise ValueError(f"site {site} does not exist; sites are 0..{len(self.sites) - 1}")
        users = np.fromiter(users, dtype=np.int64)
        span = self.providers.at_site(site)
        if np.any((users < span.start) | (users >= span.stop)):
            raise ValueError(
                f"users must be providers of site {site}: {span.start}..{span.stop - 1}"
            )
        return self.improvement.introduce(
            site, self.aspect_names.index(aspect), self.week, users, design_quality
        )

    def _uptake_and_decay(self, in_crisis: NDArray[np.bool_]) -> None:
        """Providers take up practice changes (Bass or threshold) and drop them
        (sustainment). One draw per slot decides both; only the slots that can change are
        computed: the open ones for uptake, the practice slots in use for decay. (Every
        slot is drawn for, retired ones too; the rest is over the hot slots: see
        ``improvement.changes``.)"""
        s = self.settings
        ch = self.changes
        if ch.n_slots == 0:
            return
        draw = ch.draws(self.rng)
        # Outside a crisis the crisis terms are the same for every slot: scalars.
        crisis = in_crisis.any()
        adopts = np.zeros(ch.adopted.size, dtype=bool)
        open_ = np.flatnonzero(ch.open)
        share = ch.colleague_share(self.network.adjacency, self.network.degree, open_)
        if s.uptake_rule == "bass":
            push = s.external_influence * s.authority_support
            if crisis:
                push = np.where(in_crisis[ch.slot_site[open_]], 0.0, push)
            adopt_probability = uptake.adoption_probability(
                uptake.bass_hazard(push, s.imitation, share)
            )
            adopts[open_] = draw[open_] < adopt_probability
        else:
            adopts[open_] = uptake.threshold_adopts(
                share, self.providers.threshold[ch.slot_provider[open_]]
            )
        aspect, quality, _ = ch.arrays()
        caseload = self._caseload_weights()
        # (Column-major, the same values: each row's maximum is then taken twice as fast.)
        demand = sustainment.patient_demand(np.asfortranarray(caseload))
        in_use = np.flatnonzero(ch.adopted & ch.slot_practice)
        change = ch.slot_change[in_use]
        site = ch.slot_site[in_use]
        hazard = sustainment.abandonment_hazard(
            s.decay_rate,
            demand[ch.slot_provider[in_use], aspect[change]],
            quality[change],
            self.site_support[site],
            s.support_reinforcement,
            np.where(in_crisis[site], s.crisis_pressure, 0.0) if crisis else 0.0,
        )
        ch.adopted[in_use[draw[in_use] < uptake.adoption_probability(hazard)]] = False
        ch.adopted |= adopts
        self._keep_or_reverse(in_crisis, caseload, crisis)

    def _keep_or_reverse(
        self, in_crisis: NDArray[np.bool_], caseload: NDArray, crisis: bool
    ) -> None:
        """Sites keep or reverse the organisational changes in place, each as a whole, with
        the sustainment hazard at the site's rate; a reversed change goes back to the team,
        which may decide it again. (``crisis``: whether any site is in crisis.)"""
        s, ch = self.settings, self.changes
        in_place = ch.organisational_in_place()
        if in_place.size == 0:
            return
        site = ch.pair_site[in_place]
        aspect, quality, _ = ch.arrays()
        change = ch.pair_change[in_place]
        bounds = self.providers.site_bounds
        demand = sustainment.patient_demand(np.add.reduceat(caseload, bounds[:-1], axis=0))
        hazard = sustainment.abandonment_hazard(
            s.reversal_rate,
            demand[site, aspect[change]],
            quality[change],
            self.site_support[site],
            s.support_reinforcement,
            np.where(in_crisis[site], s.crisis_pressure, 0.0) if crisis else 0.0,
        )
        reversed_ = self.rng.random(in_place.size) < event_probability(hazard)
        if reversed_.any():
            ch.reverse(in_place[reversed_])
            self.improvement.reconsider(site[reversed_], change[reversed_])

    def _caseload_weights(self) -> NDArray:
        """What each provider's patients in care want, summed: (providers, aspects)."""
        return self.in_care_by_cell @ self.what_matters

    def _count_in_care_by_cell(self) -> NDArray:
        """Patients in care per (provider, group)."""
        p = self.patients
        counts = np.bincount(p.cell[p.in_care], minlength=self.providers.n * len(self.group_names))
        return counts.reshape(self.providers.n, -1).astype(float)

    def _update_quality(self) -> None:
        ch = self.changes
        n_aspects = len(self.aspect_names)
        if ch.adopted.any():
            aspect, design, _ = ch.arrays()
            used = ch.slot_change[ch.adopted]
            gains = np.bincount(
                ch.slot_provider[ch.adopted] * n_aspects + aspect[used],
                weights=self.settings.effect_size * design[used],
                minlength=self.providers.n * n_aspects,
            )
            quality = gains.reshape(self.providers.n, n_aspects)
            quality += self.baseline  # baseline + gains
        else:
            quality = np.tile(self.baseline, (self.providers.n, 1))
        self.quality = np.minimum(quality, 1.0, out=quality)
        self._derive_from_quality()

    def _derive_from_quality(self) -> None:
        """The value each provider's care delivers to each group, and the quality of each
        clinical driver of the cascade per provider (``care``)."""
        self.value = care.value_delivered(self.quality, self.what_matters)
        self.driver_quality = {
            driver: care.driver_quality(self.quality, columns)
            for driver, columns in self.driver_columns.items()
        }

    def site_quality(self) -> NDArray:
        """Mean quality of each aspect of care over each site's providers: (sites, aspects)."""
        bounds = self.providers.site_bounds
        return np.add.reduceat(self.quality, bounds[:-1], axis=0) / np.diff(bounds)[:, None]

    def _exchange_attitudes(self) -> None:
        s = self.settings
        if s.peer_rate == 0:
            return  # no exchange: skip drawing the matching
        first, second = bounded_confidence.random_matching(
            self.network.edges, self.providers.n, self.rng
        )
        bounded_confidence.exchange(
            self.providers.stigma, first, second, s.peer_latitude, s.peer_rate
        )

    def _care(self, strain: NDArray) -> NDArray:
        """Visits, their experiences and the trust they build or break, both ways; and, at
        the visits attended, starting treatment, viral-load tests and counselling. Returns
        the visits as counts per (provider, group, state).

        One uniform draw per patient decides, nested, whether a visit is due,
        whether the patient attends and whether it goes well.
        """
        s = self.settings
        p = self.patients
        n_groups = len(self.group_names)
        good_table = (
            care.good_visit_probability(
                self.value, self.providers.stigma, strain, s.experience_floor, s.stigma_harm
            )
            .astype(np.float32)
            .ravel()
        )
        self.care_factor = retention.care_factor(
            self.value, self.providers.stigma, s.access_effect, s.stigma_effect
        ).ravel()  # per (provider, group) cell: what a patient meets at the clinic
        self._patient_care = p.per_cell(self.care_factor)  # for attending, and leaving
        trust = p.trust()
        attend = retention.visit_attendance(
            trust, self._patient_care, s.attendance, s.mistrust_effect
        ).astype(np.float32)
        attend *= np.float32(s.visit_rate)  # visit_rate · P(attend), in place
        draw = self.rng.random(p.n, dtype=np.float32)
        scheduled = p.in_care & (draw < np.float32(s.visit_rate))
        attended = p.in_care & (draw < attend)
        felt_good = p.per_cell(good_table)
        felt_good *= care.appraisal(trust, s.trust_appraisal)
        felt_good *= attend  # P(attend and feel it went well), in place
        went_well = attended & (draw < felt_good)
        trust_mechanism.update_evidence(
            p.good, p.bad, went_well, attended & ~went_well, s.trust_memory, s.negativity_bias
        )
        # 0 out of care, 1 in care, 2 visit missed, 3 visit went badly, 4 visit went well
        state = p.in_care.view(np.int8) + scheduled.view(np.int8)  # (booleans are 0 or 1)
        state += attended.view(np.int8)
        state += went_well.view(np.int8)
        visits = np.bincount(self._visit_code + state, minlength=self.providers.n * n_groups * 5)
        visits = visits.reshape(self.providers.n, n_groups, 5)

        # Providers' regard: one fractional rating a week, the share of their
        # scheduled visits patients turned up for.
        # (Counts are whole numbers: summed as floats, by a matrix product, they are exact.)
        due, turned_up = (visits.reshape(self.providers.n, -1) @ self._due_and_attended).T
        rated = due > 0
        rating = np.divide(turned_up, due, out=np.zeros(due.size), where=rated)
        trust_mechanism.update_evidence(
            self.providers.regard_good,
            self.providers.regard_bad,
            rating,
            rated * (1 - rating),
            s.trust_memory,
            s.negativity_bias,
        )
        self._clinical_care(np.flatnonzero(attended))
        return visits

    def _clinical_care(self, seen: NDArray[np.int64]) -> None:
        """At the visits attended (patients ``seen``): treatment starts, viral-load tests of
        those due, and counselling of those not adhering (``cascade``)."""
        s, p = self.settings, self.patients
        provider = p.provider[seen]
        on = p.on_treatment[seen]
        draw = self.rng.random(seen.size)
        test_draw = self.rng.random(seen.size)
        tested = (
            on
            & cascade.test_due(p.last_test[seen], self.week, s.viral_load_interval)
            & (test_draw < self.driver_quality["lab_monitoring"][provider])
        )
        p.last_test[seen[tested]] = self.week
        # Starting treatment and resuming adherence concern different patients: one draw.
        starts = ~on & (draw < s.treatment_start)
        resumes = (
            on
            & ~p.adherent[seen]
            & (
                draw
                < cascade.resume_probability(
                    self.driver_quality["adherence"][provider],
                    tested & ~p.suppressed[seen],
                    s.adherence_counselling,
                    s.enhanced_counselling,
                )
            )
        )
        p.on_treatment[seen[starts]] = True
        p.adherent[seen[starts | resumes]] = True

    def _treatment(self, mistrust: NDArray) -> None:
        """A week of treatment: adherent patients may lapse (mistrust and stigma), and viral
        load follows adherence with its lag (``cascade``). ``mistrust`` is each patient's
        T^(trust−½); the stigma part of the hazard is per (provider, group) cell."""
        s, p = self.settings, self.patients
        stigma_hazard = cascade.stigma_lapse_hazard(
            self.providers.stigma.ravel(), s.adherence_lapse_rate, s.stigma_effect
        )
        lapse = p.per_cell(stigma_hazard)
        lapse = overwrite(np.divide, lapse, mistrust)  # cascade.lapse_hazard, in place
        draw = self.rng.random(p.n, dtype=np.float32)
        # draw < lapse_probability_from_factors(...), as ``event_occurs`` compares it
        p.adherent &= ~(p.on_treatment & event_occurs(draw, lapse))
        viral_draw = self.rng.random(p.n, dtype=np.float32)
        p.suppressed = cascade.next_viral_state(
            p.suppressed, p.on_treatment & p.adherent, viral_draw,
            s.suppression_rate, s.rebound_rate,
        )  # fmt: skip

    def _retention(self, trust: NDArray, mistrust: NDArray) -> None:
        """Leaving and returning to care, with ``trust`` after this week's visits and
        ``mistrust`` its factor T^(trust−½). Leaving care stops treatment; experience slowly
        becomes history (the base rate, ``trust``)."""
        s = self.settings
        p = self.patients
        # Tracing is per provider: its factor C^(tracing−½) too.
        tracing = p.per_provider(factor(s.tracing_effect, self.driver_quality["retention"]))
        leave = retention.leave_hazard_from_factors(
            mistrust, self._patient_care, tracing, s.dropout_rate
        )
        back = retention.return_hazard_from_factors(mistrust, tracing, s.return_rate)
        draw = self.rng.random(p.n, dtype=np.float32)
        # One draw each: those in care may leave, the others may return. (Each compared
        # with its own hazard: the same booleans as comparing every draw with both.)
        out_of_care = self.out_of_care_before = ~p.in_care
        moves = event_occurs(draw, np.where(p.in_care, leave, back))
        self.returned = out_of_care & moves
        moved = np.flatnonzero(moves)
        was_in_care = p.in_care[moved]
        n_cells = self.in_care_by_cell.size
        self.in_care_by_cell += np.bincount(
            p.cell[moved], weights=np.where(was_in_care, -1.0, 1.0), minlength=n_cells
        ).reshape(self.in_care_by_cell.shape)  # whole numbers: exact in floating point
        p.in_care ^= moves
        p.on_treatment &= p.in_care
        p.adherent &= p.on_treatment
        p.suppressed &= p.on_treatment
        trust_mechanism.drift_base_rate(p.base_rate, trust, s.history_weeks)

    # ------------------------------------------------------------------------------------------
    # Outputs
    # ------------------------------------------------------------------------------------------
    def _observe(self, visits: NDArray | None) -> None:
        """Record the week's outputs (and Mesa's collaborative series)."""
        self.outputs.record(self, visits)
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"CoproductionModel({s.name!r}, week={self.week}, sites={len(self.sites)}, "
            f"patients={self.patients.n}, providers={self.providers.n})"
        )


def learning_session_weeks(support_weeks: int, sessions: int) -> set[int]:
    """Weeks of the learning sessions: the first in week 1, the rest evenly spaced."""
    return {1 + (k * support_weeks) // sessions for k in range(sessions)} if sessions else set()


def meeting_due(week: int, s: Scenario) -> bool:
    """Whether the teams meet in ``week`` (a site in crisis does not): every
    ``meeting_interval`` weeks from week 1, during external support and, if
    ``meetings_after_support``, after it."""
    supported = week <= s.support_weeks
    return (week - 1) % s.meeting_interval == 0 and (supported or s.meetings_after_support)


def _model_signature() -> inspect.Signature:
    """``CoproductionModel(*, rng=None, power_sharing=6, ...)``: every scenario field as a
    keyword parameter with its default, so Mesa's tools and ``help()`` see them."""
    defaults = Scenario()
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params.append(inspect.Parameter("rng", inspect.Parameter.KEYWORD_ONLY, default=None))
    params.append(inspect.Parameter("parameters", inspect.Parameter.KEYWORD_ONLY, default=None))
    params.append(inspect.Parameter("with_agents", inspect.Parameter.KEYWORD_ONLY, default=True))
    params.append(inspect.Parameter("record_steps", inspect.Parameter.KEYWORD_ONLY, default=None))
    for name, info in Scenario.model_fields.items():
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=getattr(defaults, name),
                annotation=info.annotation,
            )
        )
    return inspect.Signature(params)


CoproductionModel.__init__.__signature__ = _model_signature()  # type: ignore[attr-defined]

__all__ = ["CoproductionModel", "Site"]
