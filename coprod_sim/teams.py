"""The sites' improvement teams and what happens at their meetings.

Each site has one team: its manager, ``team_size − representative_seats − 1``
of its providers and up to ``representative_seats`` patient (community)
representatives. All teams meet in the same week; one meeting:

1. representatives who left care give up their seats; empty seats are filled
   (``inclusion``);
2. representatives attend or not (``retention.attendance_probability``);
   the willing take the floor in order of dominance (``voice``);
3. each member heard proposes an idea about what matters to them; the team
   folds what its representatives said into its picture of what matters to
   patients (``priorities``);
4. the team chooses ideas to test, if it can agree (``priorities``, ``power``);
5. it reports back, or not, on each representative's input (``feedback``);
6. staff and representatives meet as partners, which moves stigma and
   regard (``contact``);
7. representatives whose trust has run out leave.

Member state is kept in (team × seat) arrays so that every team's meeting is
one set of vectorised operations; only choosing (step 4) loops over teams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from coprod_sim.changes import Origin
from coprod_sim.mechanisms import (
    contact,
    feedback,
    inclusion,
    power,
    priorities,
    retention,
    voice,
)

if TYPE_CHECKING:
    from coprod_sim.model import CoproductionModel

EMPTY = -1


@dataclass
class Idea:
    """A change idea waiting in a team's backlog."""

    aspect: int
    origin: Origin
    group: int = -1  # the proposer's patient group; -1 for staff
    change: int = -1  # an existing change, when taken up from another team
    proposer: int = -1  # patient index of the representative who proposed it


@dataclass
class Test:
    """An idea under PDSA testing at one site."""

    change: int
    quality: float
    due: int
    successes: int = 0
    cycles: int = 0


