"""The improvement process: the teams' meetings, PDSA tests, scale-up and learning sessions.

:class:`Improvement` is built with explicit inputs (the scenario, the model's
generator, the population it reads and changes, and what matters to each
group and to staff) and owns the teams and the catalogue of changes. The model
calls it at three points of the week; it never calls back into the model:

``learning_session``  all teach, all learn: supported teams take up changes other
                      teams scaled up;
``meet``              the teams flagged meet once (the seven phases below) and
                      return what they decided (:class:`Meeting`);
``advance_tests``     PDSA cycles that fall due; successful changes are scaled up;
                      successes build the team's capability (``capability``);
``erode_capability``  the week's erosion of capability, faster in a crisis.

A meeting, for every team that meets at once. Phases 2, 3, 5 and 7 are vectorised
over (team × seat) arrays; filling empty seats (1) goes site by site over the sites
with a vacancy, choosing (4) team by team, and contact (6) seat by seat:

1. representatives who left care give up their seats; empty seats are filled
   (``inclusion``);
2. representatives attend or not (``retention.meeting_attendance_probability``); the willing
   take the floor in order of dominance (``voice``);
3. each member heard proposes an idea about what matters to them; the team folds
   what its representatives said into its picture of what matters to patients
   (``priorities``);
4. the team chooses ideas to test while it has capacity and can agree
   (``priorities``, ``power``);
5. it reports back, or not, on each representative's input (``feedback``);
6. staff and representatives meet as partners, which moves stigma and regard
   (``contact``);
7. representatives whose trust has run out leave (``retention``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coprod_sim.improvement.changes import Changes, Origin
from coprod_sim.improvement.teams import EMPTY, Idea, Teams, Test
from coprod_sim.mechanisms import (
    capability,
    contact,
    feedback,
    inclusion,
    pdsa,
    power,
    priorities,
    retention,
    voice,
)
from coprod_sim.population import Patients, Providers
from coprod_sim.scenario import Scenario


@dataclass(frozen=True)
class GroupViews:
    """What the improvement process reads about the patient groups and staff.

    ``what_matters``: (groups × aspects), each row normalised; ``staff_view``: what staff
    assume matters to patients (aspects), normalised; ``reachability`` and
    ``key_population``: per group, for recruiting representatives; ``organisational``: per
    aspect, whether changes to it are decided for a whole site.
    """

    what_matters: NDArray[np.float64]
    staff_view: NDArray[np.float64]
    reachability: NDArray[np.float64]
    key_population: NDArray[np.bool_]
    organisational: NDArray[np.bool_]


@dataclass(frozen=True)
class Meeting:
    """What one week's meetings decided.

    ``heard``: patient indices of the representatives heard; ``acted_on``: those whose
    ideas were taken up for testing; ``tests_started``: tests now running that began at
    this meeting.
    """

    heard: NDArray[np.int64]
    acted_on: NDArray[np.int64]
    tests_started: int


class Improvement:
    """The collaborative's improvement work: its teams and the changes they make.

    Attributes:
        teams: each site's team (:class:`Teams`).
        changes: every change tested, where it is adopted and who uses it (:class:`Changes`).
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: np.random.Generator,
        patients: Patients,
        providers: Providers,
        views: GroupViews,
        staff: NDArray[np.int64],
    ) -> None:
        self.scenario = scenario
        self.rng = rng
        self.patients = patients
        self.providers = providers
        self.views = views
        n_groups, n_aspects = views.what_matters.shape
        self.teams = Teams(staff, scenario.representative_seats, n_groups, n_aspects)
        self.changes = Changes(providers.n, staff.shape[0], views.organisational)
        self.teams.capability[:] = scenario.initial_capability

    # --- inclusion -------------------------------------------------------------------------
    def recruit(self, teams: NDArray[np.bool_] | None = None) -> None:
        """Invite patients in care to the empty seats (``inclusion``); those who accept sit.
        A seat nobody accepted stays empty until the next meeting.

        The sites with a vacancy recruit one after another, each drawing in turn; what a
        site's recruitment reads of the others' (their patients' trust, who is in care and
        seated, what their groups say of their teams) none of them changes, so it is read
        for all at once."""
        patients, team = self.patients, self.teams
        reps = team.representatives
        vacant = (reps == EMPTY).any(axis=1)
        if teams is not None:
            vacant &= teams
        sites = np.flatnonzero(vacant).tolist()
        if not sites:
            return
        # The candidates, every site's: patients in care not seated, in order.
        candidates = np.flatnonzero(patients.in_care & ~patients.representative)
        bounds = np.searchsorted(candidates, patients.site_bounds).tolist()
        trust = patients.trust(candidates)
        group = patients.group[candidates]
        word = team.word_of_mouth()
        if self.scenario.inclusion == "convenience":
            reach = self.views.reachability[group]
            for site in sites:
                lo, hi = bounds[site], bounds[site + 1]
                if hi == lo:
                    continue
                picks = inclusion.recruit_convenience(
                    reach[lo:hi], trust[lo:hi], int((reps[site] == EMPTY).sum()), self.rng
                )
                self._seat(site, candidates[lo:hi], trust[lo:hi], group[lo:hi], picks, word)
            return
        n_groups = team.n_groups
        # Each site's candidates of each group, in order: runs of ``pools``.
        n_sites = len(reps)
        cell = patients.site[candidates].astype(np.intp) * n_groups + group
        # (A stable sort is one permutation: of 16-bit keys NumPy finds it by radix sort.)
        pools = np.argsort(
            cell.astype(np.int16) if n_sites * n_groups <= 1 << 15 else cell, kind="stable"
        )
        counts = np.bincount(cell, minlength=n_sites * n_groups).reshape(n_sites, n_groups)
        run_start = (np.cumsum(counts) - counts.ravel()).reshape(n_sites, n_groups)
        weights = trust.astype(float)[pools]
        weights += 1e-9  # (``recruit_deliberate``'s weights)
        if not (weights > 0).all():  # never (trust is not negative): the general way
            for site in sites:
                self._recruit_deliberate(site, candidates, trust, group, bounds, word)
            return
        key_population = self.views.key_population.tolist()
        member_group = patients.group
        for site in sites:
            if bounds[site + 1] == bounds[site]:
                continue
            held = reps[site].tolist()
            seated = [r for r in held if r != EMPTY]
            represented = [False] * n_groups
            for r in seated:
                represented[member_group[r]] = True
            site_counts = counts[site]
            order = inclusion.deliberate_order(key_population, represented, site_counts, self.rng)
            chosen = inclusion.deliberate_picks(
                order,
                site_counts.tolist(),
                run_start[site].tolist(),
                pools,
                weights,
                len(reps[site]) - len(seated),
                self.rng,
            )
            picks = np.asarray(chosen, dtype=np.intp)
            says_yes = inclusion.accepts(
                trust[picks], word[site, group[picks]], self.scenario.word_of_mouth, self.rng
            )
            seats = [k for k, r in enumerate(held) if r == EMPTY]
            team.seat(patients, site, seats, candidates[picks[says_yes]])

    def _recruit_deliberate(
        self,
        site: int,
        candidates: NDArray,
        trust: NDArray,
        group: NDArray,
        bounds: list[int],
        word: NDArray,
    ) -> None:
        """Deliberate recruitment at one site, step by step (``inclusion``)."""
        team, patients = self.teams, self.patients
        lo, hi = bounds[site], bounds[site + 1]
        if hi == lo:
            return
        reps = team.representatives[site]
        seated = reps[reps != EMPTY]
        represented = np.bincount(patients.group[seated], minlength=team.n_groups) > 0
        order = inclusion.deliberate_order(
            self.views.key_population,
            represented,
            np.bincount(group[lo:hi], minlength=team.n_groups),
            self.rng,
        )
        picks = inclusion.recruit_deliberate(
            group[lo:hi], trust[lo:hi], order, int((reps == EMPTY).sum()), self.rng
        )
        self._seat(site, candidates[lo:hi], trust[lo:hi], group[lo:hi], picks, word)

    def _seat(
        self,
        site: int,
        candidates: NDArray,
        trust: NDArray,
        group: NDArray,
        picks: NDArray,
        word: NDArray,
    ) -> None:
        """The site's candidates ``picks`` are asked; who says yes follows their trust and
        what their own group says about the team (``word``, every team's)."""
        says_yes = inclusion.accepts(
            trust[picks], word[site, group[picks]], self.scenario.word_of_mouth, self.rng
        )
        seats = np.flatnonzero(self.teams.representatives[site] == EMPTY)
        self.teams.seat(self.patients, site, seats, candidates[picks[says_yes]])

    # --- a meeting --------------------------------------------------------------------------
    def meet(
        self,
        week: int,
        rungs: NDArray,
        reporting: NDArray,
        meets: NDArray[np.bool_],
        site_quality: NDArray,
    ) -> Meeting:
        """The teams flagged in ``meets`` meet once, each deciding at its site's rung and
        reporting back on input with its site's chance ``reporting``, with ``site_quality``
        (sites × aspects) the room each aspect of care has to improve."""
        s, rng, teams, patients = self.scenario, self.rng, self.teams, self.patients
        meets_seat = meets[:, None]

        # 1. seats of representatives who left care are freed, and empty seats filled
        seated = teams.seated()
        gone = seated & ~patients.in_care[np.where(seated, teams.representatives, 0)]
        teams.release(patients, gone & meets_seat)
        self.recruit(meets)

        reps = teams.representatives
        seated = (reps != EMPTY) & meets_seat
        rep = np.where(seated, reps, 0)  # a safe index; masked by ``seated``
        rep_trust = patients.trust(rep)
        rep_group = patients.group[rep].astype(np.int64)
        attends = seated & (
            rng.random(reps.shape) < retention.meeting_attendance_probability(rep_trust)
        )
        teams.forget_word_of_mouth(meets, s.trust_memory**s.meeting_interval)

        # 2. voice
        status = power.status_equality(rungs)
        safety = voice.psychological_safety(
            status, s.ground_rules, self.providers.regard(teams.staff).mean(axis=1)
        )
        heard_staff, heard_reps, unheard = self._take_the_floor(
            meets_seat, attends, rep_trust, rep_group, status, safety
        )

        # 3. ideas, and each team's picture of what matters to patients
        heard_patients = self._propose(heard_staff, heard_reps, reps, rep_group)

        # 4. choose what to test
        acted_on, started = self._choose(week, rungs, meets, site_quality)

        # 5. the feedback loop, and tokenism felt by those present but unheard
        self._report_back(heard_patients, acted_on, reps[unheard], reporting)

        # 6. contact between each team's providers and its representatives present
        self._meet_as_partners(attends, rep_group, status, safety)

        # 7. representatives whose trust ran out leave; the only patient on a team, sooner
        alone = seated & (seated.sum(axis=1) == 1)[:, None]
        leave_chance = retention.leave_team_probability(
            patients.trust(rep), s.representative_leave_rate, alone, s.token_leave_ratio
        )
        teams.release(patients, seated & (rng.random(reps.shape) < leave_chance))

        teams.record_meeting(meets, rep_group, seated, attends, heard_reps)
        return Meeting(heard_patients, acted_on, started)

    def _take_the_floor(
        self,
        meets_seat: NDArray[np.bool_],
        attends: NDArray[np.bool_],
        rep_trust: NDArray,
        rep_group: NDArray[np.int64],
        status: NDArray,
        safety: NDArray,
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_]]:
        """Phase 2: who is willing to speak, and who gets a turn (``voice``). Returns the
        staff heard per team and the (team × seat) masks of representatives heard and of
        those willing but unheard."""
        s, rng, teams = self.scenario, self.rng, self.teams
        felt_stigma = self.providers.stigma[teams.staff[:, :, None], rep_group[:, None, :]].mean(
            axis=1
        )
        speak = voice.speak_probability(
            rep_trust,
            felt_stigma,
            safety[:, None],
            s.voice_base,
            s.voice_trust,
            s.voice_safety,
            s.voice_stigma,
        )
        n_staff = 1 + teams.staff.shape[1]  # the manager and the team's providers
        willing = np.concatenate(
            [
                meets_seat & (rng.random((len(teams), n_staff)) < s.staff_voice),
                attends & (rng.random(attends.shape) < speak),
            ],
            axis=1,
        )
        is_staff = np.arange(willing.shape[1]) < n_staff
        heard = voice.allocate_turns(willing, is_staff, status[:, None], s.speaking_turns, rng)
        heard_reps = heard[:, n_staff:]
        return heard[:, :n_staff].sum(axis=1), heard_reps, willing[:, n_staff:] & ~heard_reps

    def _propose(
        self,
        heard_staff: NDArray[np.int64],
        heard_reps: NDArray[np.bool_],
        reps: NDArray[np.int64],
        rep_group: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        """Phase 3: each member heard adds an idea to the backlog; the team's picture of what
        matters to patients takes in its representatives' views. Returns who was heard."""
        rng, teams, views = self.rng, self.teams, self.views
        staff_aspects = priorities.propose(
            np.broadcast_to(views.staff_view, (int(heard_staff.sum()), views.staff_view.size)),
            rng.random(int(heard_staff.sum())),
        )
        team_of, seat_of = np.nonzero(heard_reps)
        heard_group = rep_group[team_of, seat_of]
        rep_aspects = priorities.propose(
            views.what_matters[heard_group], rng.random(heard_group.size)
        )
        staff_team = np.repeat(np.arange(len(teams)), heard_staff)
        backlog, staff, patient_origin = teams.backlog, Origin.STAFF, Origin.PATIENT
        for team, aspect in zip(staff_team.tolist(), staff_aspects.tolist(), strict=True):
            backlog[team].append(Idea(aspect, staff))
        heard_patients = reps[team_of, seat_of]
        for team, patient, group, aspect in zip(
            team_of.tolist(),
            heard_patients.tolist(),
            heard_group.tolist(),
            rep_aspects.tolist(),
            strict=True,
        ):
            backlog[team].append(Idea(aspect, patient_origin, group, proposer=patient))
        heard_views = np.zeros_like(teams.patient_view)
        np.add.at(heard_views, team_of, views.what_matters[heard_group])
        teams.patient_view, teams.view_weight = priorities.update_patient_view(
            teams.patient_view, teams.view_weight, heard_views, heard_reps.sum(axis=1)
        )
        return heard_patients

    def _choose(
        self, week: int, rungs: NDArray, meets: NDArray[np.bool_], site_quality: NDArray
    ) -> tuple[NDArray[np.int64], int]:
        """Phase 4: each meeting team starts tests while it has capacity and can agree.
        Returns the representatives whose ideas were taken up and the tests started."""
        s, rng, teams, views = self.scenario, self.rng, self.teams, self.views
        omega = power.patient_input_weight(rungs)
        scores = priorities.score(
            views.staff_view, teams.patient_view, omega[:, None], site_quality
        )
        # No disagreement before patients have said anything: there is nothing to weigh.
        disagree = priorities.disagreement(views.staff_view, teams.patient_view)
        disagree *= (teams.view_weight > 0)[:, None]
        acted_on: list[int] = []
        running = 0
        change_aspect = self.changes.aspect
        weight = omega.tolist()  # (Python floats: the same arithmetic as NumPy's scalars)
        for team in np.flatnonzero(meets).tolist():
            backlog, tests = teams.backlog[team], teams.tests[team]
            if not backlog:
                continue
            score = scores[team].tolist()
            # Tied ideas (same aspect) are taken in random order, not staff first.
            backlog[:] = [backlog[i] for i in rng.permutation(len(backlog)).tolist()]
            started = 0  # untested scale-ups (no successes required) count toward capacity
            while len(tests) + started < s.pdsa_capacity:
                testing = {change_aspect[t.change] for t in tests}
                # The first of the best-scoring ideas not on an aspect under test.
                best, best_score = -1, 0.0
                for i, option in enumerate(backlog):
                    if option.aspect not in testing and (
                        best < 0 or score[option.aspect] > best_score
                    ):
                        best, best_score = i, score[option.aspect]
                if best < 0:
                    break
                idea = backlog[best]
                if best_score <= 0:
                    break
                agree = priorities.agreement_probability(
                    weight[team], s.negotiation, float(disagree[team, idea.aspect])
                )
                if rng.random() >= agree:
                    break  # deliberation goes on at the next meeting
                backlog.pop(best)
                testing_now = self._start_test(team, idea, week)
                started += not testing_now
                running += testing_now
                if idea.proposer >= 0:
                    acted_on.append(idea.proposer)
            # Keep the most promising ideas; the rest are forgotten.
            backlog.sort(key=lambda i: -score[i.aspect])
            del backlog[s.backlog_limit :]
        return np.asarray(acted_on, dtype=np.int64), running

    def _report_back(
        self,
        heard: NDArray[np.int64],
        acted_on: NDArray[np.int64],
        unheard: NDArray[np.int64],
        reporting: NDArray,
    ) -> None:
        """Phase 5, the feedback loop: one experience for each representative heard, and for
        each whose earlier idea was taken up now (they may not have spoken today); and
        tokenism felt by the ``unheard``, present and willing but given no turn. The
        experiences go into each representative's trust and into what their group hears
        of the team (word of mouth)."""
        s, rng, patients = self.scenario, self.rng, self.patients
        earlier = np.setdiff1d(acted_on, heard)
        contributors = np.concatenate([heard, earlier])
        good, bad = feedback.contribution_experience(
            np.isin(contributors, acted_on),
            rng.random(contributors.size) < reporting[patients.site[contributors]],
            rng.random(contributors.size),
            s.acknowledgement,
            s.tokenism_sensitivity,
        )
        slighted = feedback.unheard_experience(rng.random(unheard.size), s.tokenism_sensitivity)
        who = np.concatenate([contributors, unheard])
        good = np.concatenate([good, np.zeros(unheard.size, dtype=bool)])
        bad = np.concatenate([bad, slighted])
        # One representative can be both (an earlier idea taken up, unheard today).
        np.add.at(patients.good, who, good.astype(patients.good.dtype))
        np.add.at(patients.bad, who, (s.negativity_bias * bad).astype(patients.bad.dtype))
        self.teams.tell_peers(patients, who, good, bad)

    def _meet_as_partners(
        self, attends: NDArray, rep_group: NDArray, status: NDArray, safety: NDArray
    ) -> None:
        """Phase 6: each provider–representative pair present may have a contact
        (``contact``), which moves the provider's stigma toward the representative's
        group and their regard for patients."""
        s, rng, teams, providers = self.scenario, self.rng, self.teams, self.providers
        shape = (len(teams), teams.staff.shape[1], attends.shape[1])
        met = attends[:, None, :] & (rng.random(shape) < contact.contact_probability(s.cooperation))
        well = rng.random(shape) < contact.good_contact_probability(
            safety[:, None, None], s.contact_positivity
        )
        strength = contact.condition_strength(
            status, s.authority_support, s.cooperation, s.common_goals,
            s.contact_without_conditions,
        )  # fmt: skip
        group = np.broadcast_to(rep_group[:, None, :], shape)
        staff = np.broadcast_to(teams.staff[:, :, None], shape)
        team_strength = np.broadcast_to(np.asarray(strength)[:, None], shape[:2])
        # Seat by seat, so a provider meeting two representatives of one group is updated twice.
        for seat in range(shape[2]):
            who = met[:, :, seat]
            rows, cols = staff[:, :, seat][who], group[:, :, seat][who]
            providers.stigma[rows, cols] = contact.update(
                providers.stigma[rows, cols],
                well[:, :, seat][who],
                team_strength[who],
                s.contact_rate,
                s.negative_contact_weight,
            )
        providers.regard_good[teams.staff] += (met & well).sum(axis=2)
        providers.regard_bad[teams.staff] += s.negativity_bias * (met & ~well).sum(axis=2)

    # --- testing and scale-up ---------------------------------------------------------------
    def _start_test(self, team: int, idea: Idea, week: int) -> bool:
        """A team starts testing an idea, or, with no successes required, scales it up
        untested. Returns whether a test is now running."""
        s = self.scenario
        if idea.change >= 0:
            change = idea.change
            quality = self.changes.design_quality[change]
        else:
            # First-draft quality: Beta with mean design_quality (concentration 4).
            mean = min(max(s.design_quality, 1e-6), 1 - 1e-6)
            quality = float(self.rng.beta(4 * mean, 4 * (1 - mean)))
            change = self.changes.new(idea.aspect, idea.origin, idea.group, team, quality)
        test = Test(change, quality, due=week + s.pdsa_cycle_weeks)
        if s.pdsa_successes_to_scale == 0:
            self._scale_up(team, test, week)
            return False
        self.teams.tests[team].append(test)
        return True

    def advance_tests(self, week: int, active: NDArray[np.bool_]) -> list[int]:
        """PDSA cycles that fall due at the ``active`` sites (not in crisis). Returns the
        changes scaled up this week."""
        s = self.scenario
        scaled: list[int] = []
        all_tests, team_capability = self.teams.tests, self.teams.capability
        for team in np.flatnonzero(active).tolist():
            tests = all_tests[team]
            if not tests:
                continue
            for test in list(tests):
                if test.due > week:
                    continue
                realised = capability.success_scale(
                    float(team_capability[team]), s.capability_reliance
                )
                succeeded, test.quality = pdsa.cycle(
                    test.quality, float(self.rng.random()), s.pdsa_learning, realised
                )
                test.cycles += 1
                test.successes += succeeded
                if succeeded:
                    team_capability[team] = capability.build(
                        float(team_capability[team]), s.capability_learning
                    )
                if test.successes >= s.pdsa_successes_to_scale:
                    tests.remove(test)
                    self._scale_up(team, test, week)
                    scaled.append(test.change)
                elif test.cycles >= s.pdsa_max_cycles:
                    tests.remove(test)
                else:
                    test.due = week + s.pdsa_cycle_weeks
        return scaled

    def erode_capability(self, in_crisis: NDArray[np.bool_]) -> None:
        """A week's erosion of every team's capability, faster at sites in crisis."""
        s = self.scenario
        pressure = np.where(in_crisis, s.crisis_pressure, 0.0)
        self.teams.capability = capability.erode(
            self.teams.capability, s.capability_decay, pressure
        )

    def _scale_up(self, team: int, test: Test, week: int) -> None:
        """A tested change goes into use at the team's site."""
        self.changes.scale_up(
            test.change,
            team,
            week,
            test.quality,
            self.providers.at_site(team),
            self.teams.staff[team],
        )

    # --- learning sessions ------------------------------------------------------------------
    def learning_session(
        self, rungs: NDArray, supported: NDArray[np.bool_], site_quality: NDArray
    ) -> None:
        """All teach, all learn: each ``supported`` team takes up the most promising changes
        other teams have scaled up, to test them locally."""
        s, ch, teams = self.scenario, self.changes, self.teams
        scaled = [c for c in range(len(ch)) if ch.scaled_week[c] >= 0]
        if not scaled or s.changes_shared == 0:
            return
        omega = power.patient_input_weight(rungs)[:, None]
        scores = priorities.score(self.views.staff_view, teams.patient_view, omega, site_quality)
        for team in np.flatnonzero(supported):
            known = ch.repertoire[team] | {t.change for t in teams.tests[team]}
            known |= {i.change for i in teams.backlog[team]}
            new = [c for c in scaled if c not in known]
            new.sort(key=lambda c: -scores[team, ch.aspect[c]])
            teams.backlog[team] += [
                Idea(ch.aspect[c], ch.origin[c], ch.origin_group[c], change=c)
                for c in new[: s.changes_shared]
            ]

    def reconsider(self, sites: NDArray[np.int64], changes: NDArray[np.int64]) -> None:
        """Organisational changes the ``sites`` reversed go back to their teams' backlogs,
        to be decided again if they still score well."""
        ch, teams = self.changes, self.teams
        for team, change in zip(sites.tolist(), changes.tolist(), strict=True):
            pending = {i.change for i in teams.backlog[team]}
            pending |= {t.change for t in teams.tests[team]}
            if change not in pending:
                teams.backlog[team].append(
                    Idea(ch.aspect[change], ch.origin[change], ch.origin_group[change], change)
                )

    # --- a change from outside --------------------------------------------------------------
    def introduce(
        self, site: int, aspect: int, week: int, users: NDArray[np.int64], design_quality: float
    ) -> int:
        """A ready-made change goes into use at ``site`` outside any team's testing; the
        providers in ``users`` (already checked to be the site's) use it now."""
        change = self.changes.new(aspect, Origin.STAFF, -1, site, design_quality)
        span = self.providers.at_site(site)
        self.changes.scale_up(change, site, week, design_quality, span, users)
        return change
