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

Retired pairs, and the hot arrays. The per-slot arrays (``slot_provider``, ``slot_pair``,
``slot_change``, ``slot_site``, ``slot_practice``, ``slot_position``, ``adopted``) hold
the slots of every pair that is not *retired*, in pair order and, within a pair, in
provider order. A pair is retired while it is an organisational change its site has
reversed: none of its slots is in use, and none can change until the team decides the
change again (:meth:`Changes.scale_up`), which puts its slots back in place. Nothing
else about a retired pair is per slot (uptake and decay concern practice changes;
keeping or reversing concerns the organisational changes in place), so leaving the hot
arrays changes no result, and as changes accumulate the hot arrays stay the size of
what is in place or can be taken up. A practice pair never retires: any provider of
its site may take the change up at any week (the push from outside the network, or
colleagues using it).

Every slot, retired or not, still gets its one uniform draw of the week's uptake and
decay (:meth:`Changes.draws`; ``n_slots`` counts them all), so the random stream, and
everything drawn after it, is the same as if every slot were kept. ``slot_position``
is each hot slot's place in that stream: its index among all slots, in the order the
pairs were adopted. The per-pair arrays (``pair_site``, ``pair_change``, ``pair_peak``,
``pair_organisational``) keep every pair, retired or not, and grow in place.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import DTypeLike, NDArray
from scipy import sparse

#: Uniforms drawn at a time for :meth:`Changes.draws`: a buffer that stays in cache.
DRAW_CHUNK = 1 << 16


class Origin(IntEnum):
    STAFF = 0
    PATIENT = 1


class _Growing:
    """A 1-d array that grows at its end in amortised constant time (its buffer doubles
    when full). ``view`` is the array: a view of the buffer's first ``n`` elements. A view
    taken earlier keeps its length, and its values, as entries are only appended: only
    ``pair_peak`` and design quality are also written in place."""

    def __init__(self, dtype: DTypeLike) -> None:
        self.buffer = np.empty(16, dtype=dtype)
        self.n = 0

    def append(self, value: object) -> None:
        if self.n == self.buffer.size:
            bigger = np.empty(2 * self.buffer.size, dtype=self.buffer.dtype)
            bigger[: self.n] = self.buffer
            self.buffer = bigger
        self.buffer[self.n] = value
        self.n += 1

    @property
    def view(self) -> NDArray:
        return self.buffer[: self.n]


#: The hot per-slot arrays (attributes of :class:`Changes`), in the order ``_make_hot``
#: builds them.
_SLOT_ARRAYS = (
    "slot_provider",
    "slot_pair",
    "slot_change",
    "adopted",
    "slot_site",
    "slot_practice",
    "slot_position",
)


