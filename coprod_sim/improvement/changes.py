"""Changes: the ideas teams test, and which providers use the ones scaled up.

A change is born when a team starts testing an idea (see ``pdsa``). It is
*adopted* at a site when the site's team scales it up after testing; the same
change can be adopted at several sites (teams learn from each other at
learning sessions). Each (site, change) adoption is a *pair*, and each pair
gives every provider of the site a *slot*: whether that provider uses the
change now. Uptake and decay are then a few vectorised operations over the
slots, however many sites and changes there are.

Two kinds of change (``aspect_roles``):

* a *practice* change (a way of talking to patients, adherence counselling) is
  a habit: the team's providers start using it when it is scaled up, and it
  spreads to, and decays from, the other providers one by one (``uptake``,
  ``sustainment``); a provider who dropped it may take it up again;
* an *organisational* change (names off the sign-in sheet, longer pharmacy
  hours, a viral-load register) is decided once for the whole site: scaling it
  up puts it in place for every provider, and the site keeps it or reverses it
  as a whole (:meth:`Changes.reverse`); the team may decide it again later.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray
from scipy import sparse


class Origin(IntEnum):
    STAFF = 0
    PATIENT = 1


class Changes:
    """The collaborative's catalogue of changes, where they are adopted and who uses them."""

    def __init__(
        self, n_providers: int, n_sites: int, organisational_aspects: NDArray[np.bool_]
    ) -> None:
        self.n_providers = n_providers
        self.n_sites = n_sites
        self.organisational_aspects = np.asarray(organisational_aspects, dtype=bool)
        # per change
        self.aspect: list[int] = []
        self.origin: list[Origin] = []
        self.origin_group: list[int] = []  # -1 for staff ideas
        self.origin_site: list[int] = []
        self.design_quality: list[float] = []
        self.scaled_week: list[int] = []  # -1 until first scaled up anywhere
        # per (site, change) adoption
        self.pair_site = np.empty(0, dtype=np.int32)
        self.pair_change = np.empty(0, dtype=np.int32)
        self.pair_peak = np.empty(0, dtype=np.int64)
        self.pair_organisational = np.empty(0, dtype=bool)
        self.repertoire: list[set[int]] = [set() for _ in range(n_sites)]
        # per (provider, adopted pair)
        self.slot_provider = np.empty(0, dtype=np.int32)
        self.slot_pair = np.empty(0, dtype=np.int32)
        self.slot_change = np.empty(0, dtype=np.int32)
        self.adopted = np.empty(0, dtype=bool)
        # per slot, kept as slots are added rather than gathered from the pairs every week:
        # the slot's site, and whether its change is a practice change (not organisational)
        self.slot_site = np.empty(0, dtype=np.int32)
        self.slot_practice = np.empty(0, dtype=bool)
        self._pair_of: dict[tuple[int, int], int] = {}  # (site, change) -> pair
        self._pair_slots: list[slice] = []  # each pair's slots, contiguous
        self._arrays: tuple[NDArray, NDArray, NDArray] | None = None
        self._scaled = 0  # changes scaled up anywhere

    @property
    def open(self) -> np.ndarray:
        """Slots of practice changes whose provider could take the change up (again)."""
        return ~self.adopted & self.slot_practice

    def is_organisational(self, change: int) -> bool:
        """Whether a change is organisational (decided for the whole site)."""
        return bool(self.organisational_aspects[self.aspect[change]])

    def __len__(self) -> int:
        return len(self.aspect)

    def new(self, aspect: int, origin: Origin, group: int, site: int, quality: float) -> int:
        """Register an idea entering its first test; returns its id."""
        self.aspect.append(aspect)
        self.origin.append(origin)
        self.origin_group.append(group)
        self.origin_site.append(site)
        self.design_quality.append(quality)
        self.scaled_week.append(-1)
        self._arrays = None
        return len(self.aspect) - 1

    def scale_up(
        self,
        change: int,
        site: int,
        week: int,
        quality: float,
        site_providers: slice,
        team_providers: NDArray,
    ) -> None:
        """A site's team scales up a tested change: every provider of the site gets a
        slot, and the team's providers start using it (every provider of the site, for
        an organisational change)."""
        if self.scaled_week[change] < 0:
            self.scaled_week[change] = week
            self._scaled += 1
        # A team that retests a shared change and improves it improves it for everyone.
        self.design_quality[change] = max(self.design_quality[change], quality)
        self._arrays = None
        organisational = self.is_organisational(change)
        if change not in self.repertoire[site]:
            self.repertoire[site].add(change)
            pair = self.pair_site.size
            self.pair_site = np.append(self.pair_site, np.int32(site))
            self.pair_change = np.append(self.pair_change, np.int32(change))
            self.pair_peak = np.append(self.pair_peak, 0)
            self.pair_organisational = np.append(self.pair_organisational, organisational)
            providers = np.arange(site_providers.start, site_providers.stop, dtype=np.int32)
            n = providers.size
            self._pair_of[site, change] = pair
            self._pair_slots.append(slice(self.adopted.size, self.adopted.size + n))
            self.slot_provider = np.concatenate([self.slot_provider, providers])
            self.slot_pair = np.concatenate([self.slot_pair, np.full(n, pair, dtype=np.int32)])
            self.slot_change = np.concatenate(
                [self.slot_change, np.full(n, change, dtype=np.int32)]
            )
            self.adopted = np.concatenate([self.adopted, np.zeros(n, dtype=bool)])
            self.slot_site = np.concatenate([self.slot_site, np.full(n, site, dtype=np.int32)])
            self.slot_practice = np.concatenate(
                [self.slot_practice, np.full(n, not organisational)]
            )
        # The pair's slots are one contiguous run: its site's providers, in order, so a
        # provider's slot is found by arithmetic.
        here = self._pair_slots[self._pair_of[site, change]]
        if organisational:
            self.adopted[here] = True
        else:
            first, n = int(self.slot_provider[here.start]), here.stop - here.start
            team = np.asarray(team_providers, dtype=np.int64) - first
            self.adopted[here.start + team[(team >= 0) & (team < n)]] = True

    def reverse(self, pairs: NDArray[np.int64]) -> None:
        """Sites reverse organisational changes: the (site, change) ``pairs`` stop for
        every provider of the site."""
        for pair in np.unique(pairs).tolist():
            self.adopted[self._pair_slots[pair]] = False

    # --- views ----------------------------------------------------------------------------
    def arrays(self) -> tuple[NDArray, NDArray, NDArray]:
        """Per-change aspect, design quality and origin, as arrays (rebuilt only after a
        change is added or scaled up, not at every call of the week)."""
        if self._arrays is None:
            self._arrays = (
                np.asarray(self.aspect, dtype=np.int64),
                np.asarray(self.design_quality, dtype=float),
                np.asarray(self.origin, dtype=np.int64),
            )
        return self._arrays

    def colleague_share(
        self, adjacency: sparse.csr_array, degree: NDArray, slots: NDArray | None = None
    ) -> NDArray:
        """For each slot (or each of ``slots``, indices), the share of the provider's
        colleagues (network neighbours, at any site) using the slot's change.

        Only the slots asked for are computed: each one's neighbours are read off the
        adjacency's rows and looked up among the (provider, change) pairs in use. Counts
        are whole numbers, the same as the matrix product's, and so is the share."""
        if slots is None:
            slots = np.arange(self.adopted.size)
        if slots.size == 0:
            return np.zeros(0)
        if adjacency.format != "csr":
            adjacency = adjacency.tocsr()
        provider = self.slot_provider[slots]
        first = adjacency.indptr[provider]
        lengths = adjacency.indptr[provider + 1] - first
        # Every slot's neighbour entries in one flat array, row after row: ``owner`` is the
        # slot (0..) an entry is for, ``entry`` its position in the adjacency's arrays.
        owner = np.repeat(np.arange(slots.size), lengths)
        row_start = np.cumsum(lengths) - lengths
        entry = np.arange(lengths.sum()) + np.repeat(first - row_start, lengths)
        # Which neighbour entries count: those whose (provider, change) is in use, looked up
        # among the sorted (provider, change) keys of the slots in use.
        n_changes = len(self)
        in_use = self.slot_provider[self.adopted].astype(np.int64) * n_changes
        in_use = np.sort(in_use + self.slot_change[self.adopted])
        wanted = adjacency.indices[entry].astype(np.int64) * n_changes
        wanted += np.repeat(self.slot_change[slots], lengths)
        if in_use.size:
            found = np.minimum(np.searchsorted(in_use, wanted), in_use.size - 1)
            neighbour_uses = in_use[found] == wanted
        else:
            neighbour_uses = np.zeros(wanted.size, dtype=bool)
        counts = np.bincount(
            owner, weights=adjacency.data[entry] * neighbour_uses, minlength=slots.size
        )
        d = degree[provider]
        return np.divide(counts, d, out=np.zeros(counts.size), where=d > 0)

    def n_scaled(self) -> int:
        """Changes scaled up anywhere (``scaled_week`` set)."""
        return self._scaled

    def users_of(self, change: int) -> int:
        """Providers using a change now, at any site."""
        return int(self.adopted[self.slot_change == change].sum())

    def pair_users(self) -> NDArray[np.int64]:
        """Providers using each (site, change) pair now; also updates each pair's peak."""
        users = np.bincount(self.slot_pair[self.adopted], minlength=self.pair_site.size)
        np.maximum(self.pair_peak, users, out=self.pair_peak)
        return users
