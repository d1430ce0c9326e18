"""Property-based tests of the submodels in ``coprod_sim.mechanisms``.

Each test checks the direction of effect a mechanism's docstring states (a good
experience never lowers trust, a good contact never raises stigma, and so on),
or a range or bookkeeping property (attitude exchange conserves the total).
Statistical tests use a fixed ``np.random.default_rng`` seed and a tolerance of
at least four standard errors, stated where it is used.
"""

from __future__ import annotations

import itertools
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coprod_sim.mechanisms import (
    bounded_confidence,
    capability,
    care,
    cascade,
    contact,
    crisis,
    effects,
    feedback,
    inclusion,
    pdsa,
    power,
    priorities,
    retention,
    sustainment,
    trust,
    uptake,
    voice,
)

FAST = settings(max_examples=40, deadline=None)

unit = st.floats(0.0, 1.0)
positive_unit = st.floats(0.01, 1.0)
seeds = st.integers(0, 2**32 - 1)
evidence = st.floats(0.0, 1e6)
RUNGS = range(1, len(power.LADDER) + 1)


def unit_vectors(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(float, st.integers(min_size, max_size), elements=unit)


def normalised_rows(rows: int, aspects: int, rng: np.random.Generator) -> np.ndarray:
    """Random weights over aspects, each row summing to 1."""
    return priorities.normalise(rng.random((rows, aspects)) + 1e-3)


# --- power: Arnstein's ladder --------------------------------------------------------------
@pytest.mark.parametrize("quantity", [power.patient_input_weight, power.status_equality])
def test_power_quantities_never_decrease_up_the_ladder(quantity) -> None:
    values = np.array([float(quantity(rung)) for rung in RUNGS])
    assert np.all(np.diff(values) >= 0)
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert values[-1] > values[0]  # the ladder does something
    np.testing.assert_array_equal(quantity(np.arange(1, 9)), values)  # vectorised per site


def test_status_equality_jumps_between_tokenism_and_citizen_power() -> None:
    steps = np.diff([float(power.status_equality(rung)) for rung in RUNGS])
    assert int(np.argmax(steps)) == 4  # the step from rung 5 (placation) to 6 (partnership)


def test_informing_gives_patients_next_to_no_weight() -> None:
    assert power.patient_input_weight(3) <= 0.05
    assert power.patient_input_weight(6) >= 0.5  # partnership: decisions are shared


def test_rung_names_and_bands() -> None:
    assert [power.rung_name(rung) for rung in RUNGS] == list(power.LADDER)
    assert power.rung_name(6) == "partnership"
    assert power.rung_name(np.int64(1)) == "manipulation"
    assert [power.band(rung) for rung in RUNGS] == (
        ["non-participation"] * 2 + ["tokenism"] * 3 + ["citizen power"] * 3
    )
    assert power.band(power.COMMAND_AND_CONTROL) == "non-participation"
    assert power.rung_name(power.TOP_DOWN) == "informing"


@pytest.mark.parametrize("rung", [0, 9, -1, 100, 2.5, 3.0, True])
def test_invalid_rung_raises(rung) -> None:
    for function in (power.rung_name, power.band, power.patient_input_weight):
        with pytest.raises(ValueError, match="rung"):
            function(rung)
    with pytest.raises(ValueError, match="rung"):
        power.status_equality(np.array([1, 4, 9]))


# --- trust: beta reputation ------------------------------------------------------------------
def trust_after(r: float, s: float, g: float, b: float, memory: float, bias: float) -> float:
    good, bad = np.array([r]), np.array([s])
    trust.update_evidence(good, bad, g, b, memory, bias)
    return float(trust.expected_trust(good, bad)[0])


@FAST
@given(evidence, evidence, st.floats(0.05, 1.0), st.floats(1.0, 10.0))
def test_good_experience_never_lowers_trust_and_bad_never_raises_it(r, s, memory, bias) -> None:
    # Compared with a week with no experience (the same forgetting applies to all three).
    quiet = trust_after(r, s, 0.0, 0.0, memory, bias)
    assert trust_after(r, s, 1.0, 0.0, memory, bias) >= quiet
    assert trust_after(r, s, 0.0, 1.0, memory, bias) <= quiet
    # Without forgetting, compared with the trust before the experience.
    before = float(trust.expected_trust(r, s))
    assert trust_after(r, s, 1.0, 0.0, 1.0, bias) >= before
    assert trust_after(r, s, 0.0, 1.0, 1.0, bias) <= before


@FAST
@given(evidence, evidence, st.floats(0.05, 1.0), st.floats(1.0, 10.0), st.floats(1.0, 10.0))
def test_a_stronger_negativity_bias_never_softens_a_bad_experience(
    r, s, memory, bias, extra
) -> None:
    assert trust_after(r, s, 0.0, 1.0, memory, bias * extra) <= trust_after(
        r, s, 0.0, 1.0, memory, bias
    )


@FAST
@given(st.floats(0.0, 1000.0), st.floats(0.0, 1.0), st.floats(0.05, 1.0), st.floats(1.01, 10.0))
def test_negativity_bias_makes_one_bad_outweigh_one_good(s, surplus, memory, bias) -> None:
    # From any state with trust >= ½ (r >= s), one bad experience moves trust down more than one
    # good moves it up. (From very low trust this need not hold even with λ > 1: at r = 0,
    # s = 100, λ = 1.5 a good experience gains 0.0096 and a bad one loses 0.00014.)
    r = s * (1.0 + surplus)
    before = float(trust.expected_trust(memory * r, memory * s))
    up = trust_after(r, s, 1.0, 0.0, memory, bias) - before
    down = before - trust_after(r, s, 0.0, 1.0, memory, bias)
    assert down > up > 0


def test_without_negativity_bias_good_and_bad_balance_at_neutral_trust() -> None:
    before = float(trust.expected_trust(3.0, 3.0))
    up = trust_after(3.0, 3.0, 1.0, 0.0, 1.0, 1.0) - before
    down = before - trust_after(3.0, 3.0, 0.0, 1.0, 1.0, 1.0)
    assert up == pytest.approx(down, rel=1e-12)


@FAST
@given(evidence, evidence)
def test_expected_trust_is_strictly_inside_the_unit_interval(r, s) -> None:
    e = float(trust.expected_trust(r, s))
    assert 0.0 < e < 1.0


@FAST
@given(
    st.lists(st.tuples(unit, st.floats(0.0, 3.0)), min_size=1, max_size=60),
    st.floats(0.05, 1.0),
    st.floats(1.0, 10.0),
)
def test_evidence_stays_non_negative_and_trust_inside_the_unit_interval(weeks, memory, bias):
    good, bad = trust.evidence_for(np.array([0.3, 0.5, 0.8]), 6.0)
    for rating, visits in weeks:
        trust.update_evidence(good, bad, rating * visits, (1 - rating) * visits, memory, bias)
        assert np.all(good >= 0) and np.all(bad >= 0)
        e = trust.expected_trust(good, bad)
        assert np.all((e > 0) & (e < 1))


@FAST
@given(st.floats(0.01, 100.0), unit)
def test_evidence_for_inverts_expected_trust_in_its_range(strength, position) -> None:
    low, high = 1 / (strength + 2), (strength + 1) / (strength + 2)
    target = low + position * (high - low)
    good, bad = trust.evidence_for(target, strength)
    assert float(good + bad) == pytest.approx(strength, rel=1e-9)
    assert float(good) >= -1e-9 and float(bad) >= -1e-9
    assert float(trust.expected_trust(good, bad)) == pytest.approx(target, abs=1e-9)


@FAST
@given(st.floats(0.01, 100.0), unit)
def test_evidence_for_clips_trust_it_cannot_express(strength, target) -> None:
    low, high = 1 / (strength + 2), (strength + 1) / (strength + 2)
    good, bad = trust.evidence_for(target, strength)
    expressed = float(trust.expected_trust(good, bad))
    assert expressed == pytest.approx(min(max(target, low), high), abs=1e-9)
    assert float(good) >= -1e-9 and float(bad) >= -1e-9


# --- contact: provider stigma under Allport's conditions -------------------------------------
@FAST
@given(unit_vectors(), unit, unit, st.floats(0.0, 10.0), seeds)
def test_contact_moves_stigma_the_right_way_and_keeps_it_in_range(x, strength, mu, w, seed):
    good = np.random.default_rng(seed).random(x.size) < 0.5
    after = contact.update(x, good, strength, mu, w)
    assert np.all(after[good] <= x[good])  # a good contact never raises stigma
    assert np.all(after[~good] >= x[~good])  # a bad one never lowers it
    assert np.all((after >= 0) & (after <= 1))
    # Pettigrew & Tropp: a good contact lowers stigma under any conditions (strength > 0).
    moved = good & (x > 1e-6) & (strength * mu > 0.01)
    assert np.all(after[moved] < x[moved])


@FAST
@given(unit_vectors(), unit, unit, unit)
def test_stronger_conditions_never_leave_stigma_higher(x, weak, strong, mu) -> None:
    weak, strong = sorted((weak, strong))
    good = np.ones(x.size, dtype=bool)
    assert np.all(
        contact.update(x, good, strong, mu, 2.0) <= contact.update(x, good, weak, mu, 2.0)
    )
    bad = ~good  # the conditions do not buffer a bad contact
    np.testing.assert_array_equal(
        contact.update(x, bad, strong, mu, 2.0), contact.update(x, bad, weak, mu, 2.0)
    )


@FAST
@given(unit_vectors(), unit, unit, st.floats(1.0, 10.0))
def test_a_larger_step_or_negativity_weight_moves_stigma_further(x, mu1, mu2, w) -> None:
    small, large = sorted((mu1, mu2))
    good, bad = np.ones(x.size, dtype=bool), np.zeros(x.size, dtype=bool)
    assert np.all(contact.update(x, good, 1.0, large, w) <= contact.update(x, good, 1.0, small, w))
    assert np.all(
        contact.update(x, bad, 1.0, small, 2 * w) >= contact.update(x, bad, 1.0, small, w)
    )


@FAST
@given(st.lists(unit, min_size=8, max_size=8), unit)
def test_each_allport_condition_only_strengthens_contact(levels, base) -> None:
    """b is non-decreasing in every condition, b₀ with none and 1 with all four."""
    lo, hi = np.minimum(levels[:4], levels[4:]), np.maximum(levels[:4], levels[4:])
    weakest = contact.condition_strength(*lo, base)
    for k in range(4):
        raised = lo.copy()
        raised[k] = hi[k]
        assert contact.condition_strength(*raised, base) >= weakest - 1e-12
    assert float(contact.condition_strength(0, 0, 0, 0, base)) == pytest.approx(base)
    assert float(contact.condition_strength(1, 1, 1, 1, base)) == pytest.approx(1.0)
    assert contact.contact_probability(hi[2]) >= contact.contact_probability(lo[2])
    assert 0.25 <= contact.contact_probability(lo[2]) <= 1.0


@FAST
@given(unit, unit, unit)
def test_good_contact_probability_rises_with_safety(s1, s2, positivity) -> None:
    lo, hi = sorted((s1, s2))
    p_lo = float(contact.good_contact_probability(lo, positivity))
    assert float(contact.good_contact_probability(hi, positivity)) >= p_lo
    assert positivity - 1e-12 <= p_lo <= 1.0 + 1e-12


# --- bounded confidence: Deffuant attitude exchange ------------------------------------------
@FAST
@given(
    hnp.arrays(float, st.integers(2, 40), elements=unit),
    unit,
    unit,
    seeds,
)
def test_exchange_conserves_contracts_and_respects_the_bound(x, epsilon, mu, seed) -> None:
    first, second = bounded_confidence.random_pairs(x.size, np.random.default_rng(seed))
    after = x.copy()
    bounded_confidence.exchange(after, first, second, epsilon, mu)
    assert after.sum() == pytest.approx(x.sum(), abs=1e-9)
    np.testing.assert_allclose(after[first] + after[second], x[first] + x[second], atol=1e-12)
    gap_before = np.abs(x[second] - x[first])
    gap_after = np.abs(after[second] - after[first])
    assert np.all(gap_after <= gap_before + 1e-12)  # pairs never move apart
    far = gap_before >= epsilon  # farther than the bound: unchanged
    np.testing.assert_array_equal(after[first[far]], x[first[far]])
    np.testing.assert_array_equal(after[second[far]], x[second[far]])
    assert after.min() >= x.min() - 1e-12 and after.max() <= x.max() + 1e-12
    unpaired = np.setdiff1d(np.arange(x.size), np.concatenate([first, second]))
    np.testing.assert_array_equal(after[unpaired], x[unpaired])


@FAST
@given(
    hnp.arrays(float, st.tuples(st.integers(2, 30), st.integers(1, 4)), elements=unit), unit, seeds
)
def test_exchange_on_columns_is_column_by_column(x, epsilon, seed) -> None:
    first, second = bounded_confidence.random_pairs(len(x), np.random.default_rng(seed))
    together = x.copy()
    bounded_confidence.exchange(together, first, second, epsilon, 0.3)
    for column in range(x.shape[1]):
        alone = x[:, column].copy()
        bounded_confidence.exchange(alone, first, second, epsilon, 0.3)
        np.testing.assert_array_equal(together[:, column], alone)


@FAST
@given(st.integers(0, 101), seeds)
def test_random_pairs_are_disjoint(n, seed) -> None:
    first, second = bounded_confidence.random_pairs(n, np.random.default_rng(seed))
    assert len(first) == len(second) == n // 2
    everyone = np.concatenate([first, second])
    assert len(np.unique(everyone)) == everyone.size
    assert np.all((everyone >= 0) & (everyone < n))


@st.composite
def networks(draw) -> tuple[np.ndarray, int]:
    """(edges, n): an edge list without self-loops, possibly with repeated edges."""
    n = draw(st.integers(2, 25))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, n - 1)), min_size=0, max_size=60)
    )
    edges = np.array([(i, (i + k) % n) for i, k in pairs], dtype=np.intp).reshape(-1, 2)
    return edges, n