class Changes:
    """The collaborative's catalogue of changes, where they are adopted and who uses them."""

    #: Whether reversed organisational pairs leave the hot arrays. ``False`` keeps every
    #: slot there (the implementation before retirement), for tests that show retiring
    #: changes no result.
    retire: bool = True

    def __init__(
        self, n_providers: int, n_sites: int, organisational_aspects: NDArray[np.bool_]
    ) -> None:
        self.n_providers = n_providers
        self.n_sites = n_sites
        self.organisational_aspects = np.asarray(organisational_aspects, dtype=bool)
        # per change, as lists (for Python callers) and as growing arrays (``arrays``)
        self.aspect: list[int] = []
        self.origin: list[Origin] = []
        self.origin_group: list[int] = []  # -1 for staff ideas
        self.origin_site: list[int] = []
        self.design_quality: list[float] = []
        self.scaled_week: list[int] = []  # -1 until first scaled up anywhere
        self._change_aspect = _Growing(np.int64)
        self._change_quality = _Growing(float)
        self._change_origin = _Growing(np.int64)
        # per (site, change) adoption, retired or not
        self._pair_site = _Growing(np.int32)
        self._pair_change = _Growing(np.int32)
        self._pair_peak = _Growing(np.int64)
        self._pair_organisational = _Growing(bool)
        self._pair_start: list[int] = []  # the pair's first slot among all slots
        self._pair_size: list[int] = []  # its slots: its site's providers
        self._retired: set[int] = set()
        self.repertoire: list[set[int]] = [set() for _ in range(n_sites)]
        self._pair_of: dict[tuple[int, int], int] = {}  # (site, change) -> pair
        self.n_slots = 0  # every slot, retired ones included: the week's draws
        # per hot slot (see the module's docstring); ``slot_site`` and ``slot_practice``
        # (its change is a practice change) are kept as slots are added, not gathered
        # from the pairs every week
        self.slot_provider = np.empty(0, dtype=np.int32)
        self.slot_pair = np.empty(0, dtype=np.int32)
        self.slot_change = np.empty(0, dtype=np.int32)
        self.adopted = np.empty(0, dtype=bool)
        self.slot_site = np.empty(0, dtype=np.int32)
        self.slot_practice = np.empty(0, dtype=bool)
        self.slot_position = np.empty(0, dtype=np.int64)
        self._scaled = 0  # changes scaled up anywhere
        self._draw_buffer = np.empty(0)

    # --- per-pair arrays (every pair, retired or not) -----------------------------------------
    @property
    def pair_site(self) -> NDArray[np.int32]:
        return self._pair_site.view

    @property
    def pair_change(self) -> NDArray[np.int32]:
        return self._pair_change.view

    @property
    def pair_peak(self) -> NDArray[np.int64]:
        """The most providers that have used each pair at once (updated by ``pair_users``)."""
        return self._pair_peak.view

    @property
    def pair_organisational(self) -> NDArray[np.bool_]:
        return self._pair_organisational.view

    @property
    def open(self) -> np.ndarray:
        """Hot slots of practice changes whose provider could take the change up (again)."""
        return ~self.adopted & self.slot_practice

    @property
    def n_retired(self) -> int:
        """Pairs retired now (reversed organisational changes), whose slots are not hot."""
        return len(self._retired)

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
        self._change_aspect.append(aspect)
        self._change_quality.append(quality)
        self._change_origin.append(origin)
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
        an organisational change; a retired pair's slots are hot again)."""
        if self.scaled_week[change] < 0:
            self.scaled_week[change] = week
            self._scaled += 1
        # A team that retests a shared change and improves it improves it for everyone.
        if quality > self.design_quality[change]:
            self.design_quality[change] = quality
            self._change_quality.buffer[change] = quality
        organisational = self.is_organisational(change)
        if change not in self.repertoire[site]:
            self.repertoire[site].add(change)
            pair = self._pair_site.n
            self._pair_site.append(site)
            self._pair_change.append(change)
            self._pair_peak.append(0)
            self._pair_organisational.append(organisational)
            self._pair_of[site, change] = pair
            self._pair_start.append(self.n_slots)
            self._pair_size.append(site_providers.stop - site_providers.start)
            self.n_slots += self._pair_size[pair]
            start = self._make_hot(pair, site_providers)
        else:
            pair = self._pair_of[site, change]
            if pair in self._retired:
                self._retired.remove(pair)
                start = self._make_hot(pair, site_providers)
            else:
                start = self._hot_range(pair)[0]
        # The pair's hot slots are one contiguous run: its site's providers, in order, so a
        # provider's slot is found by arithmetic.
        stop = start + self._pair_size[pair]
        if organisational:
            self.adopted[start:stop] = True
        elif stop > start:
            first, n = int(self.slot_provider[start]), stop - start
            team = np.asarray(team_providers, dtype=np.int64) - first
            self.adopted[start + team[(team >= 0) & (team < n)]] = True

    def reverse(self, pairs: NDArray[np.int64]) -> None:
        """Sites reverse organisational changes: the (site, change) ``pairs`` stop for
        every provider of the site, and (organisational ones) retire from the hot arrays."""
        keep = None
        for pair in np.unique(pairs).tolist():
            start, stop = self._hot_range(pair)
            self.adopted[start:stop] = False
            if self.retire and self.pair_organisational[pair] and pair not in self._retired:
                self._retired.add(pair)
                if keep is None:
                    keep = np.ones(self.adopted.size, dtype=bool)
                keep[start:stop] = False
        if keep is not None:
            for name in _SLOT_ARRAYS:
                setattr(self, name, getattr(self, name)[keep])

    def _hot_range(self, pair: int) -> tuple[int, int]:
        """The pair's hot slots, ``start:stop`` (empty when it is retired)."""
        start = int(np.searchsorted(self.slot_pair, pair))
        return start, start + (0 if pair in self._retired else self._pair_size[pair])

    def _make_hot(self, pair: int, site_providers: slice) -> int:
        """Put a pair's slots, none in use, among the hot slots, in pair order. Returns
        where they start among the hot slots."""
        size = self.slot_pair.size
        # (A new pair, the usual case, comes after every other.)
        at = (
            size
            if size == 0 or self.slot_pair[-1] < pair
            else int(np.searchsorted(self.slot_pair, pair))
        )
        n = self._pair_size[pair]
        if n == 0:
            return at
        start = self._pair_start[pair]
        blocks = (
            np.arange(site_providers.start, site_providers.stop, dtype=np.int32),
            np.full(n, pair, dtype=np.int32),
            np.full(n, self._pair_change.buffer[pair], dtype=np.int32),
            np.zeros(n, dtype=bool),
            np.full(n, self._pair_site.buffer[pair], dtype=np.int32),
            np.full(n, not self._pair_organisational.buffer[pair], dtype=bool),
            np.arange(start, start + n, dtype=np.int64),
        )
        for name, block in zip(_SLOT_ARRAYS, blocks, strict=True):
            old = getattr(self, name)
            pieces = (old, block) if at == size else (old[:at], block, old[at:])
            setattr(self, name, np.concatenate(pieces))
        return at

    # --- the week's draws ---------------------------------------------------------------------
    def draws(self, rng: np.random.Generator) -> NDArray[np.float64]:
        """One uniform draw per slot, retired slots included, in slot order
        (``rng.random(n_slots)``); returned for the hot slots (at ``slot_position``).

        With slots retired, the draws are made a cache-sized chunk at a time and only the
        hot slots' kept: the same numbers as one call (NumPy's generators make each float64
        uniform from the stream alike however many are drawn at once), so the retired
        slots cost only the drawing."""
        n = self.n_slots
        position = self.slot_position
        if position.size == n:  # nothing retired: the hot slots are every slot
            return rng.random(n)
        if self._draw_buffer.size == 0:
            self._draw_buffer = np.empty(DRAW_CHUNK)
        hot = np.empty(position.size)
        starts = range(0, n, DRAW_CHUNK)
        bounds = np.searchsorted(position, [*starts, n]).tolist()
        for k, start in enumerate(starts):
            chunk = self._draw_buffer[: min(DRAW_CHUNK, n - start)]
            rng.random(out=chunk)
            lo, hi = bounds[k], bounds[k + 1]
            if hi > lo:
                np.take(chunk, position[lo:hi] - start, out=hot[lo:hi])
        return hot

    # --- views ----------------------------------------------------------------------------
    def arrays(self) -> tuple[NDArray, NDArray, NDArray]:
        """Per-change aspect, design quality and origin, as arrays (views of arrays that
        grow as changes are added, not rebuilt). Aspect and origin never change, so a view
        kept keeps its values (``outputs`` keeps them, step by step); design quality is the
        current one when the view is taken."""
        return self._change_aspect.view, self._change_quality.view, self._change_origin.view

    def colleague_share(
        self, adjacency: sparse.csr_array, degree: NDArray, slots: NDArray | None = None
    ) -> NDArray:
        """For each hot slot (or each of ``slots``, indices), the share of the provider's
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
        users = np.bincount(self.slot_pair[self.adopted], minlength=self._pair_site.n)
        np.maximum(self.pair_peak, users, out=self.pair_peak)
        return users

    def organisational_in_place(self) -> NDArray[np.intp]:
        """The organisational pairs in place now (in use by the site's providers), in
        order: ``flatnonzero(pair_organisational & (pair users > 0))``, from the hot slots."""
        used = self.slot_pair[self.adopted & ~self.slot_practice]  # in pair order
        first = np.ones(used.size, dtype=bool)
        np.not_equal(used[1:], used[:-1], out=first[1:])
        return used[first].astype(np.intp)
