"""Population state as arrays (structure of arrays), so submodels work without Python loops.

Patients are stored sorted by site, then provider, then group: each site's
patients are one contiguous slice, and the index ``provider·G + group``
(``cell``) never decreases, which keeps gathers and sums cache-friendly.
The Mesa agents in ``agents.py`` are views into these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coprod_sim.mechanisms import trust as trust_mechanism


@dataclass
class Patients:
    """Every patient's state. Index i is the same patient in every array."""

    site: NDArray[np.int32]
    provider: NDArray[np.int32]
    group: NDArray[np.int8]
    cell: NDArray[np.int32]  # provider * n_groups + group
    good: NDArray[np.float32]  # evidence for trust in providers (beta reputation r)
    bad: NDArray[np.float32]  # evidence against (s)
    base_rate: NDArray[np.float32]  # trust before any evidence: the group's history (a)
    in_care: NDArray[np.bool_]
    representative: NDArray[np.bool_]
    site_bounds: NDArray[np.int64]  # patients of site k are [bounds[k], bounds[k+1])
    # The care cascade (see mechanisms.cascade): suppressed ⊆ on_treatment ⊆ in_care.
    on_treatment: NDArray[np.bool_]
    adherent: NDArray[np.bool_]  # taking treatment as prescribed (meaningful on treatment)
    suppressed: NDArray[np.bool_]  # virally suppressed
    last_test: NDArray[np.int32]  # week of the last viral-load test (cascade.NEVER if none)

    def __post_init__(self) -> None:
        if np.any(np.diff(self.cell) < 0):
            raise ValueError("patients must be sorted by (provider, group)")
        self._cell_starts, self._cell_sizes = _runs(self.cell)
        self._cells = self.cell[self._cell_starts]
        provider_starts, self._provider_sizes = _runs(self.provider)
        self._providers = self.provider[provider_starts]

    @property
    def n(self) -> int:
        return int(self.site.size)

    def sum_by_cell(self, values: NDArray, n_cells: int) -> NDArray[np.float64]:
        """Sum of ``values`` over the patients of each (provider, group) cell.

        Patients are sorted by cell, so this is one sequential ``reduceat``.
        """
        out = np.zeros(n_cells)
        if self.cell.size:
            out[self._cells] = np.add.reduceat(values, self._cell_starts, dtype=np.float64)
        return out

    def per_cell(self, table: NDArray) -> NDArray:
        """``table[cell]``: each patient's entry of a table over (provider, group) cells.

        Patients come in runs of one cell, so this repeats each cell's entry over its run
        (the same values as the gather, several times faster)."""
        return np.repeat(table[self._cells], self._cell_sizes)

    def per_provider(self, table: NDArray) -> NDArray:
        """``table[provider]``: each patient's entry of a table over providers, as
        :meth:`per_cell`."""
        return np.repeat(table[self._providers], self._provider_sizes)

    def trust(self, index: NDArray | slice = slice(None)) -> NDArray[np.float32]:
        """Expected trust in providers, (r + 2a)/(r + s + 2)."""
        return trust_mechanism.expected_trust(
            self.good[index], self.bad[index], self.base_rate[index]
        )

    def at_site(self, site: int) -> slice:
        return slice(int(self.site_bounds[site]), int(self.site_bounds[site + 1]))


@dataclass
class Providers:
    """Every provider's state."""

    site: NDArray[np.int32]
    on_team: NDArray[np.bool_]
    stigma: NDArray[np.float64]  # (providers, groups), in [0, 1]
    regard_good: NDArray[np.float64]  # evidence for regard for patients
    regard_bad: NDArray[np.float64]
    regard_base_rate: float  # regard before any evidence (a)
    threshold: NDArray[np.float64]  # Granovetter threshold
    site_bounds: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.site.size)

    def regard(self, index: NDArray | slice = slice(None)) -> NDArray[np.float64]:
        """Providers' regard for (trust in) patients, (r + 2a)/(r + s + 2)."""
        return trust_mechanism.expected_trust(
            self.regard_good[index], self.regard_bad[index], self.regard_base_rate
        )

    def at_site(self, site: int) -> slice:
        return slice(int(self.site_bounds[site]), int(self.site_bounds[site + 1]))


def _runs(index: NDArray) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Where each run of equal values of ``index`` starts, and how long it is."""
    if index.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(index)) + 1])
    return starts, np.diff(np.append(starts, index.size))


def allocate(total: int, shares: NDArray) -> NDArray[np.int64]:
    """Split ``total`` into integer counts proportional to ``shares`` (largest remainder).

    The counts always sum to ``total``, even when the shares sum to 1 only within tolerance.
    """
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(np.int64)
    remainder = total - int(counts.sum())
    if remainder > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:remainder]] += 1
    return counts


def site_shares(
    expected: NDArray, variation: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """A site's group shares around the expected ones.

    Dirichlet with concentration κ = 1/v² − 1 on the groups present, so a
    share m has standard deviation v·sqrt(m(1 − m)); v = 0 gives ``expected``.
    """
    present = expected > 0
    if variation == 0 or present.sum() < 2:
        return expected.astype(float)
    kappa = 1.0 / variation**2 - 1.0
    shares = np.zeros_like(expected, dtype=float)
    shares[present] = rng.dirichlet(expected[present] * kappa)
    return shares