@FAST
@given(networks(), seeds)
def test_random_matching_is_a_matching_on_the_network(network, seed) -> None:
    edges, n = network
    first, second = bounded_confidence.random_matching(edges, n, np.random.default_rng(seed))
    assert len(first) == len(second)
    everyone = np.concatenate([first, second])
    assert len(np.unique(everyone)) == everyone.size  # no one meets two others
    allowed = {frozenset(edge) for edge in edges.tolist()}
    assert all(
        frozenset(pair) in allowed for pair in zip(first.tolist(), second.tolist(), strict=True)
    )
    if len(edges):
        assert len(first) >= 1  # the edge with the highest priority is always kept


def test_count_clusters() -> None:
    assert bounded_confidence.count_clusters(np.array([])) == 0
    assert bounded_confidence.count_clusters(np.array([0.1, 0.105, 0.5, 0.9, 0.901])) == 3


# --- voice: safety, speaking up and airtime --------------------------------------------------
coefficients = st.floats(0.5, 5.0)


@FAST
@given(unit, st.floats(0.01, 1.0), unit, unit, st.floats(-2.0, 2.0), coefficients, coefficients)
def test_speak_probability_rises_with_trust_and_safety_and_falls_with_stigma(
    low, gap, other, safety, base, by_trust, by_stigma
) -> None:
    high = low + gap  # may exceed 1: the formula is defined for any input

    def p(t, f, s) -> float:
        return float(voice.speak_probability(t, f, s, base, by_trust, 4.0, by_stigma))

    assert p(high, other, safety) > p(low, other, safety)
    assert p(other, high, safety) < p(other, low, safety)
    assert p(other, other, high) > p(other, other, low)
    assert 0.0 < p(low, other, safety) < 1.0


