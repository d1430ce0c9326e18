"""The cross-field rules: settings that are valid one by one but must also fit together.

Each rule is a small named check that yields a :class:`~coprod_sim.errors.Problem` for each way
a well-typed scenario breaks it. :data:`RULES` lists them in the order they run, and that order
is the order of the problems a user reads, so a new rule goes at the end. Checks that look at
one site at a time are in :data:`SITE_RULES`, run site by site, so that each site's problems
stay together.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from coprod_sim import limits
from coprod_sim.errors import Problem

if TYPE_CHECKING:  # schema.py runs these rules when it builds a Scenario, so it imports this
    from coprod_sim.scenario.schema import Intervention, Scenario, SiteSpec

#: Tolerance for shares that must sum to 1.
SHARE_TOLERANCE = 1e-6
# Size limits of a whole collaborative: what one model on a 2-core, 24 GiB machine can build
# and run in a few GiB (the measurements behind them are in coprod_sim.limits).
MAX_PATIENTS = limits.MAX_PATIENTS
MAX_PROVIDERS = limits.MAX_PROVIDERS
MAX_SITES = limits.MAX_SITES
MAX_TIES = limits.MAX_TIES

Rule = Callable[["Scenario"], Iterable[Problem]]
SiteRule = Callable[["Scenario", int, "SiteSpec"], Iterable[Problem]]


# --- aspects of care -------------------------------------------------------------------------
def staff_assumptions_name_the_aspects(s: Scenario) -> Iterator[Problem]:
    """staff_assumptions names at least one aspect of care, with a positive weight."""
    if not s.staff_assumptions:
        yield Problem("staff_assumptions", {}, "must name at least one aspect of care")
    elif sum(s.staff_assumptions.values()) <= 0:
        yield Problem("staff_assumptions", s.staff_assumptions, "needs a positive weight")


def weights_name_the_aspects(s: Scenario) -> Iterator[Problem]:
    """baseline_quality and each group's what_matters weigh exactly the aspects of care."""
    if not s.staff_assumptions:
        return  # no aspects to name: staff_assumptions_name_the_aspects has said so
    yield from _weights_match(s, "baseline_quality", s.baseline_quality)
    for i, g in enumerate(s.groups):
        yield from _weights_match(s, f"groups[{i}].what_matters", g.what_matters)


def aspect_roles_name_the_aspects(s: Scenario) -> Iterator[Problem]:
    """aspect_roles gives a role to exactly the aspects of care."""
    if s.staff_assumptions:
        yield from _names_the_aspects(s, "aspect_roles", s.aspect_roles)


def _weights_match(s: Scenario, field: str, weights: Mapping[str, float]) -> Iterator[Problem]:
    problems = list(_names_the_aspects(s, field, weights))
    yield from problems
    if not problems and sum(weights.values()) <= 0:
        yield Problem(field, dict(weights), "needs at least one positive weight")


def _names_the_aspects(s: Scenario, field: str, weights: Mapping[str, object]) -> Iterator[Problem]:
    aspects = set(s.staff_assumptions)
    if set(weights) != aspects:
        missing, extra = sorted(aspects - set(weights)), sorted(set(weights) - aspects)
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(extra)}" if extra else "",
            )
            if part
        )
        yield Problem(
            field,
            sorted(weights),
            f"must name exactly the aspects of care in staff_assumptions "
            f"({', '.join(s.staff_assumptions)}): {detail}",
        )


# --- names and sizes -------------------------------------------------------------------------
def group_names_are_unique(s: Scenario) -> Iterator[Problem]:
    """No two patient groups have the same name."""
    group_names = [g.name for g in s.groups]
    for i, name in enumerate(group_names):
        if name in group_names[:i]:
            yield Problem(f"groups[{i}].name", name, "must be unique among groups")


