"""Attitude exchange under bounded confidence (Deffuant et al. 2000).

Equation (Deffuant, Neau, Amblard & Weisbuch 2000, "Mixing beliefs among
interacting agents", *Adv Complex Syst* 3:87-98): when agents i and j meet and
their attitudes differ by less than the confidence bound ε,

    x_i ← x_i + μ·(x_j − x_i)        x_j ← x_j + μ·(x_i − x_j)

otherwise nothing changes. Providers exchange their stigma toward each group
this way with colleagues they are tied to (ε = ``peer_latitude``,
μ = ``peer_rate``); see Hegselmann & Krause (2002) for the synchronous variant.

Canonical reduction: with random pairs from the whole population (complete
mixing), μ = 0.5 and attitudes uniform on [0, 1], the attitudes settle into
about ⌊1/(2ε)⌋ clusters (Deffuant et al. 2000, fig. 2).

Meetings in one step are a *matching* (no agent meets two others at once), so
the simultaneous update equals Deffuant's one-pair-at-a-time update.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def exchange(
    attitudes: NDArray, first: NDArray, second: NDArray, epsilon: float, mu: float
) -> None:
    """Apply Deffuant's update to disjoint pairs (first[k], second[k]), in place.

    ``attitudes`` is (n,) or (n, k): with k columns, each attitude (e.g. stigma
    toward each patient group) is exchanged on its own.
    """
    if len(first) == 0 or mu == 0.0:
        return
    difference = attitudes[second] - attitudes[first]
    step = mu * difference * (np.abs(difference) < epsilon)
    attitudes[first] += step
    attitudes[second] -= step


def random_pairs(n: int, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """⌊n/2⌋ disjoint random pairs from n agents (complete mixing)."""
    order = rng.permutation(n)
    half = n // 2
    return order[:half], order[half : 2 * half]


def random_matching(edges: NDArray, n: int, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """A random matching on a network given as an (m, 2) edge array.

    One round of Luby's algorithm: each edge draws a random priority and is
    kept when it has the highest priority among the edges at both its ends,
    so no agent is in two kept edges.
    """
    if len(edges) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    priority = rng.random(len(edges))
    best = np.full(n, -1.0)
    np.maximum.at(best, edges[:, 0], priority)
    np.maximum.at(best, edges[:, 1], priority)
    keep = (priority == best[edges[:, 0]]) & (priority == best[edges[:, 1]])
    return edges[keep, 0], edges[keep, 1]


def count_clusters(attitudes: NDArray, gap: float = 0.01) -> int:
    """Number of clusters: groups of sorted attitudes separated by more than ``gap``."""
    values = np.sort(np.asarray(attitudes).ravel())
    if values.size == 0:
        return 0
    return 1 + int(np.count_nonzero(np.diff(values) > gap))