def test_speak_probability_at_neutral_inputs_is_the_base_rate() -> None:
    p = voice.speak_probability(0.5, 0.5, 0.5, np.log(3.0), 4.0, 4.0, 3.0)
    assert float(p) == pytest.approx(0.75)


@FAST
@given(unit, unit, unit, unit, st.booleans())
def test_psychological_safety_is_non_decreasing_in_each_input(a1, a2, r1, r2, rules) -> None:
    (a_lo, a_hi), (r_lo, r_hi) = sorted((a1, a2)), sorted((r1, r2))
    low = voice.psychological_safety(a_lo, rules, r_lo)
    assert voice.psychological_safety(a_hi, rules, r_lo) >= low
    assert voice.psychological_safety(a_lo, rules, r_hi) >= low
    assert voice.psychological_safety(a_lo, True, r_lo) >= voice.psychological_safety(
        a_lo, False, r_lo
    )
    assert 0.0 <= low <= 1.0 + 1e-12


@FAST
@given(
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(0, 15),
    unit,
    seeds,
)
def test_allocate_turns_hears_only_the_willing_and_fills_the_turns(
    meetings, members, turns, equality, seed
) -> None:
    rng = np.random.default_rng(seed)
    willing = rng.random((meetings, members)) < 0.6
    is_staff = rng.random(members) < 0.5
    heard = voice.allocate_turns(willing, is_staff, equality, turns, rng)
    assert heard.shape == willing.shape
    assert not np.any(heard & ~willing)
    np.testing.assert_array_equal(heard.sum(axis=1), np.minimum(turns, willing.sum(axis=1)))
    one = voice.allocate_turns(willing[0], is_staff, equality, turns, rng)  # one meeting, 1-D
    assert one.shape == (members,)
    assert not np.any(one & ~willing[0])
    assert one.sum() == min(turns, willing[0].sum())


def test_without_equal_status_staff_take_the_floor_first() -> None:
    # One staff member and one representative, both willing, one turn. With status equality 0
    # staff lead by 3 on the Gumbel scale: P(staff heard) = σ(3) = 0.953; with equality 1 it is ½.
    # 20,000 meetings: standard error ≤ 0.0036, so ±0.02 is over 5 standard errors.
    rng = np.random.default_rng(7)
    willing = np.ones((20_000, 2), dtype=bool)
    is_staff = np.array([True, False])
    unequal = voice.allocate_turns(willing, is_staff, 0.0, 1, rng)[:, 0].mean()
    equal = voice.allocate_turns(willing, is_staff, 1.0, 1, rng)[:, 0].mean()
    assert unequal == pytest.approx(1 / (1 + np.exp(-3.0)), abs=0.02)
    assert equal == pytest.approx(0.5, abs=0.02)
    assert unequal > equal


