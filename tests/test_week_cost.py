"""The cost of a week stays flat as changes accumulate: retired changes leave the hot arrays.

These tests check the structure (what the hot per-slot arrays hold as a run goes on) and
that retiring changes no result; they time nothing (speed is measured in
``benchmarks/bench_model.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from coprod_sim import CoproductionModel, load_scenario
from coprod_sim.improvement import Changes, changes


def small_careqic(patients: int = 1_500):
    """CaReQIC's 26 sites and teams with fewer patients: the same pace of changes, cheaper
    weeks."""
    base = load_scenario("careqic")
    factor = patients / base.n_patients
    sites = [s.model_dump() | {"patients": max(1, round(s.patients * factor))} for s in base.sites]
    return base.with_overrides({"sites": sites})


def check_hot_arrays(ch: Changes) -> None:
    """What the hot arrays hold: every pair not retired, whole, in pair order; retired
    pairs are organisational and used by nobody; organisational pairs in place are used
    by every provider of their site."""
    n_pairs = ch.pair_site.size
    retired = np.zeros(n_pairs, dtype=bool)
    retired[list(ch._retired)] = True
    assert not (retired & ~ch.pair_organisational).any()
    assert (np.diff(ch.slot_position) > 0).all()
    assert (np.diff(ch.slot_pair) >= 0).all()
    sizes = np.asarray(ch._pair_size)
    assert ch.n_slots == sizes.sum()
    assert ch.adopted.size == sizes[~retired].sum()
    # each hot slot's place among all slots is its pair's start plus its provider's offset
    offset = ch.slot_position - np.asarray(ch._pair_start, dtype=np.int64)[ch.slot_pair]
    assert ((offset >= 0) & (offset < sizes[ch.slot_pair])).all()
    first = ch.slot_provider - offset  # the pair's first provider, for all its slots
    same = ch.slot_pair[1:] == ch.slot_pair[:-1]
    assert (first[1:][same] == first[:-1][same]).all()
    assert (ch.slot_change == ch.pair_change[ch.slot_pair]).all()
    assert (ch.slot_site == ch.pair_site[ch.slot_pair]).all()
    assert (ch.slot_practice == ~ch.pair_organisational[ch.slot_pair]).all()
    users = ch.pair_users()
    assert (users[retired] == 0).all()
    organisational = ~ch.slot_practice
    assert ch.adopted[organisational].all()  # in place: whole sites
    in_place = np.flatnonzero(ch.pair_organisational & (users > 0))
    assert np.array_equal(ch.organisational_in_place(), in_place)


def test_retired_changes_leave_the_hot_arrays_and_they_stay_bounded() -> None:
    model = CoproductionModel.from_scenario(small_careqic(), rng=0, with_agents=False)
    held = {}
    for week in range(1, 1041):
        model.step()
        if week % 130 == 0:
            check_hot_arrays(model.changes)
        if week in (520, 1040):
            ch = model.changes
            held[week] = (len(ch), ch.n_slots, ch.adopted.size, ch.n_retired)
    (changes_520, slots_520, hot_520, retired_520), (changes_1040, slots_1040, hot_1040, _) = (
        held[520],
        held[1040],
    )
    # The changes, and the slots drawn for, about double from week 520 to 1040 ...
    assert changes_1040 > 1.7 * changes_520 and slots_1040 > 1.7 * slots_520
    # ... while the slots held hot grow far less: reversed organisational changes retire.
    assert retired_520 > 0
    assert hot_1040 < 1.3 * hot_520
    assert hot_1040 < 0.5 * slots_1040


def run(monkeypatch: pytest.MonkeyPatch, retire: bool, weeks: int, **overrides):
    monkeypatch.setattr(Changes, "retire", retire)
    model = CoproductionModel.from_scenario(small_careqic(), rng=11, with_agents=False, **overrides)
    model.run_for(weeks)
    return model


@pytest.mark.parametrize(
    "overrides",
    [{}, {"uptake_rule": "threshold"}, {"reversal_rate": 0.05, "decay_rate": 0.0}],
    ids=["bass", "threshold", "many-reversals"],
)
def test_retiring_changes_no_result(monkeypatch: pytest.MonkeyPatch, overrides: dict) -> None:
    """The same run with every slot kept hot (the implementation before retirement) and
    with retirement: the same tables, the same generator state at the end."""
    kept = run(monkeypatch, False, 400, **overrides)
    retired = run(monkeypatch, True, 400, **overrides)
    assert kept.changes.n_retired == 0 and retired.changes.n_retired > 0
    assert kept.changes.adopted.size == kept.changes.n_slots > retired.changes.adopted.size
    for name, frame in kept.outputs.frames().items():
        assert frame.equals(retired.outputs.frames()[name]), name
    assert kept.rng.bit_generator.state == retired.rng.bit_generator.state
    assert np.array_equal(kept.quality, retired.quality)
    used = [
        (ch.slot_provider[ch.adopted].tolist(), ch.slot_change[ch.adopted].tolist())
        for ch in (kept.changes, retired.changes)
    ]
    assert used[0] == used[1]  # in the same order: the hot slots keep the slots' order


def catalogue(n_sites: int = 4, per_site: int = 3) -> Changes:
    """A catalogue of organisational (aspect 0) and practice (aspect 1) changes adopted at
    every site, half of the organisational ones then reversed."""
    ch = Changes(n_sites * per_site, n_sites, np.array([True, False]))
    for k in range(12):
        aspect = k % 2
        change = ch.new(aspect, changes.Origin.STAFF, -1, 0, 0.5)
        for site in range(n_sites):
            span = slice(site * per_site, (site + 1) * per_site)
            ch.scale_up(change, site, k, 0.5, span, np.arange(span.start, span.start + 1))
    organisational = np.flatnonzero(ch.pair_organisational)
    ch.reverse(organisational[::2])
    return ch


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"])
def test_the_draws_are_every_slots_in_order(
    monkeypatch: pytest.MonkeyPatch, bit_generator: str
) -> None:
    """``draws`` takes the hot slots' numbers from the stream of one draw per slot, and
    leaves the generator where drawing for every slot leaves it, in several chunks too."""
    ch = catalogue()
    assert ch.n_retired > 0 and ch.adopted.size < ch.n_slots
    make = getattr(np.random, bit_generator)
    for chunk in (5, 7, changes.DRAW_CHUNK):
        monkeypatch.setattr(changes, "DRAW_CHUNK", chunk)
        ch._draw_buffer = np.empty(0)
        one, other = np.random.Generator(make(4)), np.random.Generator(make(4))
        one.random(3, dtype=np.float32)  # a half-used 32-bit draw waiting in the generator
        other.random(3, dtype=np.float32)
        every = one.random(ch.n_slots)
        assert np.array_equal(ch.draws(other), every[ch.slot_position])
        # and the generator goes on as it would (the waiting 32-bit draw included)
        for draw in (lambda g: g.random(3, dtype=np.float32), lambda g: g.random(3)):
            assert np.array_equal(draw(one), draw(other))


def test_a_retired_change_decided_again_is_back_in_place() -> None:
    ch = catalogue()
    pair = int(next(iter(ch._retired)))
    site, change = int(ch.pair_site[pair]), int(ch.pair_change[pair])
    users, before = ch.users_of(change), ch.adopted.size
    assert users < ch.n_providers  # (two sites of four reversed it)
    span = slice(site * 3, site * 3 + 3)
    ch.scale_up(change, site, 99, 0.6, span, np.arange(span.start, span.start + 1))
    assert ch.adopted.size == before + 3 and pair not in ch._retired
    assert ch.users_of(change) == users + 3
    assert ch.design_quality[change] == ch.arrays()[1][change] == 0.6
    check_hot_arrays(ch)
    # a practice change reversed stays hot: its providers may take it up again
    practice = int(np.flatnonzero(~ch.pair_organisational)[0])
    ch.reverse(np.array([practice]))
    assert practice not in ch._retired and ch.pair_users()[practice] == 0
