"""Canonical reductions: each mechanism, in its special case, against the published model.

* uptake → Bass (1969): the submodel against the closed form F(t), and the
  whole model (one clinic, all colleagues, weekly steps) against the exact
  discrete-time Bass process, for several (p, q);
* threshold uptake → Granovetter (1978): the final share of a cascade against
  the first fixed point of F ← P(θ ≤ F), as the spread of thresholds changes;
* attitude exchange → Deffuant et al. (2000): the number of major opinion
  clusters against ⌊1/(2ε)⌋ as the confidence bound ε changes;
* trust → beta reputation (Jøsang & Ismail 2002): the model's trust against
  (r + 1)/(r + s + 2) with no forgetting and no negativity bias.

Each function returns its :class:`Reduction`: the checks with their
tolerances, and a table the report draws. ``size="quick"`` runs fewer
replications, for CI; the tolerances stay the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from coprod_sim.mechanisms import bounded_confidence, uptake
from coprod_sim.model import CoproductionModel
from coprod_sim.scenario import load_scenario
from coprod_sim.validation.checks import Check, within

Size = Literal["quick", "full"]

BASS_COEFFICIENTS = [(0.01, 0.1), (0.005, 0.2), (0.03, 0.38), (0.02, 0.5)]
THRESHOLD_MEAN = 0.25
THRESHOLD_SPREADS = [0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3]
EPSILONS = [0.5, 0.3, 0.25, 0.2, 0.15, 0.1]


@dataclass
class Reduction:
    """A reduction's checks and the table behind its figure."""

    name: str
    source: str
    checks: list[Check] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


# --- the special case of the whole model -------------------------------------------------
def one_clinic(n_providers: int, seed: int, **overrides: object) -> CoproductionModel:
    """One site whose providers are all colleagues (complete network), no team ideas, no
    patient voice, no decay, no attitude exchange: the special case of the uptake
    reductions."""
    general = load_scenario("careqic").groups[0].model_dump()
    sites = [
        {
            "name": "Clinic",
            "patients": 100,
            "providers": n_providers,
            "group_shares": {"general": 1.0},
        }
    ]
    settings = {
        "sites": sites,
        "groups": [general],
        "provider_network": "complete",
        "cross_site_ties": 0,
        "representative_seats": 0,
        "team_size": 3,
        "decay_rate": 0.0,
        "peer_rate": 0.0,
        "authority_support": 1.0,
        "staff_voice": 0.0,  # no one proposes ideas: the introduced change is the only one
    }
    return CoproductionModel.from_scenario("careqic", rng=seed, **(settings | overrides))


def model_uptake(model: CoproductionModel, weeks: int) -> np.ndarray:
    """Share of providers using one practice change (respectful care, which spreads
    provider by provider) introduced in week 0, week by week."""
    n = model.providers.n
    change = model.introduce_change(0, "respectful_care")  # no one uses it yet: F(0) = 0
    shares = [0.0]
    for _ in range(weeks):
        model.step()
        shares.append(model.changes.users_of(change) / n)
    return np.array(shares)


def mean_uptake(p: float, q: float, weeks: int, runs: int = 4, providers: int = 1000):
    """Mean share using an introduced change over ``runs`` seeds of one clinic."""
    return np.mean(
        [
            model_uptake(one_clinic(providers, seed, external_influence=p, imitation=q), weeks)
            for seed in range(runs)
        ],
        axis=0,
    )


def discrete_bass(p: float, q: float, weeks: int) -> np.ndarray:
    """Exact mean-field weekly Bass process: F' = F + (1 − F)(1 − e^{−(p + qF)})."""
    shares = [0.0]
    for _ in range(weeks):
        f = shares[-1]
        shares.append(f + (1 - f) * float(uptake.adoption_probability(uptake.bass_hazard(p, q, f))))
    return np.array(shares)