def test_share_of_representatives_heard_does_not_grow_with_the_group() -> None:
    # Half staff, each member willing with probability 0.7, 4 turns, 20,000 meetings per size.
    # The share of representatives heard has standard error ≤ 0.0023 per size, so consecutive
    # sizes may differ by noise of about 0.003; a rise of 0.015 (5 standard errors) would be real.
    rng = np.random.default_rng(11)
    sizes = (4, 6, 8, 10, 12, 16, 20, 30)
    for equality in (0.0, 0.5, 1.0):
        shares = []
        for n in sizes:
            is_staff = np.arange(n) < n // 2
            willing = rng.random((20_000, n)) < 0.7
            heard = voice.allocate_turns(willing, is_staff, equality, 4, rng)
            shares.append(heard[:, ~is_staff].mean())
        assert np.all(np.diff(shares) <= 0.015), (equality, shares)
        assert shares[-1] < shares[0] - 0.3  # a large group hears far fewer representatives


def test_a_small_team_hears_everyone_willing() -> None:
    rng = np.random.default_rng(0)
    willing = rng.random((500, 5)) < 0.5
    heard = voice.allocate_turns(willing, np.array([1, 1, 0, 0, 0]), 0.0, 5, rng)
    np.testing.assert_array_equal(heard, willing)


# --- inclusion: who sits on the team ---------------------------------------------------------
@FAST
@given(
    hnp.arrays(float, st.integers(0, 30), elements=st.sampled_from([0.0, 0.001, 0.3, 1.0, 5.0])),
    st.integers(-1, 35),
    seeds,
)
def test_weighted_sample_draws_distinct_indices_with_positive_weight(weights, k, seed) -> None:
    chosen = inclusion.weighted_sample(weights, k, np.random.default_rng(seed))
    assert len(chosen) == max(0, min(k, int(np.count_nonzero(weights > 0))))
    assert len(np.unique(chosen)) == len(chosen)
    assert np.all(weights[chosen] > 0)


@st.composite
def sites(draw):
    """Candidates' groups, trust, key populations, represented groups and patient counts."""
    groups = draw(st.integers(1, 6))
    candidate_group = np.array(draw(st.lists(st.integers(0, groups - 1), min_size=0, max_size=25)))
    trust_values = np.array(draw(st.lists(unit, min_size=len(candidate_group), max_size=25)))[
        : len(candidate_group)
    ]
    key = np.array(draw(st.lists(st.booleans(), min_size=groups, max_size=groups)))
    represented = np.array(draw(st.lists(st.booleans(), min_size=groups, max_size=groups)))
    extra = np.array(draw(st.lists(st.integers(0, 50), min_size=groups, max_size=groups)))
    counts = np.bincount(candidate_group.astype(int), minlength=groups) + extra
    return candidate_group.astype(int), trust_values, key, represented, counts


@FAST
@given(sites(), st.integers(0, 10), seeds)
def test_deliberate_recruitment_seats_an_unrepresented_key_population_first(site, seats, seed):
    candidate_group, trust_values, key, represented, counts = site
    rng = np.random.default_rng(seed)
    order = inclusion.deliberate_order(key, represented, counts, rng)
    assert sorted(order) == list(range(len(key)))
    chosen = inclusion.recruit_deliberate(candidate_group, trust_values, order, seats, rng)
    assert len(chosen) == min(seats, len(candidate_group))
    assert len(np.unique(chosen)) == len(chosen)
    seated = candidate_group[chosen]
    present = np.unique(candidate_group)
    # Round robin: the first seats go to distinct groups, as many as there are seats.
    assert len(np.unique(seated)) == min(seats, len(present))
    wanted = [g for g in present if key[g] and not represented[g]]
    if wanted and seats > 0:
        assert seated[0] in wanted
    if key[present].any() and not represented.any() and seats > 0:
        assert key[seated].any()


def test_deliberate_order_weights_groups_by_their_patients() -> None:
    # Two unrepresented key populations counting 3 and 1 patients: the first is sought first with
    # probability 3/4 (Efraimidis-Spirakis). 4,000 draws: standard error 0.007, tolerance 0.04.
    rng = np.random.default_rng(5)
    key = np.array([False, True, True])
    firsts = [
        inclusion.deliberate_order(key, [False, False, False], [100, 3, 1], rng)[0]
        for _ in range(4000)
    ]
    assert np.mean(np.array(firsts) == 1) == pytest.approx(0.75, abs=0.04)
    assert set(firsts) <= {1, 2}  # key populations before the general group


def test_convenience_recruitment_under_represents_the_hard_to_reach() -> None:
    # 50 easy-to-reach (reachability 1) and 50 hard-to-reach (0.2) candidates, 5 seats, 2,000
    # teams. Their share of the candidates is ½; the expected share of seats is near 0.17, with a
    # standard error below 0.004, so asserting < 0.3 leaves a margin of over 30 standard errors.
    rng = np.random.default_rng(2)
    reach = np.r_[np.full(50, 0.2), np.full(50, 1.0)]
    picks = np.concatenate(
        [inclusion.recruit_convenience(reach, rng.random(100), 5, rng) for _ in range(2000)]
    )
    assert np.mean(picks < 50) < 0.3


# --- priorities: what matters and choosing a change ------------------------------------------
@FAST
@given(st.integers(1, 8), unit, unit, seeds)
def test_score_follows_patient_view_as_input_weight_rises(aspects, w1, w2, seed) -> None:
    rng = np.random.default_rng(seed)
    staff, patients = normalised_rows(2, aspects, rng)
    quality = rng.random(aspects) * 1.2  # quality beyond 1 leaves no room to improve
    low, high = sorted((w1, w2))
    before = priorities.score(staff, patients, low, quality)
    after = priorities.score(staff, patients, high, quality)
    patients_first = patients > staff
    assert np.all(after[patients_first] >= before[patients_first] - 1e-12)
    assert np.all(after[~patients_first] <= before[~patients_first] + 1e-12)
    assert np.all(before >= 0)
    assert np.all(before[quality >= 1] == 0)


