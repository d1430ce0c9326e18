"""Initialization (ODD §5): the sites, patients, providers, teams and provider network.

Each function builds one part of the collaborative from the scenario and the model's
generator, in the order the model calls them (the order in which they draw from the
generator is part of what a seed means, §3.2 of docs/ODD.md):

1. :func:`build_sites`: each site's patients per group (Dirichlet around the region's
   shares) and its providers;
2. :func:`build_patients`: patients sorted by site, provider and group, with their
   initial trust (Beta around their group's mean, on their group's historical base rate),
   whether they are in care and where they stand in the care cascade;
3. :func:`build_providers`: stigma toward each group, regard for patients, uptake
   thresholds, and who of them sits on each site's team;
4. :func:`build_network`: ties within sites (small world or complete) and across sites
   between team members.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from coprod_sim.mechanisms import care, cascade
from coprod_sim.mechanisms import trust as trust_mechanism
from coprod_sim.population import Patients, Providers, allocate, site_shares
from coprod_sim.scenario import Scenario

#: Concentration of the Beta distribution of initial trust around each group's mean.
TRUST_CONCENTRATION = 10.0


class Site:
    """A clinic: its name, its region and where its people sit in the arrays."""

    def __init__(self, index: int, name: str, region: str) -> None:
        self.index = index
        self.name = name
        self.region = region

    def __repr__(self) -> str:
        return f"Site({self.index}, {self.name!r})"


@dataclass(frozen=True)
class SiteLayout:
    """The sites and their sizes: ``group_counts`` (sites × groups) patients of each
    group, ``provider_counts`` providers per site, ``crisis_hit`` the sites a crisis
    reaches."""

    sites: list[Site]
    group_counts: list[NDArray[np.int64]]
    provider_counts: NDArray[np.int64]
    crisis_hit: NDArray[np.bool_]


@dataclass(frozen=True)
class ProviderNetwork:
    """Ties between providers: one row per tie (``edges``), the symmetric adjacency
    matrix and each provider's number of ties."""

    edges: NDArray[np.int64]
    adjacency: sparse.csr_array
    degree: NDArray[np.float64]

    def graph(self, site: NDArray, on_team: NDArray) -> nx.Graph:
        """The ties as a networkx graph whose nodes carry ``site`` and ``team``."""
        graph = nx.Graph()
        graph.add_nodes_from(
            (i, {"site": int(s), "team": bool(team)})
            for i, (s, team) in enumerate(zip(site, on_team, strict=True))
        )
        graph.add_edges_from(self.edges.tolist())
        return graph


def build_sites(s: Scenario, group_names: list[str], rng: np.random.Generator) -> SiteLayout:
    """Sites, and how many patients of each group and how many providers each has."""
    sites: list[Site] = []
    provider_counts, group_counts = [], []
    names = iter(s.site_names)
    for spec in s.sites:
        expected = np.array([spec.group_shares.get(g, 0.0) for g in group_names])
        for _ in range(spec.count):
            sites.append(Site(len(sites), next(names), spec.name))
            shares = site_shares(expected, s.share_variation, rng)
            group_counts.append(allocate(spec.patients, shares))
            provider_counts.append(spec.providers)
    places = set(s.crisis_sites)
    crisis_hit = np.array(
        [not places or site.name in places or site.region in places for site in sites]
    )
    return SiteLayout(sites, group_counts, np.asarray(provider_counts, dtype=np.int64), crisis_hit)


def build_patients(s: Scenario, layout: SiteLayout, rng: np.random.Generator) -> Patients:
    """Patients sorted by site, provider and group; caseloads as equal as can be."""
    n_groups = len(s.groups)
    provider_counts = layout.provider_counts
    provider_start = np.concatenate([[0], np.cumsum(provider_counts)])
    site_of, provider_of, group_of = [], [], []
    for site, counts in enumerate(layout.group_counts):
        groups = np.repeat(np.arange(n_groups, dtype=np.int8), counts)
        rng.shuffle(groups)
        local = np.arange(groups.size) % provider_counts[site]
        order = np.lexsort((groups, local))
        site_of.append(np.full(groups.size, site, dtype=np.int32))
        provider_of.append((local[order] + provider_start[site]).astype(np.int32))
        group_of.append(groups[order])
    site_arr = np.concatenate(site_of)
    provider_arr = np.concatenate(provider_of)
    group_arr = np.concatenate(group_of)
    # A group's history sets its members' base rate; the evidence they start with sets
    # their starting trust (the same unless historical_trust is given).
    deficit = np.array([g.trust_deficit for g in s.groups])
    mean_trust = np.clip(s.initial_trust - deficit, 0.02, 0.98)[group_arr]
    history = s.initial_trust if s.historical_trust is None else s.historical_trust
    base_rate = np.clip(history - deficit, 0.02, 0.98)[group_arr]
    initial_trust = rng.beta(
        mean_trust * TRUST_CONCENTRATION, (1 - mean_trust) * TRUST_CONCENTRATION
    )
    good, bad = trust_mechanism.evidence_for(initial_trust, s.trust_prior_strength, base_rate)
    n = site_arr.size
    in_care = rng.random(n) < s.initial_retention
    on_treatment = in_care & (rng.random(n) < s.initial_on_treatment)
    # Those adherent at the start are suppressed: the cascade starts near where it stands.
    adherent = on_treatment & (rng.random(n) < s.initial_adherence)
    # Testing starts where it would stand at the baseline quality: a patient on treatment
    # was tested in the last interval with the stationary chance, at a uniform week in it.
    tested = on_treatment & (rng.random(n) < stationary_testing_coverage(s))
    last_test = np.where(tested, -rng.integers(0, s.viral_load_interval, n), cascade.NEVER).astype(
        np.int32
    )
    return Patients(
        site=site_arr,
        provider=provider_arr,
        group=group_arr,
        cell=provider_arr * n_groups + group_arr.astype(np.int32),
        good=good.astype(np.float32),
        bad=bad.astype(np.float32),
        base_rate=base_rate.astype(np.float32),
        in_care=in_care,
        representative=np.zeros(n, dtype=bool),
        site_bounds=np.concatenate([[0], np.cumsum([c.sum() for c in layout.group_counts])]),
        on_treatment=on_treatment,
        adherent=adherent,
        suppressed=adherent.copy(),
        last_test=last_test,
    )


