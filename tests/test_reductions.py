"""Canonical reductions: each mechanism, in its stated special case, gives the published model.

* trust          → beta reputation (Jøsang & Ismail 2002)
* uptake         → Bass (1969) closed form; threshold variant → Granovetter (1978) cascade
* attitude exchange → bounded confidence (Deffuant et al. 2000)

The helpers live in :mod:`coprod_sim.validation.reductions`, which the validation study
uses too. Each is shown on the submodel itself and, where the model adds structure
(networks, weekly steps), on the whole model in the special case.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coprod_sim.mechanisms import contact, trust, uptake
from coprod_sim.validation.reductions import (
    beta_special_case,
    discrete_bass,
    major_clusters,
    mean_uptake,
    model_uptake,
    one_clinic,
    submodel_deffuant,
    threshold_cobweb,
)


# --- trust → beta reputation --------------------------------------------------------------
@given(st.lists(st.booleans(), max_size=200), st.integers(0, 20), st.integers(0, 20))
def test_trust_is_beta_reputation_without_forgetting_or_negativity(outcomes, r0, s0) -> None:
    good, bad = np.array([float(r0)]), np.array([float(s0)])
    for went_well in outcomes:
        trust.update_evidence(good, bad, float(went_well), float(not went_well), 1.0, 1.0)
    r = r0 + sum(outcomes)
    s = s0 + len(outcomes) - sum(outcomes)
    assert trust.expected_trust(good, bad)[0] == (r + 1) / (r + s + 2)  # exactly


def test_forgetting_discounts_evidence_geometrically() -> None:
    # A steady stream of one good experience a week: r_t = (1 - φ^t)/(1 - φ) (Jøsang & Ismail).
    memory = 0.9
    good, bad = np.zeros(1), np.zeros(1)
    for week in range(1, 60):
        trust.update_evidence(good, bad, 1.0, 0.0, memory, 1.0)
        assert good[0] == pytest.approx((1 - memory**week) / (1 - memory), rel=1e-12)


def test_base_rate_shifts_the_prior_and_forgetting_returns_to_it() -> None:
    # E = (r + 2a)/(r + s + 2): no evidence gives the base rate; forgetting goes back to it.
    for a in (0.1, 0.5, 0.8):
        assert trust.expected_trust(0.0, 0.0, a) == pytest.approx(a)
        good, bad = np.array([30.0]), np.array([2.0])
        for _ in range(2000):
            trust.update_evidence(good, bad, 0.0, 0.0, 0.95, 2.0)
        assert trust.expected_trust(good, bad, a)[0] == pytest.approx(a, abs=1e-9)
        r, s = trust.evidence_for(0.6, 6.0, a)
        assert trust.expected_trust(r, s, a) == pytest.approx(0.6)


def test_the_model_keeps_trust_as_beta_reputation() -> None:
    model = beta_special_case(seed=4)
    before = model.patients.good + model.patients.bad
    model.run_for(10)
    p = model.patients
    np.testing.assert_allclose(p.trust(), (p.good + 1) / (p.good + p.bad + 2))
    # Without forgetting, evidence only accumulates: one unit per experience.
    gained = p.good + p.bad - before
    assert (gained >= -1e-4).all()
    np.testing.assert_allclose(gained, np.round(gained), atol=1e-3)


# --- uptake → Bass ------------------------------------------------------------------------
@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.01, 0.5), (0.1, 0.2)])
def test_bass_submodel_converges_to_the_closed_form(p: float, q: float) -> None:
    # Complete mixing of 20,000 adopters in steps of dt = 0.05: the share follows
    # F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)e^{−(p+q)t}); finite-N noise and O(dt) error < 0.02.
    rng = np.random.default_rng(1)
    n, dt = 20_000, 0.05
    adopted = np.zeros(n, dtype=bool)
    shares = [0.0]
    for _ in range(int(20 / dt)):
        hazard = uptake.bass_hazard(p, q, adopted.mean())
        adopted |= rng.random(n) < uptake.adoption_probability(hazard, dt)
        shares.append(adopted.mean())
    t = np.arange(len(shares)) * dt
    assert np.max(np.abs(np.array(shares) - uptake.bass_share(t, p, q))) < 0.02


def test_model_uptake_follows_the_bass_closed_form_for_small_weekly_hazards() -> None:
    # Weekly p = 0.01, q = 0.1: one-week steps are short against 1/(p+q), so the weekly
    # process stays within 0.03 of the continuous closed form; with the noise of the mean of
    # four runs of 1,000 providers (one run strays by up to 0.04), the tolerance is 0.04.
    p, q = 0.01, 0.1
    shares = mean_uptake(p, q, weeks=80)
    t = np.arange(shares.size)
    assert np.max(np.abs(shares - uptake.bass_share(t, p, q))) < 0.04


def test_model_uptake_follows_discrete_bass_at_sultan_s_mean_coefficients() -> None:
    # Sultan, Farley & Lehmann (1990): mean p = 0.03, q = 0.38. In weekly steps the mean-field
    # share follows F' = F + (1 − F)(1 − e^{−(p + qF)}), the exact discrete-time Bass process.
    # One run of 1,000 providers strays by up to 0.08 (the take-off week is random); the
    # mean of four runs stays within 0.04.
    p, q = 0.03, 0.38
    shares = mean_uptake(p, q, weeks=40)
    expected = discrete_bass(p, q, 40)
    assert np.max(np.abs(shares - np.array(expected))) < 0.04


# --- threshold variant → Granovetter -----------------------------------------------------
@pytest.mark.parametrize("spread", [0.05, 0.1, 0.15, 0.2, 0.3])
def test_threshold_uptake_is_granovetter_s_cascade(spread: float) -> None:
    model = one_clinic(400, 7, uptake_rule="threshold", threshold_mean=0.25, threshold_sd=spread)
    shares = model_uptake(model, 40)
    # Granovetter's cobweb on the model's own thresholds, each provider seeing the share of
    # their n − 1 colleagues: the model is that process exactly.
    cobweb = threshold_cobweb(model.providers.threshold, 40)
    assert np.max(np.abs(shares - cobweb)) <= 1e-12
    # And the final share is Granovetter's equilibrium for Normal(0.25, spread) thresholds.
    assert shares[-1] == pytest.approx(uptake.granovetter_equilibrium(0.25, spread), abs=0.03)


def test_the_cascade_switches_on_sharply_as_thresholds_spread() -> None:
    small = uptake.granovetter_equilibrium(0.25, 0.10)
    large = uptake.granovetter_equilibrium(0.25, 0.15)
    assert small < 0.05 and large > 0.95


# --- attitude exchange → Deffuant ------------------------------------------------------------
@pytest.mark.parametrize(
    ("epsilon", "expected"), [(0.5, 1), (0.3, 1), (0.25, 2), (0.2, 2), (0.15, 3), (0.1, 5)]
)
def test_bounded_confidence_gives_deffuant_s_clusters(epsilon: float, expected: int) -> None:
    # Deffuant et al. (2000): with μ = 0.5 and uniform attitudes, about ⌊1/(2ε)⌋ major clusters.
    counts = [major_clusters(submodel_deffuant(epsilon, seed)) for seed in range(3)]
    assert abs(np.median(counts) - expected) <= (1 if expected >= 5 else 0)


def test_the_model_s_colleagues_form_deffuant_clusters() -> None:
    # The model's weekly exchange between colleagues, special case: one site, all colleagues,
    # no representatives (no contact), μ = 0.5, stigma set uniform on [0, 1].
    model = one_clinic(300, 5, peer_rate=0.5, peer_latitude=0.25)
    rng = np.random.default_rng(0)
    model.providers.stigma[:, 0] = rng.random(model.providers.n)
    model.run_for(300)
    assert major_clusters(model.providers.stigma[:, 0]) == 2


# --- contact → exponential decline toward the partner (Deffuant with a fixed partner) ----------
def test_good_contact_at_full_strength_is_a_deffuant_step_toward_zero() -> None:
    x = np.linspace(0.0, 1.0, 11)
    after = contact.update(x, np.ones_like(x, dtype=bool), strength=1.0, mu=0.2, negative_weight=2)
    np.testing.assert_allclose(after, x * 0.8)