def submodel_bass(p: float, q: float, seed: int, n: int = 20_000, dt: float = 0.05, horizon=20.0):
    """The uptake submodel under complete mixing in small steps ``dt``: (t, share)."""
    rng = np.random.default_rng(seed)
    adopted = np.zeros(n, dtype=bool)
    shares = [0.0]
    for _ in range(int(horizon / dt)):
        hazard = uptake.bass_hazard(p, q, adopted.mean())
        adopted |= rng.random(n) < uptake.adoption_probability(hazard, dt)
        shares.append(adopted.mean())
    return np.arange(len(shares)) * dt, np.array(shares)


def threshold_cobweb(thresholds: np.ndarray, weeks: int) -> np.ndarray:
    """Granovetter's cobweb on a finite clinic: F_{t+1} = P(θ ≤ A_t/(n − 1)), week by week.

    ``A_t`` is the number of adopters; a provider does not count themself among
    their n − 1 colleagues, so the share they see is ``A_t/(n − 1)``.
    """
    n = thresholds.size
    adopters = [0]
    for _ in range(weeks):
        adopters.append(int(np.count_nonzero(thresholds <= adopters[-1] / (n - 1))))
    return np.array(adopters) / n


def beta_special_case(seed: int) -> CoproductionModel:
    """CaReQIC with base rate ½ (initial trust ½, no group deficit), no forgetting, no
    negativity bias and no history (the base rate stays ½): the special case in which trust
    is beta reputation. No representative
    seats, so that every experience is a visit (a representative's contributions in
    meetings are experiences too, §7.7 of the ODD)."""
    groups = [g.model_dump() | {"trust_deficit": 0.0} for g in load_scenario("careqic").groups]
    return CoproductionModel.from_scenario(
        "careqic",
        rng=seed,
        trust_memory=1.0,
        negativity_bias=1.0,
        history_weeks=math.inf,
        initial_trust=0.5,
        groups=groups,
        representative_seats=0,
    )


def submodel_deffuant(epsilon: float, seed: int, n: int = 1000, rounds: int = 2000):
    """Attitudes after ``rounds`` of random pairs exchanging under bounded confidence
    (μ = 0.5) from uniform attitudes: Deffuant et al.'s (2000) set-up."""
    rng = np.random.default_rng(seed)
    attitudes = rng.random(n)
    for _ in range(rounds):
        first, second = bounded_confidence.random_pairs(attitudes.size, rng)
        bounded_confidence.exchange(attitudes, first, second, epsilon, 0.5)
    return attitudes


def major_clusters(attitudes: np.ndarray, share: float = 0.05, gap: float = 0.01) -> int:
    """Clusters (sorted attitudes split at gaps > ``gap``) holding at least ``share`` of all."""
    values = np.sort(np.asarray(attitudes).ravel())
    breaks = np.flatnonzero(np.diff(values) > gap)
    sizes = np.diff(np.concatenate([[0], breaks + 1, [values.size]]))
    return int((sizes >= share * values.size).sum())


# --- the four reductions ------------------------------------------------------------------
def bass(size: Size = "full") -> Reduction:
    """Uptake against Bass for each (p, q) in :data:`BASS_COEFFICIENTS`.

    Tolerances: the submodel in steps of 0.05 with 20,000 adopters is within
    0.02 of the closed form (finite-N noise and O(dt) error); the model's mean
    of 4 runs (quick: 2) of 1,000 providers is within 0.04 (0.06) of the
    discrete-time process, because a single run's take-off week is random.
    """
    runs, tolerance = (4, 0.04) if size == "full" else (2, 0.06)
    result = Reduction("Uptake → Bass", "Bass (1969)")
    rows = []
    for p, q in BASS_COEFFICIENTS:
        t, sub = submodel_bass(p, q, seed=1)
        error = float(np.max(np.abs(sub - uptake.bass_share(t, p, q))))
        result.checks.append(
            within(
                result.name,
                f"the submodel follows F(t) for p = {p}, q = {q}",
                "largest |share − F(t)|, 20,000 adopters, dt = 0.05",
                error,
                0.02,
            )
        )
        weeks = int(min(120, math.ceil(8 / (p + q))))
        model = mean_uptake(p, q, weeks, runs=runs)
        exact = discrete_bass(p, q, weeks)
        error = float(np.max(np.abs(model - exact)))
        result.checks.append(
            within(
                result.name,
                f"the model follows weekly Bass for p = {p}, q = {q}",
                f"largest |share − discrete Bass|, mean of {runs} runs × 1,000 providers",
                error,
                tolerance,
            )
        )
        week = np.arange(weeks + 1)
        rows.append(
            pd.DataFrame(
                {
                    "p": p,
                    "q": q,
                    "week": week,
                    "model": model,
                    "discrete_bass": exact,
                    "closed_form": uptake.bass_share(week, p, q),
                }
            )
        )
    result.table = pd.concat(rows, ignore_index=True)
    return result