def site_names_do_not_clash(s: Scenario) -> Iterator[Problem]:
    """No two sites have the same name once the sites of an entry are numbered."""
    if s.n_sites > MAX_SITES:
        return  # too many to name: collaborative_is_not_too_large says so
    counts = Counter(s.site_names)  # (list.count for each name took seconds for 10,000 sites)
    clashes = sorted(name for name, n in counts.items() if n > 1)
    if clashes:
        yield Problem(
            "sites",
            clashes,
            "gives two sites the same name (an entry of several sites numbers them, "
            "e.g. 'Jamaica 1'); rename an entry",
        )


def collaborative_is_not_too_large(s: Scenario) -> Iterator[Problem]:
    """The collaborative fits one model's memory: at most MAX_SITES sites, MAX_PATIENTS
    patients, MAX_PROVIDERS providers and MAX_TIES ties between providers, counted from the
    sizes alone (nothing is built)."""
    if s.n_sites > MAX_SITES:
        yield Problem(
            "sites",
            s.n_sites,
            f"sites in all (the sum of count) must be <= {MAX_SITES:,}: each site costs about "
            f"0.25 ms of every week",
        )
    if s.n_patients > MAX_PATIENTS:
        yield Problem(
            "sites",
            s.n_patients,
            f"patients in all (count × patients, summed) must be <= {MAX_PATIENTS:,}: a patient "
            f"needs about 340 bytes, so more would not fit several models in this machine's "
            f"memory",
        )
    if s.n_providers > MAX_PROVIDERS:
        yield Problem(
            "sites",
            s.n_providers,
            f"providers in all (count × providers, summed) must be <= {MAX_PROVIDERS:,}: a "
            f"provider costs about 1 KiB and 20 µs of every week",
        )
    within, cross = _tie_counts(s)
    if within + cross > MAX_TIES:
        if cross > within:
            field, value = "cross_site_ties", s.cross_site_ties
        elif s.provider_network == "complete":
            field, value = "provider_network", s.provider_network
        else:
            field, value = "within_site_ties", s.within_site_ties
        largest = max(site.providers for site in s.sites)
        yield Problem(
            field,
            value,
            f"gives {within + cross:,} ties between providers ({within:,} within sites of up "
            f"to {largest:,} providers, {cross:,} across sites); at most {MAX_TIES:,} can be "
            f"built (a tie costs about 100 bytes and several µs): use fewer within_site_ties "
            f"or cross_site_ties, a small world, or smaller sites",
        )


def provider_ties(s: Scenario) -> int:
    """An upper bound on the ties initialization builds (before repeated pairs are dropped):
    each site's complete network or small world, and each team provider's cross-site ties."""
    return sum(_tie_counts(s))