def stationary_testing_coverage(s: Scenario) -> float:
    """The share of patients on treatment tested in the last ``viral_load_interval`` weeks
    that the baseline would keep: I/(I + W), with W = 1/(visit_rate·attendance·q_lab) the
    mean wait for a test once due, at neutral trust and the baseline lab quality q_lab."""
    columns = care.driver_columns([s.aspect_roles[a].drives for a in s.aspects])
    baseline = [s.baseline_quality[a] for a in s.aspects]
    lab_quality = float(care.driver_quality(baseline, columns["lab_monitoring"]))
    tests_per_week = s.visit_rate * s.attendance * lab_quality
    interval = s.viral_load_interval
    return interval * tests_per_week / (interval * tests_per_week + 1.0)


def build_providers(
    s: Scenario, layout: SiteLayout, rng: np.random.Generator
) -> tuple[Providers, NDArray[np.int64]]:
    """Providers' stigma, regard and thresholds, and who sits on each site's team
    (sites × providers on the team)."""
    provider_counts = layout.provider_counts
    n_groups, n_sites = len(s.groups), len(layout.sites)
    n = int(provider_counts.sum())
    bounds = np.concatenate([[0], np.cumsum(provider_counts)])
    stigma_mean = np.clip(s.initial_stigma * np.array([g.stigma_factor for g in s.groups]), 0, 1)
    stigma = np.clip(rng.normal(stigma_mean, s.stigma_spread, (n, n_groups)), 0, 1)
    regard = np.clip(rng.normal(s.initial_regard, 0.1, n), 0.02, 0.98)
    regard_good, regard_bad = trust_mechanism.evidence_for(
        regard, s.trust_prior_strength, s.initial_regard
    )
    threshold = np.clip(rng.normal(s.threshold_mean, s.threshold_sd, n), 0, 1)
    team_staff = s.team_size - s.representative_seats - 1
    staff = np.stack(
        [
            np.sort(bounds[site] + rng.choice(provider_counts[site], team_staff, replace=False))
            for site in range(n_sites)
        ]
    )
    on_team = np.zeros(n, dtype=bool)
    on_team[staff.ravel()] = True
    providers = Providers(
        site=np.repeat(np.arange(n_sites, dtype=np.int32), provider_counts),
        on_team=on_team,
        stigma=stigma,
        regard_good=regard_good,
        regard_bad=regard_bad,
        regard_base_rate=s.initial_regard,
        threshold=threshold,
        site_bounds=bounds,
    )
    return providers, staff


def build_network(
    s: Scenario, layout: SiteLayout, providers: Providers, rng: np.random.Generator
) -> ProviderNetwork:
    """Ties within sites (small world or complete) and across sites between team members.

    Every graph draws its randomness from the model's generator: networkx's small-world
    generator gets an integer seed drawn from it.
    """
    bounds = providers.site_bounds
    parts = []
    for site, n in enumerate(layout.provider_counts.tolist()):
        # A small world links each provider to k//2 neighbours on each side; a site
        # too small for that ring is complete.
        ring = 2 * (s.within_site_ties // 2)
        if s.provider_network == "complete" or (ring > 0 and n <= ring + 1):
            local = np.column_stack(np.triu_indices(n, 1))
        elif s.within_site_ties == 0:
            local = np.empty((0, 2), dtype=np.int64)
        else:
            seed = int(rng.integers(2**63 - 1))
            graph = nx.watts_strogatz_graph(n, s.within_site_ties, s.rewiring, seed=seed)
            local = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
        parts.append(local + bounds[site])
    team_members = np.flatnonzero(providers.on_team)
    team_site = providers.site[team_members]
    if s.cross_site_ties > 0 and len(layout.sites) > 1:
        for member, site in zip(team_members, team_site, strict=True):
            others = team_members[team_site != site]
            partners = rng.choice(others, size=min(s.cross_site_ties, others.size), replace=False)
            parts.append(np.column_stack([np.full(partners.size, member), partners]))
    edges = np.concatenate(parts).astype(np.int64) if parts else np.empty((0, 2), np.int64)
    n = int(bounds[-1])
    edges = _unique_pairs(np.sort(edges, axis=1), n)  # one tie per pair
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    adjacency = sparse.csr_array((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
    return ProviderNetwork(edges, adjacency, np.bincount(rows, minlength=n).astype(float))


def _unique_pairs(pairs: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """The distinct rows of ``pairs`` (each ``i < n``), in lexicographic order: what
    ``np.unique(pairs, axis=0)`` gives, through one integer key per pair, which sorts in a
    second where the row-wise unique took 16 s for 8M ties (``n² < 2⁶³`` for every
    collaborative the scenario limits allow)."""
    key = np.sort(pairs[:, 0] * n + pairs[:, 1])  # (np.unique hashes first: 4x slower)
    if key.size:
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    return np.column_stack([key // n, key % n]).astype(np.int64, copy=False)