def granovetter(size: Size = "full") -> Reduction:
    """Threshold uptake against Granovetter's cascade as the spread of thresholds grows.

    Two tolerances: the model's week-by-week share equals the cobweb on its own
    400 drawn thresholds exactly (to 1e-12; see :func:`threshold_cobweb`), and its
    final share is within 0.05 of the fixed point
    for Normal thresholds, except near the critical spread where a finite
    sample of thresholds decides whether the cascade crosses the gap; there the
    check is only reported.
    """
    seeds = [7, 8, 9] if size == "full" else [7]
    result = Reduction("Threshold uptake → Granovetter", "Granovetter (1978)")
    rows = []
    for spread in THRESHOLD_SPREADS:
        expected = uptake.granovetter_equilibrium(THRESHOLD_MEAN, spread)
        cobweb_error, finals = 0.0, []
        for seed in seeds:
            model = one_clinic(
                400,
                seed,
                uptake_rule="threshold",
                threshold_mean=THRESHOLD_MEAN,
                threshold_sd=spread,
            )
            shares = model_uptake(model, 40)
            cobweb = threshold_cobweb(model.providers.threshold, 40)
            cobweb_error = max(cobweb_error, float(np.max(np.abs(shares - cobweb))))
            finals.append(shares[-1])
            rows.append(
                {"spread": spread, "seed": seed, "model": shares[-1], "equilibrium": expected}
            )
        result.checks.append(
            within(
                result.name,
                f"week by week the cascade is the cobweb on the drawn thresholds (sd = {spread})",
                f"largest |share − cobweb| over {len(seeds)} runs of 400 providers",
                cobweb_error,
                1e-12,
            )
        )
        error = float(np.max(np.abs(np.array(finals) - expected)))
        near_critical = 0.09 <= spread <= 0.13
        check = within(
            result.name,
            f"the final share is Granovetter's equilibrium {expected:.2f} (sd = {spread})",
            f"largest |final share − equilibrium| over {len(seeds)} runs",
            error,
            0.05,
        )
        if near_critical and check.verdict != "holds":
            # A finite sample near the critical spread may or may not cross the gap.
            note = (
                "Near the critical spread the infinite-population cascade stops at a low "
                "fixed point just short of a narrow gap; a finite sample of 400 thresholds "
                "can bridge that gap, and then the cascade completes."
            )
            criterion = "≤ 0.05 (near the critical spread: reported, not required)"
            check = Check(**(check.row() | {"verdict": "not shown", "criterion": criterion,
                                           "note": note}))  # fmt: skip
        result.checks.append(check)
    result.table = pd.DataFrame(rows)
    return result