@FAST
@given(unit, unit, unit, unit, unit, unit)
def test_agreement_probability_falls_with_weight_negotiation_and_disagreement(
    w, n, d, dw, dn, dd
) -> None:
    assert priorities.agreement_probability(0.0, n, d) == 1.0  # staff decide alone
    p = priorities.agreement_probability(w, n, d)
    assert 0.0 <= p <= 1.0
    assert priorities.agreement_probability(max(w, dw), n, d) <= p
    assert priorities.agreement_probability(w, max(n, dn), d) <= p
    assert priorities.agreement_probability(w, n, max(d, dd)) <= p


@FAST
@given(unit_vectors(), unit_vectors())
def test_disagreement_is_symmetric_and_in_the_unit_interval(a, b) -> None:
    size = min(a.size, b.size)
    a, b = a[:size], b[:size]
    d = priorities.disagreement(a, b)
    np.testing.assert_array_equal(d, priorities.disagreement(b, a))
    assert np.all((d >= 0) & (d <= 1))
    np.testing.assert_array_equal(priorities.disagreement(a, a), 0.0)


def test_proposals_follow_the_weights() -> None:
    # 40,000 draws per row: standard error of a frequency ≤ 0.0025; tolerance 0.015 is 6 of them.
    rng = np.random.default_rng(3)
    rows = np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.0, 0.5], [1.0, 0.0, 0.0, 0.0]])
    for row in rows:
        weights = np.tile(row, (40_000, 1))
        aspects = priorities.propose(weights, rng.random(40_000))
        frequency = np.bincount(aspects, minlength=len(row)) / len(aspects)
        np.testing.assert_allclose(frequency, row, atol=0.015)
        assert np.all(frequency[row == 0] == 0)  # an aspect no one cares about is never raised


@FAST
@given(st.integers(1, 8), st.integers(1, 30), seeds)
def test_propose_inverts_the_cumulative_weights(aspects, proposers, seed) -> None:
    rng = np.random.default_rng(seed)
    weights = normalised_rows(proposers, aspects, rng)
    draws = rng.random(proposers)
    chosen = priorities.propose(weights, draws)
    assert np.all((chosen >= 0) & (chosen < aspects))
    cumulative = np.cumsum(weights, axis=-1)
    rows = np.arange(proposers)
    below = np.where(chosen > 0, cumulative[rows, np.maximum(chosen - 1, 0)], 0.0)
    assert np.all(draws >= below)
    assert np.all((draws < cumulative[rows, chosen]) | (chosen == aspects - 1))


@FAST
@given(st.integers(1, 6), st.integers(1, 6), seeds)
def test_update_patient_view_keeps_silent_teams_and_stays_normalised(teams, aspects, seed):
    rng = np.random.default_rng(seed)
    view = normalised_rows(teams, aspects, rng)
    weight = rng.random(teams) * 10
    n_heard = rng.integers(0, 4, size=teams)
    heard_sum = np.stack(
        [normalised_rows(int(n), aspects, rng).sum(axis=0) for n in n_heard]
    ).reshape(teams, aspects)
    new_view, new_weight = priorities.update_patient_view(view, weight, heard_sum, n_heard)
    silent = n_heard == 0
    np.testing.assert_array_equal(new_view[silent], view[silent])
    np.testing.assert_array_equal(new_weight[silent], weight[silent])
    np.testing.assert_allclose(new_view.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        new_weight[~silent], priorities.VIEW_MEMORY * weight[~silent] + n_heard[~silent]
    )
    assert np.all(new_view >= 0)


def test_a_fresh_team_takes_what_it_hears() -> None:
    said = np.array([[0.0, 1.0, 0.0]])
    view, weight = priorities.update_patient_view(np.full((1, 3), 1 / 3), np.zeros(1), said, [1])
    np.testing.assert_allclose(view, said)
    assert weight[0] == 1.0


# --- pdsa --------------------------------------------------------------------------------------
@FAST
@given(unit, unit, unit)
def test_pdsa_success_keeps_quality_and_failure_teaches(quality, draw, learning) -> None:
    succeeded, after = pdsa.cycle(quality, draw, learning)
    assert succeeded == (draw < quality)
    if succeeded:
        assert after == quality
    else:
        assert quality <= after <= 1.0


# --- uptake -----------------------------------------------------------------------------------
@FAST
@given(unit, st.floats(0.0, 5.0), unit, unit)
def test_bass_hazard_rises_with_the_share_of_colleagues(p, q, f1, f2) -> None:
    lo, hi = sorted((f1, f2))
    assert uptake.bass_hazard(p, q, hi) >= uptake.bass_hazard(p, q, lo)
    assert uptake.bass_hazard(p, q, 0.0) == p


@FAST
@given(st.floats(0.0, 50.0), st.floats(0.001, 5.0), st.floats(0.01, 4.0))
def test_adoption_probability_is_a_probability_increasing_in_hazard(h, gap, dt) -> None:
    low = float(uptake.adoption_probability(h, dt))
    assert 0.0 <= low <= 1.0
    assert float(uptake.adoption_probability(h + gap, dt)) >= low
    if h * dt < 20:  # away from saturation in floating point the increase is strict
        assert float(uptake.adoption_probability(h + gap, dt)) > low
    assert float(uptake.adoption_probability(0.0, dt)) == 0.0


@FAST
@given(st.floats(0.001, 0.5), st.floats(0.0, 2.0), st.floats(0.0, 0.9))
def test_bass_share_starts_where_seeded_rises_and_stays_below_one(p, q, initial) -> None:
    assert float(uptake.bass_share(0.0, p, q)) == pytest.approx(0.0, abs=1e-12)
    assert float(uptake.bass_share(0.0, p, q, initial)) == pytest.approx(initial, abs=1e-12)
    horizon = 20.0 / (p + q)  # e^{-(p+q)t} ≥ e^{-20}: the share is distinguishable from 1
    t = np.linspace(0.0, horizon, 200)
    for seed_share in (0.0, initial):
        share = uptake.bass_share(t, p, q, seed_share)
        assert np.all(np.diff(share) > 0)
        assert np.all(share < 1.0)
    late = uptake.bass_share(np.linspace(horizon, 50 * horizon, 50), p, q)
    assert np.all(np.diff(late) >= 0) and np.all(late <= 1.0)


