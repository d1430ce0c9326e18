"""Who sits on the improvement team: convenience recruitment or deliberate inclusion.

Sources: Bluemer-Miroite et al. (2022): CaReQIC deliberately included key
populations (sex workers, people living unhoused, men who have sex with men,
transgender people) as community representatives; before it, providers sought
least input from the most vulnerable. Ocloo & Matthews (2016, *BMJ Qual Saf*
25:626): involvement is patchy and rarely reaches marginalised groups.

Convenience: staff invite the patients they reach most easily, the engaged
and the visible. A candidate in care is drawn with probability proportional
to ``reachability[group] × trust``, without replacement (Efraimidis &
Spirakis 2006 weighted sampling: keep the largest u^(1/w)).

Deliberate: empty seats go first to groups not yet represented, key
populations before others; among those, groups are taken in a random order
weighted by how many candidates (patients in care, not yet seated) they count
at the site, so across sites every key population gets its seats. Seats go
round robin over the groups in that order; within a group the representative
is drawn with probability proportional to trust (those willing to serve).

Either way, whether an invited patient accepts the seat depends on their own
trust in providers and on what their peers say about the team. Trust is needed
for coproduction (BMA patient liaison group 2022: marginalised groups have lost
trust, and need safe spaces to feel comfortable contributing); and a minority's
members join where their own group's experience says it is worth it (Kanter
1977 on critical mass; Granovetter 1978 on joining where peers do). The team's
word of mouth among group g at a site is a beta reputation (see ``trust``) of
the experiences its representatives from g have had there, good and bad, with
no experience at all reading ½, older experiences weighing less at each of the
team's meetings (by ``trust_memory`` per week):

    P(accept) = min(1, trust · (2·word_of_mouth)^ω)

with ω the ``word_of_mouth`` weight (0: peers do not matter; an assumption
with no published figure). A seat nobody accepts stays empty until the next
meeting; a team whose representatives from a group have been ignored finds
the group's members declining its seats.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def weighted_sample(weights: ArrayLike, k: int, rng: np.random.Generator) -> NDArray:
    """k indices drawn without replacement with probability proportional to weight."""
    w = np.asarray(weights, dtype=float)
    k = min(k, int(np.count_nonzero(w > 0)))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    keys = np.full(w.size, -np.inf)
    positive = w > 0
    keys[positive] = np.log(rng.random(int(positive.sum()))) / w[positive]
    return np.argsort(-keys, kind="stable")[:k]


def recruit_convenience(
    reachability: ArrayLike, trust: ArrayLike, seats: int, rng: np.random.Generator
) -> NDArray:
    """Indices of the candidates recruited by convenience."""
    return weighted_sample(np.asarray(reachability) * np.asarray(trust), seats, rng)


def deliberate_order(
    key_population: ArrayLike,
    represented: ArrayLike,
    local_counts: ArrayLike,
    rng: np.random.Generator,
) -> list[int]:
    """Group ids in the order deliberate recruitment seeks them."""
    key_population = np.asarray(key_population, dtype=bool).tolist()
    represented = np.asarray(represented, dtype=bool).tolist()
    counts = np.asarray(local_counts, dtype=float)
    with np.errstate(divide="ignore"):
        lottery = np.log(rng.random(counts.size)) / counts  # Efraimidis-Spirakis keys
    lottery = lottery.tolist()
    return sorted(
        range(counts.size), key=lambda g: (represented[g], not key_population[g], -lottery[g])
    )


def recruit_deliberate(
    candidate_group: ArrayLike,
    trust: ArrayLike,
    group_order: ArrayLike,
    seats: int,
    rng: np.random.Generator,
) -> NDArray:
    """Indices of the candidates recruited deliberately.

    ``group_order`` lists group ids, most deliberately sought first; seats go
    round robin over the groups that have candidates.
    """
    candidate_group = np.asarray(candidate_group)
    trust = np.asarray(trust, dtype=float)
    present = [g for g in group_order if np.any(candidate_group == g)]
    chosen: list[int] = []
    taken = np.zeros(candidate_group.size, dtype=bool)
    turn = 0
    while len(chosen) < seats and present:
        group = present[turn % len(present)]
        pool = np.flatnonzero((candidate_group == group) & ~taken)
        if pool.size == 0:
            present.remove(group)
            continue
        pick = pool[weighted_sample(trust[pool] + 1e-9, 1, rng)[0]]
        chosen.append(int(pick))
        taken[pick] = True
        turn += 1
    return np.asarray(chosen, dtype=np.intp)


def deliberate_picks(
    group_order: list[int],
    counts: list[int],
    starts: list[int],
    pools: NDArray,
    weights: NDArray,
    seats: int,
    rng: np.random.Generator,
) -> list[int]:
    """:func:`recruit_deliberate` for candidates given by group: the candidates of group g
    are ``pools[starts[g] : starts[g] + counts[g]]`` in order, with positive weights
    ``weights`` (trust + 1e-9) at the same places. Returns the candidates chosen (entries
    of ``pools``), drawn as :func:`recruit_deliberate` draws them: the same draws, the same
    candidates."""
    present = [g for g in group_order if counts[g] > 0]
    chosen: list[int] = []
    pool_of: dict[int, tuple[NDArray, NDArray, int]] = {}  # group -> pool, weights, taken
    turn = 0
    while len(chosen) < seats and present:
        group = present[turn % len(present)]
        if group in pool_of:  # visited before: without the candidate taken then
            pool, w, taken = pool_of[group]
            pool, w = np.delete(pool, taken), np.delete(w, taken)
        else:
            pool = pools[starts[group] : starts[group] + counts[group]]
            w = weights[starts[group] : starts[group] + counts[group]]
        if pool.size == 0:
            present.remove(group)
            continue
        # weighted_sample(w, 1): the largest log(u)/w, the first of equals
        keys = np.log(rng.random(pool.size))
        keys /= w
        pick = int(keys.argmax())
        chosen.append(int(pool[pick]))
        pool_of[group] = (pool, w, pick)
        turn += 1
    return chosen


def acceptance_probability(trust: ArrayLike, word_of_mouth: ArrayLike, weight: float) -> NDArray:
    """P(accept) = min(1, trust·(2·word_of_mouth)^ω)."""
    return np.minimum(
        1.0, np.asarray(trust, dtype=float) * (2.0 * np.asarray(word_of_mouth)) ** weight
    )


def accepts(
    trust: ArrayLike, word_of_mouth: ArrayLike, weight: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Whether each invited patient accepts a seat."""
    chance = acceptance_probability(trust, word_of_mouth, weight)
    return rng.random(chance.size) < chance