def deffuant(size: Size = "full") -> Reduction:
    """Attitude exchange against Deffuant's clusters, ⌊1/(2ε)⌋, as ε changes.

    The submodel: 1,000 agents with uniform attitudes, μ = 0.5, 2,000 rounds of
    random pairs; the median over 3 seeds (quick: 1) must equal ⌊1/(2ε)⌋, or be
    within 1 at ε = 0.1 where minor clusters split off. The model: 300
    colleagues at one site exchanging stigma weekly with ε = 0.25 for 300
    weeks must form 2 major clusters.
    """
    seeds = [0, 1, 2] if size == "full" else [0]
    result = Reduction("Attitude exchange → Deffuant", "Deffuant et al. (2000)")
    rows = []
    for epsilon in EPSILONS:
        expected = math.floor(1 / (2 * epsilon))
        counts = []
        for seed in seeds:
            counts.append(major_clusters(submodel_deffuant(epsilon, seed)))
            rows.append(
                {"epsilon": epsilon, "seed": seed, "clusters": counts[-1], "expected": expected}
            )
        result.checks.append(
            within(
                result.name,
                f"ε = {epsilon}: ⌊1/(2ε)⌋ = {expected} major clusters",
                f"|median clusters − {expected}| over {len(seeds)} seeds "
                f"(median {np.median(counts):g})",
                abs(float(np.median(counts)) - expected),
                1 if expected >= 5 else 0,
            )
        )
    model = one_clinic(300, 5, peer_rate=0.5, peer_latitude=0.25)
    model.providers.stigma[:, 0] = np.random.default_rng(0).random(model.providers.n)
    model.run_for(300)
    clusters = major_clusters(model.providers.stigma[:, 0])
    rows.append({"epsilon": 0.25, "seed": -1, "clusters": clusters, "expected": 2})
    result.checks.append(
        within(
            result.name,
            "the model's colleagues, ε = 0.25, form 2 major clusters",
            f"|clusters − 2| after 300 weeks, 300 providers ({clusters} clusters)",
            abs(clusters - 2),
            0,
        )
    )
    result.table = pd.DataFrame(rows)
    return result


def beta_reputation(size: Size = "full") -> Reduction:
    """Trust against beta reputation in the model's special case.

    Base rate ½, no group deficit, no forgetting (memory 1), no negativity
    bias and no representatives (see :func:`beta_special_case`). Two checks:
    the evidence is the count of experiences (the good and bad visits the model
    reports, counted week by week, against the evidence its patients gained: r
    and s), and each patient's trust is (r + 1)/(r + s + 2) of that evidence,
    to 1e-9.
    """
    weeks = 26 if size == "full" else 10
    model = beta_special_case(seed=4)
    patients = model.patients
    good_before, bad_before = patients.good.copy(), patients.bad.copy()
    counted = np.zeros(2)  # good and bad visits, as each week's visits are reported
    report = model._observe

    def count_visits(visits: np.ndarray | None) -> None:
        if visits is not None:  # cells (provider, group, state): 4 went well, 3 badly
            counted[:] += visits[..., 4].sum(), visits[..., 3].sum()
        report(visits)

    model._observe = count_visits  # observe the visits; the model's week is unchanged
    model.run_for(weeks)
    gained = np.array([(patients.good - good_before).sum(), (patients.bad - bad_before).sum()])
    beta = (patients.good + 1) / (patients.good + patients.bad + 2)
    result = Reduction("Trust → beta reputation", "Jøsang & Ismail (2002)")
    result.checks = [
        within(
            result.name,
            "evidence gained is the count of experiences: each good visit adds 1 to r, each "
            "bad one 1 to s",
            f"largest |evidence gained − visits counted| / visits, good and bad, "
            f"{patients.n} patients, {weeks} weeks ({int(counted.sum()):,} visits)",
            float(np.max(np.abs(gained - counted) / np.maximum(counted, 1))),
            1e-6,
        ),
        within(
            result.name,
            "each patient's trust is the beta expectation (r + 1)/(r + s + 2) of their evidence "
            "(the prior's pseudo-experiences included)",
            f"largest |trust − (r + 1)/(r + s + 2)| over {patients.n} patients, {weeks} weeks",
            float(np.max(np.abs(patients.trust() - beta))),
            1e-9,
        ),
    ]
    result.table = pd.DataFrame(
        {"beta": beta, "trust": patients.trust(), "experiences": patients.good + patients.bad}
    )
    return result


REDUCTIONS = (bass, granovetter, deffuant, beta_reputation)


def run_reductions(size: Size = "full") -> list[Reduction]:
    return [reduction(size) for reduction in REDUCTIONS]