def _tie_counts(s: Scenario) -> tuple[int, int]:
    """Ties within sites (exact, as initialization.build_network makes them) and across
    sites (at most cross_site_ties for each team provider)."""
    ring = 2 * (s.within_site_ties // 2)
    within = 0
    for site in s.sites:
        n = site.providers
        if s.provider_network == "complete" or (ring > 0 and n <= ring + 1):
            ties = n * (n - 1) // 2
        else:
            ties = n * (ring // 2)
        within += site.count * ties
    team_providers = max(s.team_size - s.representative_seats - 1, 0)
    cross = s.n_sites * team_providers * s.cross_site_ties if s.n_sites > 1 else 0
    return within, cross


def learning_sessions_fit_the_support(s: Scenario) -> Iterator[Problem]:
    """There is at most one learning session a week of external support."""
    if s.learning_sessions > s.support_weeks > 0:
        yield Problem(
            "learning_sessions",
            s.learning_sessions,
            f"must be <= support_weeks = {s.support_weeks} (at most one a week)",
        )


def site_entries_are_unique(s: Scenario) -> Iterator[Problem]:
    """No two entries of sites have the same name."""
    entry_names = [site.name for site in s.sites]
    for i, name in enumerate(entry_names):
        if name in entry_names[:i]:
            yield Problem(f"sites[{i}].name", name, "must be unique among sites")


# --- the improvement team --------------------------------------------------------------------
def team_has_staff_seats(s: Scenario) -> Iterator[Problem]:
    """Representatives leave at least two staff seats: a manager and a provider."""
    staff_seats = s.team_size - s.representative_seats
    if staff_seats < 2:
        yield Problem(
            "representative_seats",
            s.representative_seats,
            f"leaves {staff_seats} staff seat(s) on a team of {s.team_size}; a team needs "
            f"a manager and at least one provider, so representative_seats must be "
            f"<= {s.team_size - 2}",
        )


# --- each site -------------------------------------------------------------------------------
def shares_name_known_groups(s: Scenario, i: int, site: SiteSpec) -> Iterator[Problem]:
    """A site's group_shares name only the scenario's groups."""
    group_names = [g.name for g in s.groups]
    unknown = sorted(set(site.group_shares) - set(group_names))
    if unknown:
        yield Problem(
            f"sites[{i}].group_shares",
            unknown,
            f"names unknown group(s); groups are: {', '.join(group_names)}",
        )


def shares_sum_to_one(s: Scenario, i: int, site: SiteSpec) -> Iterator[Problem]:
    """A site's group_shares sum to 1 (within SHARE_TOLERANCE)."""
    total = sum(site.group_shares.values())
    if not math.isclose(total, 1.0, abs_tol=SHARE_TOLERANCE):
        yield Problem(
            f"sites[{i}].group_shares",
            dict(site.group_shares),
            f"shares sum to {total:.6g}; they must sum to 1",
        )


def team_fits_the_site(s: Scenario, i: int, site: SiteSpec) -> Iterator[Problem]:
    """The site's providers and its manager can fill the team's staff seats."""
    staff_seats = s.team_size - s.representative_seats
    team_providers = staff_seats - 1
    # Too few staff seats is team_has_staff_seats's problem; this one would only repeat it.
    if staff_seats >= 2 and team_providers > site.providers:
        yield Problem(
            "team_size",
            s.team_size,
            f"is larger than site {site.name!r} can staff: its {site.providers} "
            f"provider(s) and 1 manager fill at most {site.providers + 1} staff seats "
            f"beside {s.representative_seats} representative seat(s), so team_size "
            f"must be <= {site.providers + 1 + s.representative_seats}",
        )


def representatives_fit_the_site(s: Scenario, i: int, site: SiteSpec) -> Iterator[Problem]:
    """The site has at least as many patients as the team has representative seats."""
    if s.representative_seats > site.patients:
        yield Problem(
            "representative_seats",
            s.representative_seats,
            f"is more than the {site.patients} patient(s) of site {site.name!r}",
        )


#: The checks of one site, in the order they run for each site.
SITE_RULES: tuple[SiteRule, ...] = (
    shares_name_known_groups,
    shares_sum_to_one,
    team_fits_the_site,
    representatives_fit_the_site,
)


def each_site_fits(s: Scenario) -> Iterator[Problem]:
    """Every site passes SITE_RULES (all of one site's problems before the next site's)."""
    for i, site in enumerate(s.sites):
        for rule in SITE_RULES:
            yield from rule(s, i, site)


# --- time, crisis, networks and PDSA ---------------------------------------------------------
def learning_sessions_need_support(s: Scenario) -> Iterator[Problem]:
    """Learning sessions happen during external support, so they need support_weeks > 0."""
    if s.learning_sessions > 0 and s.support_weeks == 0:
        yield Problem(
            "learning_sessions",
            s.learning_sessions,
            "needs support_weeks > 0 (learning sessions happen during external support)",
        )


def crisis_sites_exist(s: Scenario) -> Iterator[Problem]:
    """Each of crisis_sites names a site or a region (an entry of sites)."""
    if s.n_sites > MAX_SITES:
        return  # too many to name: collaborative_is_not_too_large says so
    known_places = set(s.site_names) | {site.name for site in s.sites}
    for i, place in enumerate(s.crisis_sites):
        if place not in known_places:
            yield Problem(
                f"crisis_sites[{i}]",
                place,
                f"names no site or region; regions are: "
                f"{', '.join(site.name for site in s.sites)} (or a site such as "
                f"{s.site_names[0]!r})",
            )


def within_site_ties_make_a_small_world(s: Scenario) -> Iterator[Problem]:
    """within_site_ties is 0 (no ties) or at least 2 (a neighbour on each side)."""
    if s.within_site_ties == 1:
        yield Problem(
            "within_site_ties",
            1,
            "must be 0 (no ties) or at least 2 (a small world of neighbours on each side)",
        )


def scaling_up_is_reachable(s: Scenario) -> Iterator[Problem]:
    """A change can reach pdsa_successes_to_scale within pdsa_max_cycles."""
    if s.pdsa_successes_to_scale > s.pdsa_max_cycles:
        yield Problem(
            "pdsa_successes_to_scale",
            s.pdsa_successes_to_scale,
            f"can never be reached within pdsa_max_cycles = {s.pdsa_max_cycles}; "
            f"must be <= {s.pdsa_max_cycles}",
        )


#: Settings an intervention may change during a run: those the model reads week by week.
#: Everything else (the sites, groups, people and networks, the rates of care) is built
#: once, at week 0, and is a different scenario, not a change during one.
CHANGEABLE_MID_RUN: tuple[str, ...] = (
    "power_sharing",
    "inclusion",
    "representative_seats",
    "feedback_loop",
    "acknowledgement",
    "authority_support",
    "crisis_week",
    "crisis_duration",
    "recovery",
    "crisis_strain",
)


def intervention_problems(
    current: Scenario, intervention: Intervention, where: str
) -> list[Problem]:
    """What is wrong with an intervention made under the settings ``current``: a setting
    that cannot change during a run, seats taken away (a seat's holder would be sent
    away, which the model has no rule for), or a crisis moved into the past or once it
    has begun (the weeks already run cannot change)."""
    problems = []
    week, changes = intervention.week, intervention.changes
    for name, value in changes.items():
        if name not in CHANGEABLE_MID_RUN:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    value,
                    "cannot change during a run; the settings that can are "
                    + ", ".join(CHANGEABLE_MID_RUN),
                )
            )
    seats = changes.get("representative_seats")
    if isinstance(seats, int) and seats < current.representative_seats:
        problems.append(
            Problem(
                f"{where}.representative_seats",
                seats,
                f"seats can be added during a run, not taken away: must be >= "
                f"{current.representative_seats}",
            )
        )
    begun = current.crisis_week is not None and current.crisis_week <= week
    for name in ("crisis_week", "crisis_duration"):
        if name in changes and begun:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    changes[name],
                    f"the crisis began in week {current.crisis_week}, before week {week}: "
                    "a crisis that has begun cannot be moved or resized",
                )
            )
    start = changes.get("crisis_week")
    if isinstance(start, int) and not begun and start <= week:
        problems.append(
            Problem(
                f"{where}.crisis_week",
                start,
                f"a change made in week {week} holds from week {week + 1}: a crisis it sets "
                f"must start in week {week + 1} or later",
            )
        )
    return problems


def interventions_can_be_made(s: Scenario) -> Iterator[Problem]:
    """Every intervention changes only what can change during a run, to allowed values."""
    if s.interventions:
        from coprod_sim.errors import ScenarioError

        try:
            s.settings_from()
        except ScenarioError as error:
            yield from error.problems


#: Every cross-field rule, in the order its problems are reported.
RULES: tuple[Rule, ...] = (
    staff_assumptions_name_the_aspects,
    weights_name_the_aspects,
    group_names_are_unique,
    site_names_do_not_clash,
    collaborative_is_not_too_large,
    learning_sessions_fit_the_support,
    site_entries_are_unique,
    team_has_staff_seats,
    each_site_fits,
    learning_sessions_need_support,
    crisis_sites_exist,
    within_site_ties_make_a_small_world,
    scaling_up_is_reachable,
    aspect_roles_name_the_aspects,
    interventions_can_be_made,
)


def consistency_problems(s: Scenario) -> list[Problem]:
    """Every cross-field problem in an otherwise well-typed scenario, in the order of RULES."""
    return [problem for rule in RULES for problem in rule(s)]