@FAST
@given(st.floats(0.001, 0.5), st.floats(0.0, 2.0), st.floats(0.0, 0.9), st.floats(0.1, 10.0))
def test_bass_share_solves_the_bass_equation(p, q, initial, t) -> None:
    # dF/dt = (p + qF)(1 − F), checked by a central difference.
    h = 1e-5
    f = float(uptake.bass_share(t, p, q, initial))
    slope = float(uptake.bass_share(t + h, p, q, initial) - uptake.bass_share(t - h, p, q, initial))
    assert slope / (2 * h) == pytest.approx((p + q * f) * (1 - f), rel=1e-4, abs=1e-8)


@FAST
@given(unit, unit, unit)
def test_threshold_adoption_is_monotone_in_the_share(threshold, f1, f2) -> None:
    lo, hi = sorted((f1, f2))
    assert bool(uptake.threshold_adopts(threshold, threshold))  # reaching it is enough
    if uptake.threshold_adopts(lo, threshold):
        assert uptake.threshold_adopts(hi, threshold)
    assert bool(uptake.threshold_adopts(lo, threshold)) == (lo >= threshold)


@FAST
@given(st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_wider_spread_of_thresholds_only_helps_the_cascade_reach_the_mean(mean, sd1, sd2):
    # For mean > 0 a larger sd raises P(θ ≤ F) below the mean, so the cascade from 0 gets at
    # least as far towards the mean: min(F*, mean) is non-decreasing in sd. (F* itself is not:
    # at mean 0.1 the cascade reaches 1.0 with sd 0.2 but only 0.52 with sd 10.) The tolerance
    # allows for the iteration stopping short near a tangency.
    lo, hi = sorted((sd1, sd2))
    narrow = uptake.granovetter_equilibrium(mean, lo)
    wide = uptake.granovetter_equilibrium(mean, hi)
    assert min(wide, mean) >= min(narrow, mean) - 1e-3
    # The cascade's first step, F₁ = P(θ ≤ 0), the share who adopt unprompted, grows with the
    # spread; and it is the normal distribution's, as the docstring says.
    first_narrow = uptake.granovetter_equilibrium(mean, lo, steps=1)
    first_wide = uptake.granovetter_equilibrium(mean, hi, steps=1)
    assert first_wide >= first_narrow
    if hi > 0:
        assert first_wide == pytest.approx(NormalDist(mean, hi).cdf(0.0), abs=1e-12)


@FAST
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_granovetter_equilibrium_falls_with_the_mean_threshold(m1, m2, sd) -> None:
    lo, hi = sorted((m1, m2))
    low_mean = uptake.granovetter_equilibrium(lo, sd)
    high_mean = uptake.granovetter_equilibrium(hi, sd)
    assert high_mean <= low_mean + 1e-3
    assert 0.0 <= high_mean <= 1.0


def test_granovetter_equilibrium_without_spread() -> None:
    assert uptake.granovetter_equilibrium(0.0, 0.0) == 1.0  # everyone adopts unprompted
    assert uptake.granovetter_equilibrium(0.2, 0.0) == 0.0  # no one moves first
    assert uptake.granovetter_equilibrium(0.5, 0.01) < 1e-6


# --- feedback ---------------------------------------------------------------------------------
def test_feedback_table_exhaustively() -> None:
    acknowledgement = 0.5
    expected = {
        # (acted, reported, valued): (good, bad)
        (True, True, True): (True, False),
        (True, True, False): (True, False),
        (True, False, True): (False, False),  # acted on, but they never hear
        (True, False, False): (False, False),
        (False, True, True): (True, False),  # acknowledged: still feels valued
        (False, True, False): (False, False),
        (False, False, True): (False, True),  # input into a void
        (False, False, False): (False, True),
    }
    cases = list(itertools.product([True, False], repeat=3))
    acted, reported, valued = (np.array(column) for column in zip(*cases, strict=True))
    draws = np.where(valued, 0.25, 0.75)  # valued iff draw < acknowledgement
    good, bad = feedback.contribution_experience(acted, reported, draws, acknowledgement)
    for case, g, b in zip(cases, good.tolist(), bad.tolist(), strict=True):
        assert (g, b) == expected[case], case
    assert not np.any(good & bad)


@FAST
@given(unit, unit)
def test_feedback_valued_iff_draw_below_acknowledgement(draw, acknowledgement) -> None:
    good, bad = feedback.contribution_experience(False, True, draw, acknowledgement)
    assert bool(good) == (draw < acknowledgement)
    assert not bool(bad)  # with no tokenism sensitivity, being told is never bad


def test_input_reported_back_but_not_acted_on_can_feel_like_tokenism() -> None:
    """Placation: not acted on, reported back, not felt valued: bad with probability τ,
    i.e. (1 − α)·τ of such contributions; acted-on input is never bad."""
    draws = (np.arange(100_000) + 0.5) / 100_000  # an even grid of uniform draws
    for alpha, tau in ((0.5, 0.5), (0.2, 0.9), (0.0, 1.0), (1.0, 1.0), (0.3, 0.0)):
        good, bad = feedback.contribution_experience(False, True, draws, alpha, tau)
        assert good.mean() == pytest.approx(alpha, abs=1e-4)
        assert bad.mean() == pytest.approx((1 - alpha) * tau, abs=1e-4)
        assert not np.any(good & bad)
        good, bad = feedback.contribution_experience(True, True, draws, alpha, tau)
        assert good.all() and not bad.any()
    assert feedback.unheard_experience(draws, 0.3).mean() == pytest.approx(0.3, abs=1e-4)


# --- sustainment -------------------------------------------------------------------------------
@FAST
@given(unit, unit, unit, unit, unit, st.floats(0.0, 100.0), unit)
def test_abandonment_hazard_directions(decay, demand, quality, support, reinforcement, pressure, x):
    def h(demand=demand, quality=quality, support=support, pressure=pressure) -> float:
        return float(
            sustainment.abandonment_hazard(decay, demand, quality, support, reinforcement, pressure)
        )

    base = h()
    assert 0.0 <= base <= decay * (1 + pressure) + 1e-12
    assert h(demand=max(demand, x)) <= base
    assert h(quality=max(quality, x)) <= base
    assert h(support=max(support, x)) <= base
    assert h(pressure=pressure + x) >= base


@FAST
@given(
    hnp.arrays(float, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(0, 50))
)
def test_patient_demand_is_relative_to_the_most_valued_aspect(weights) -> None:
    demand = sustainment.patient_demand(weights)
    assert demand.shape == weights.shape
    assert np.all((demand >= 0) & (demand <= 1))
    top = demand.max(axis=-1)
    empty = weights.max(axis=-1) == 0
    np.testing.assert_array_equal(top[~empty], 1.0)
    np.testing.assert_array_equal(demand[empty], 0.0)


# --- care ---------------------------------------------------------------------------------------
@FAST
@given(unit, unit, unit, unit, unit, unit)
def test_good_visit_probability_directions_and_range(value, stigma, strain, floor, harm, x):
    def p(value=value, stigma=stigma, strain=strain) -> float:
        return float(care.good_visit_probability(value, stigma, strain, floor, harm))

    base = p()
    assert 0.0 <= base <= 1.0 + 1e-12
    assert p(stigma=max(stigma, x)) <= base
    assert p(strain=max(strain, x)) <= base
    assert p(value=max(value, x)) >= base


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), seeds)
def test_value_delivered_is_in_range_and_rises_with_quality(providers, groups, aspects, seed):
    rng = np.random.default_rng(seed)
    quality = rng.random((providers, aspects))
    what_matters = normalised_rows(groups, aspects, rng)
    value = care.value_delivered(quality, what_matters)
    assert value.shape == (providers, groups)
    assert np.all((value >= 0) & (value <= 1 + 1e-12))
    better = np.minimum(1.0, quality + rng.random((providers, aspects)) * 0.5)
    assert np.all(care.value_delivered(better, what_matters) >= value - 1e-12)