class Teams:
    """The improvement teams of all sites."""

    def __init__(self, staff: NDArray[np.int64], seats: int, n_groups: int, n_aspects: int):
        n_teams = staff.shape[0]
        self.staff = staff  # (teams, providers on the team)
        self.representatives = np.full((n_teams, seats), EMPTY, dtype=np.int64)
        self.patient_view = np.zeros((n_teams, n_aspects))
        self.view_weight = np.zeros(n_teams)
        self.backlog: list[list[Idea]] = [[] for _ in range(n_teams)]
        self.tests: list[list[Test]] = [[] for _ in range(n_teams)]
        self.dropped_by_group = np.zeros((n_teams, n_groups), dtype=np.int64)
        # the last meeting, for outputs
        self.seated_by_group = np.zeros((n_teams, n_groups), dtype=np.int64)
        self.attending_by_group = np.zeros((n_teams, n_groups), dtype=np.int64)
        self.heard_by_group = np.zeros((n_teams, n_groups), dtype=np.int64)
        self.n_groups = n_groups

    def __len__(self) -> int:
        return self.staff.shape[0]

    def members(self, site: int) -> tuple[list[int], list[int]]:
        """(provider indices, representative patient indices) of a site's team."""
        reps = self.representatives[site]
        return self.staff[site].tolist(), reps[reps != EMPTY].tolist()

    # --- 1. inclusion ----------------------------------------------------------------------
    def release(self, model: CoproductionModel, leaving: NDArray[np.bool_]) -> None:
        """Representatives flagged in the (team × seat) mask ``leaving`` give up their seats."""
        leaving = leaving & (self.representatives != EMPTY)
        gone = self.representatives[leaving]
        np.add.at(self.dropped_by_group, (np.nonzero(leaving)[0], model.patients.group[gone]), 1)
        model.patients.representative[gone] = False
        self.representatives[leaving] = EMPTY

    def recruit(self, model: CoproductionModel, teams: NDArray[np.bool_] | None = None) -> None:
        """Invite patients in care to the empty seats (``inclusion``); those who accept sit.
        A seat nobody accepted stays empty until the next meeting."""
        patients = model.patients
        convenience = model.parameters.inclusion == "convenience"
        vacant = (self.representatives == EMPTY).any(axis=1)
        if teams is not None:
            vacant &= teams
        for site in np.flatnonzero(vacant):
            seats = np.flatnonzero(self.representatives[site] == EMPTY)
            span = patients.at_site(site)
            candidates = span.start + np.flatnonzero(
                patients.in_care[span] & ~patients.representative[span]
            )
            if candidates.size == 0:
                continue
            trust = patients.trust(candidates)
            group = patients.group[candidates]
            if convenience:
                picks = inclusion.recruit_convenience(
                    model.group_reachability[group], trust, seats.size, model.rng
                )
            else:
                seated = self.representatives[site][self.representatives[site] != EMPTY]
                represented = np.bincount(patients.group[seated], minlength=self.n_groups) > 0
                order = inclusion.deliberate_order(
                    model.key_population,
                    represented,
                    np.bincount(group, minlength=self.n_groups),
                    model.rng,
                )
                picks = inclusion.recruit_deliberate(group, trust, order, seats.size, model.rng)
            # Who is asked follows the policy; who says yes follows their trust.
            chosen = candidates[picks[inclusion.accepts(trust[picks], model.rng)]]
            self.representatives[site, seats[: chosen.size]] = chosen
            patients.representative[chosen] = True

    # --- a meeting --------------------------------------------------------------------------
    def meet(
        self, model: CoproductionModel, week: int, rungs: NDArray, meets: NDArray[np.bool_]
    ) -> None:
        """The teams flagged in ``meets`` meet once, each deciding at its site's rung."""
        s = model.parameters
        rng = model.rng
        patients, providers = model.patients, model.providers
        meets_seat = meets[:, None]

        seated = self.representatives != EMPTY
        gone = seated & ~patients.in_care[np.where(seated, self.representatives, 0)]
        self.release(model, gone & meets_seat)
        self.recruit(model, meets)

        reps = self.representatives
        seated = (reps != EMPTY) & meets_seat
        rep = np.where(seated, reps, 0)  # a safe index; masked by ``seated``
        rep_trust = patients.trust(rep)
        rep_group = patients.group[rep].astype(np.int64)
        attends = seated & (rng.random(reps.shape) < retention.attendance_probability(rep_trust))

        # 2. voice
        status = power.status_equality(rungs)
        safety = voice.psychological_safety(
            status, s.ground_rules, providers.regard(self.staff).mean(axis=1)
        )
        felt_stigma = providers.stigma[self.staff[:, :, None], rep_group[:, None, :]].mean(axis=1)
        speak = voice.speak_probability(
            rep_trust,
            felt_stigma,
            safety[:, None],
            s.voice_base,
            s.voice_trust,
            s.voice_safety,
            s.voice_stigma,
        )
        n_staff = 1 + self.staff.shape[1]  # the manager and the team's providers
        willing = np.concatenate(
            [
                meets_seat & (rng.random((len(self), n_staff)) < s.staff_voice),
                attends & (rng.random(reps.shape) < speak),
            ],
            axis=1,
        )
        is_staff = np.arange(willing.shape[1]) < n_staff
        heard = voice.allocate_turns(willing, is_staff, status[:, None], s.speaking_turns, rng)
        heard_staff = heard[:, :n_staff].sum(axis=1)
        heard_reps = heard[:, n_staff:]

        # 3. ideas, and each team's picture of what matters to patients
        staff_aspects = priorities.propose(
            np.broadcast_to(model.staff_view, (int(heard_staff.sum()), model.staff_view.size)),
            rng.random(int(heard_staff.sum())),
        )
        team_of, seat_of = np.nonzero(heard_reps)
        heard_group = rep_group[team_of, seat_of]
        rep_aspects = priorities.propose(
            model.what_matters[heard_group], rng.random(heard_group.size)
        )
        staff_team = np.repeat(np.arange(len(self)), heard_staff)
        for team, aspect in zip(staff_team.tolist(), staff_aspects.tolist(), strict=True):
            self.backlog[team].append(Idea(aspect, Origin.STAFF))
        heard_patients = reps[team_of, seat_of]
        for team, patient, group, aspect in zip(
            team_of.tolist(),
            heard_patients.tolist(),
            heard_group.tolist(),
            rep_aspects.tolist(),
            strict=True,
        ):
            self.backlog[team].append(Idea(aspect, Origin.PATIENT, group, proposer=patient))
        heard_views = np.zeros_like(self.patient_view)
        np.add.at(heard_views, team_of, model.what_matters[heard_group])
        self.patient_view, self.view_weight = priorities.update_patient_view(
            self.patient_view, self.view_weight, heard_views, heard_reps.sum(axis=1)
        )

        # 4. choose what to test
        acted_on = self.choose(model, week, rungs, meets)

        # 5. the feedback loop: one experience for each representative heard, and for
        # each whose earlier idea was taken up now (they may not have spoken today).
        earlier = np.setdiff1d(acted_on, heard_patients)
        contributors = np.concatenate([heard_patients, earlier])
        good, bad = feedback.contribution_experience(
            np.isin(contributors, acted_on),
            rng.random(contributors.size) < s.feedback_loop,
            rng.random(contributors.size),
            s.acknowledgement,
        )
        patients.good[contributors] += good
        patients.bad[contributors] += s.negativity_bias * bad

        # 6. contact between each team's providers and its representatives present
        self._contact(model, attends, rep_group, status, safety)

        # 7. representatives whose trust ran out leave
        leave_chance = retention.leave_team_probability(
            patients.trust(rep), s.representative_leave_rate
        )
        self.release(model, seated & (rng.random(reps.shape) < leave_chance))

        # The record of the last meeting, by group, for the teams that met.
        def by_group(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
            counts = np.zeros((len(self), self.n_groups), dtype=np.int64)
            np.add.at(counts, (np.nonzero(mask)[0], rep_group[mask]), 1)
            return counts

        met = meets[:, None]
        self.seated_by_group = np.where(met, by_group(seated), self.seated_by_group)
        self.attending_by_group = np.where(met, by_group(attends), self.attending_by_group)
        self.heard_by_group = np.where(met, by_group(heard_reps), self.heard_by_group)

    def choose(
        self, model: CoproductionModel, week: int, rungs: NDArray, meets: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        """Each meeting team starts tests while it has capacity and can agree. Returns the
        patient indices of the representatives whose ideas were taken up."""
        s = model.parameters
        omega = power.patient_input_weight(rungs)
        scores = priorities.score(
            model.staff_view, self.patient_view, omega[:, None], model.site_quality()
        )
        # No disagreement before patients have said anything: there is nothing to weigh.
        disagree = priorities.disagreement(model.staff_view, self.patient_view)
        disagree *= (self.view_weight > 0)[:, None]
        acted_on: list[int] = []
        for team in np.flatnonzero(meets):
            backlog, tests = self.backlog[team], self.tests[team]
            if not backlog:
                continue
            score = scores[team].tolist()
            # Tied ideas (same aspect) are taken in random order, not staff first.
            backlog[:] = [backlog[i] for i in model.rng.permutation(len(backlog))]
            started = 0  # untested scale-ups (no successes required) count toward capacity
            while len(tests) + started < s.pdsa_capacity:
                testing = {model.changes.aspect[t.change] for t in tests}
                options = [i for i, idea in enumerate(backlog) if idea.aspect not in testing]
                if not options:
                    break
                best = max(options, key=lambda i: score[backlog[i].aspect])
                idea = backlog[best]
                if score[idea.aspect] <= 0:
                    break
                agree = priorities.agreement_probability(
                    omega[team], s.negotiation, disagree[team, idea.aspect]
                )
                if model.rng.random() >= agree:
                    break  # deliberation goes on at the next meeting
                backlog.pop(best)
                started += not model.start_test(team, idea, week)
                if idea.proposer >= 0:
                    acted_on.append(idea.proposer)
            # Keep the most promising ideas; the rest are forgotten.
            backlog.sort(key=lambda i: -score[i.aspect])
            del backlog[s.backlog_limit :]
        return np.asarray(acted_on, dtype=np.int64)

    def _contact(
        self,
        model: CoproductionModel,
        attends: NDArray,
        rep_group: NDArray,
        status: NDArray,
        safety: NDArray,
    ) -> None:
        """Each provider–representative pair present may have a contact (``contact``)."""
        s = model.parameters
        providers = model.providers
        rng = model.rng
        shape = (len(self), self.staff.shape[1], attends.shape[1])
        met = attends[:, None, :] & (rng.random(shape) < contact.contact_probability(s.cooperation))
        well = rng.random(shape) < contact.good_contact_probability(
            safety[:, None, None], s.contact_positivity
        )
        epsilon = contact.latitude(
            status, s.authority_support, s.latitude_base, s.latitude_status, s.latitude_authority
        )
        mu = contact.step_size(s.contact_rate, s.common_goals)
        group = np.broadcast_to(rep_group[:, None, :], shape)
        staff = np.broadcast_to(self.staff[:, :, None], shape)
        team_epsilon = np.broadcast_to(np.asarray(epsilon)[:, None], shape[:2])
        # Seat by seat, so a provider meeting two representatives of one group is updated twice.
        for seat in range(shape[2]):
            who = met[:, :, seat]
            rows, cols = staff[:, :, seat][who], group[:, :, seat][who]
            providers.stigma[rows, cols] = contact.update(
                providers.stigma[rows, cols],
                well[:, :, seat][who],
                team_epsilon[who],
                mu,
                s.negative_contact_weight,
            )
        providers.regard_good[self.staff] += (met & well).sum(axis=2)
        providers.regard_bad[self.staff] += s.negativity_bias * (met & ~well).sum(axis=2)
