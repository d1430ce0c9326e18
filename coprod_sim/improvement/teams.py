"""The sites' improvement teams: who sits on them, their ideas and tests, their record.

Each site has one team: its manager, ``team_size − representative_seats − 1``
of its providers and up to ``representative_seats`` patient (community)
representatives. Member state is kept in (team × seat) arrays so that every
team's meeting is one set of vectorised operations (see ``process.Improvement.meet``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coprod_sim.improvement.changes import Origin
from coprod_sim.population import Patients

#: An empty representative seat.
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
    """The improvement teams of all sites: membership, backlogs, tests and the record of
    the last meeting (by patient group, for the outputs)."""

    def __init__(self, staff: NDArray[np.int64], seats: int, n_groups: int, n_aspects: int):
        n_teams = staff.shape[0]
        self.staff = staff  # (teams, providers on the team)
        self.representatives = np.full((n_teams, seats), EMPTY, dtype=np.int64)
        self.patient_view = np.zeros((n_teams, n_aspects))
        self.view_weight = np.zeros(n_teams)
        self.backlog: list[list[Idea]] = [[] for _ in range(n_teams)]
        self.tests: list[list[Test]] = [[] for _ in range(n_teams)]
        self.dropped_by_group = np.zeros((n_teams, n_groups), dtype=np.int64)
        self.capability = np.zeros(n_teams)  # improvement capability (``capability``)
        # What each group hears of the team: its representatives' experiences there.
        self.word_good = np.zeros((n_teams, n_groups))
        self.word_bad = np.zeros((n_teams, n_groups))
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

    def add_seats(self, seats: int) -> None:
        """Every team gains ``seats`` empty representative seats (filled as any vacancy is:
        at the team's next meeting)."""
        empty = np.full((len(self), seats), EMPTY, dtype=np.int64)
        self.representatives = np.hstack([self.representatives, empty])

    def seated(self) -> NDArray[np.bool_]:
        """(teams × seats): which seats are held."""
        return self.representatives != EMPTY

    def word_of_mouth(self) -> NDArray[np.float64]:
        """(teams × groups): what each group says of the team, the beta reputation
        (r + 1)/(r + s + 2) of its representatives' experiences there (½ with none)."""
        return (self.word_good + 1.0) / (self.word_good + self.word_bad + 2.0)

    def forget_word_of_mouth(self, meets: NDArray[np.bool_], memory: float) -> None:
        """At the teams that meet, older experiences weigh less (``memory`` per meeting)."""
        self.word_good[meets] *= memory
        self.word_bad[meets] *= memory

    def tell_peers(
        self, patients: Patients, who: NDArray[np.int64], good: NDArray, bad: NDArray
    ) -> None:
        """Representatives ``who`` tell their group at their site of a good or bad
        experience on the team (negativity bias is the hearers', in their own trust)."""
        where = (patients.site[who], patients.group[who])
        np.add.at(self.word_good, where, np.asarray(good, dtype=float))
        np.add.at(self.word_bad, where, np.asarray(bad, dtype=float))

    def release(self, patients: Patients, leaving: NDArray[np.bool_]) -> None:
        """Representatives flagged in the (team × seat) mask ``leaving`` give up their seats."""
        leaving = leaving & (self.representatives != EMPTY)
        gone = self.representatives[leaving]
        np.add.at(self.dropped_by_group, (np.nonzero(leaving)[0], patients.group[gone]), 1)
        patients.representative[gone] = False
        self.representatives[leaving] = EMPTY

    def seat(self, patients: Patients, site: int, seats: NDArray, chosen: NDArray) -> None:
        """The patients ``chosen`` take the empty ``seats`` of a site's team, in order."""
        if chosen.size == 0:
            return
        self.representatives[site, seats[: chosen.size]] = chosen
        patients.representative[chosen] = True

    def record_meeting(
        self,
        meets: NDArray[np.bool_],
        group: NDArray[np.int64],
        seated: NDArray[np.bool_],
        attends: NDArray[np.bool_],
        heard: NDArray[np.bool_],
    ) -> None:
        """Keep, by patient group, who sat, attended and was heard at the teams that met."""

        def by_group(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
            counts = np.zeros((len(self), self.n_groups), dtype=np.int64)
            np.add.at(counts, (np.nonzero(mask)[0], group[mask]), 1)
            return counts

        met = meets[:, None]
        self.seated_by_group = np.where(met, by_group(seated), self.seated_by_group)
        self.attending_by_group = np.where(met, by_group(attends), self.attending_by_group)
        self.heard_by_group = np.where(met, by_group(heard), self.heard_by_group)