# --- effects, retention and the care cascade -----------------------------------------------------
ratio = st.floats(1.0, 20.0)


@FAST
@given(ratio, unit, unit)
def test_an_effect_is_its_ratio_across_the_range_and_neutral_at_half(r, x1, x2) -> None:
    assert float(effects.factor(r, 0.5)) == pytest.approx(1.0)
    assert float(effects.factor(r, 1.0) / effects.factor(r, 0.0)) == pytest.approx(r)
    lo, hi = sorted((x1, x2))
    assert effects.factor(r, hi) >= effects.factor(r, lo)
    p = effects.odds_to_probability(0.75, effects.factor(r, lo))
    assert 0.0 <= float(p) <= 1.0
    assert float(effects.odds_to_probability(0.75, 1.0)) == pytest.approx(0.75)


@FAST
@given(unit, unit, unit, unit, unit, unit, ratio, ratio, ratio, ratio)
def test_more_trust_better_care_and_less_stigma_never_lower_retention(
    t1, t2, v1, v2, s1, s2, mistrust, access, stigma, tracing
) -> None:
    """Each factor alone, the others held: attendance and return never fall, leaving never
    rises, as trust, the value of care and tracing rise and stigma falls."""
    (t_lo, t_hi), (v_lo, v_hi), (s_lo, s_hi) = sorted((t1, t2)), sorted((v1, v2)), sorted((s1, s2))

    def k(v, s):
        return retention.care_factor(v, s, access, stigma)

    def attend(t, v, s):
        return float(retention.visit_attendance(t, k(v, s), 0.75, mistrust))

    def leave(t, v, s, c):
        return float(retention.leave_hazard(t, k(v, s), c, 0.005, mistrust, tracing))

    eps = 1e-12
    assert attend(t_hi, v_lo, s_hi) >= attend(t_lo, v_lo, s_hi) - eps
    assert attend(t_lo, v_hi, s_hi) >= attend(t_lo, v_lo, s_hi) - eps
    assert attend(t_lo, v_lo, s_lo) >= attend(t_lo, v_lo, s_hi) - eps
    assert leave(t_hi, v_lo, s_hi, 0.5) <= leave(t_lo, v_lo, s_hi, 0.5) + eps
    assert leave(t_lo, v_hi, s_hi, 0.5) <= leave(t_lo, v_lo, s_hi, 0.5) + eps
    assert leave(t_lo, v_lo, s_lo, 0.5) <= leave(t_lo, v_lo, s_hi, 0.5) + eps
    assert leave(t_lo, v_lo, s_hi, v_hi) <= leave(t_lo, v_lo, s_hi, v_lo) + eps  # tracing
    back = retention.return_hazard
    assert back(t_hi, v_lo, 0.01, mistrust, tracing) >= back(t_lo, v_lo, 0.01, mistrust, tracing)
    assert back(t_lo, v_hi, 0.01, mistrust, tracing) >= back(t_lo, v_lo, 0.01, mistrust, tracing)
    # Each hazard is its base rate at neutral (½) levels.
    assert leave(0.5, 0.5, 0.5, 0.5) == pytest.approx(0.005)
    assert float(back(0.5, 0.5, 0.01, mistrust, tracing)) == pytest.approx(0.01)
    assert attend(0.5, 0.5, 0.5) == pytest.approx(0.75)


@FAST
@given(unit, unit, unit, unit, ratio, ratio)
def test_more_trust_or_less_stigma_never_lowers_adherence(t1, t2, s1, s2, mistrust, stigma):
    (t_lo, t_hi), (s_lo, s_hi) = sorted((t1, t2)), sorted((s1, s2))

    def lapse(t, s):
        return float(cascade.lapse_probability(t, s, 0.012, mistrust, stigma))

    assert lapse(t_hi, s_hi) <= lapse(t_lo, s_hi) + 1e-12
    assert lapse(t_lo, s_lo) <= lapse(t_lo, s_hi) + 1e-12
    assert 0.0 <= lapse(t_lo, s_hi) <= 1.0
    assert lapse(0.5, 0.5) == pytest.approx(-np.expm1(-0.012))


@FAST
@given(unit, unit, unit, unit)
def test_better_adherence_support_and_testing_never_lower_resumption(q1, q2, c, enhanced):
    lo, hi = sorted((q1, q2))
    routine = cascade.resume_probability([lo, hi], [False, False], c, enhanced)
    assert routine[1] >= routine[0]
    found = cascade.resume_probability([lo, hi], [True, True], c, enhanced)
    np.testing.assert_array_equal(found, [enhanced, enhanced])  # counselling after a test


@FAST
@given(st.integers(0, 1000), st.integers(-1000, 1000), st.integers(1, 520))
def test_a_test_falls_due_once_the_interval_has_passed(week, last, interval) -> None:
    assert bool(cascade.test_due(last, week, interval)) == (week - last >= interval)
    assert bool(cascade.test_due(cascade.NEVER, week, interval))


@FAST
@given(st.lists(st.tuples(st.booleans(), st.booleans(), unit), min_size=1, max_size=50),
       unit, unit)  # fmt: skip
def test_viral_load_follows_adherence(cases, up, down) -> None:
    suppressed, adherent, draw = (np.array(c) for c in zip(*cases, strict=True))
    after = cascade.next_viral_state(suppressed, adherent, draw, up, down)
    # Adherent patients never lose suppression; non-adherent ones never gain it.
    assert np.all(after[adherent & suppressed])
    assert not np.any(after[~adherent & ~suppressed])
    np.testing.assert_array_equal(after[adherent & ~suppressed], draw[adherent & ~suppressed] < up)
    np.testing.assert_array_equal(
        after[~adherent & suppressed], draw[~adherent & suppressed] >= down
    )


@FAST
@given(unit, unit, unit, st.floats(1.0, 5.0))
def test_representatives_leave_sooner_as_trust_runs_out_and_when_alone(t1, t2, rate, token):
    lo, hi = sorted((t1, t2))
    leave = retention.leave_team_probability
    assert leave(hi, rate) <= leave(lo, rate)
    assert leave(lo, rate, True, token) >= leave(lo, rate, False, token)
    assert 0.0 <= float(leave(lo, rate, True, token)) <= 1.0
    assert 0.5 <= float(retention.meeting_attendance_probability(lo)) <= 1.0


# --- crisis --------------------------------------------------------------------------------------
@FAST
@given(st.integers(0, 300), st.integers(1, 100), st.integers(1, 50))
def test_crisis_phase_boundaries(week, start, duration) -> None:
    assert crisis.phase(week, None, duration) is crisis.Phase.BEFORE
    expected = (
        crisis.Phase.BEFORE
        if week < start
        else crisis.Phase.CRISIS
        if week < start + duration
        else crisis.Phase.RECOVERY
    )
    assert crisis.phase(week, start, duration) == expected
    assert crisis.phase(start - 1, start, duration) == crisis.Phase.BEFORE
    assert crisis.phase(start, start, duration) == crisis.Phase.CRISIS
    assert crisis.phase(start + duration - 1, start, duration) == crisis.Phase.CRISIS
    assert crisis.phase(start + duration, start, duration) == crisis.Phase.RECOVERY


@FAST
@given(st.integers(0, 300), st.integers(1, 100), st.integers(1, 50), st.lists(st.booleans()))
def test_only_hit_sites_leave_the_before_phase(week, start, duration, hit) -> None:
    phases = crisis.site_phases(week, start, duration, hit)
    assert len(phases) == len(hit)
    for h, ph in zip(hit, phases.tolist(), strict=True):
        assert ph == (crisis.phase(week, start, duration) if h else crisis.Phase.BEFORE)


@pytest.mark.parametrize("rung", list(RUNGS))
def test_effective_rung_in_and_after_a_crisis(rung) -> None:
    phases = np.array([crisis.Phase.BEFORE, crisis.Phase.CRISIS, crisis.Phase.RECOVERY])
    top_down = crisis.effective_rung(rung, phases, "top_down")
    coproduced = crisis.effective_rung(rung, phases, "coproduced")
    for rungs in (top_down, coproduced):
        assert rungs[0] == rung  # before: the scenario's rung
        assert rungs[1] == power.COMMAND_AND_CONTROL  # crisis: command-and-control
        assert np.all(rungs <= rung)
    assert top_down[2] == min(rung, power.TOP_DOWN)  # top-down recovery caps at informing
    assert coproduced[2] == rung  # coproduced recovery restores the rung
    assert top_down[2] <= coproduced[2]
    assert power.patient_input_weight(top_down[2]) <= power.patient_input_weight(coproduced[2])


def test_accepting_a_seat_follows_trust_and_what_peers_say() -> None:
    # 20,000 invitations at each level; tolerance 0.02 is > 5 standard errors.
    rng = np.random.default_rng(3)
    for level in (0.0, 0.2, 0.5, 0.9, 1.0):
        # With no word of mouth yet (½), or peers ignored (ω = 0): P(accept) = trust.
        for word, weight in ((0.5, 1.0), (0.1, 0.0)):
            rate = inclusion.accepts(np.full(20_000, level), word, weight, rng).mean()
            assert abs(rate - level) < 0.02
    bad, good = (float(inclusion.acceptance_probability(0.6, w, 1.0)) for w in (0.1, 0.9))
    assert bad == pytest.approx(0.12) and good == pytest.approx(1.0)


# --- capability and recovery ----------------------------------------------------------------------
@FAST
@given(unit, unit, unit, unit, st.floats(0.0, 10.0))
def test_capability_builds_with_success_and_erodes_faster_under_pressure(c1, c2, rho, k, pressure):
    lo, hi = sorted((c1, c2))
    assert capability.success_scale(hi, rho) >= capability.success_scale(lo, rho)
    assert 1 - rho - 1e-12 <= float(capability.success_scale(lo, rho)) <= 1.0
    assert lo <= capability.build(lo, k) <= 1.0
    calm = float(capability.erode(np.array(hi), 0.01, 0.0))
    pressed = float(capability.erode(np.array(hi), 0.01, pressure))
    assert 0.0 <= pressed <= calm <= hi


def test_a_top_down_recovery_reports_nothing_back_and_a_coproduced_one_does() -> None:
    phases = np.array([crisis.Phase.BEFORE, crisis.Phase.CRISIS, crisis.Phase.RECOVERY])
    np.testing.assert_array_equal(crisis.reporting_back(0.9, phases, "top_down"), [0.9, 0.9, 0.0])
    np.testing.assert_array_equal(crisis.reporting_back(0.9, phases, "coproduced"), [0.9] * 3)


def test_a_cycle_realises_only_the_share_of_its_design_the_team_can() -> None:
    assert pdsa.cycle(0.6, 0.5, 0.3, realised=1.0)[0]
    assert not pdsa.cycle(0.6, 0.5, 0.3, realised=0.5)[0]  # 0.5 >= 0.6·0.5
