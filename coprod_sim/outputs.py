"""Per-step outputs, kept as sums and served as tidy pandas DataFrames.

Four frames, one row per step and unit (step 0 is the state before the first week):

``collaborative()``  one row per step for the whole collaborative, with a
                     column per group for value, trust, retention, stigma
                     and voice (``value_msm`` ...). The same columns feed
                     ``model.datacollector``.
``sites()``          one row per step and site.
``groups()``         one row per step and patient group, over all sites.
``site_groups()``    one row per step, site and group.

Columns (where they apply):

================================  =========================================================
``patients``, ``in_care``         patients enrolled; of them, in care at the end of the week
``retention``                     in_care / patients
``trust``, ``patient_trust``      mean patient trust in providers (beta reputation)
``provider_regard``               mean provider regard for patients
``value``                         mean value of care to patients in care (0-1): the quality
                                  of what matters to them
``equity_gap``                    value of the best-served group minus the worst-served
                                  (groups with patients in care)
``engagement``                    share of scheduled visits attended this week
``provider_stigma``               mean provider stigma toward the group (0-1); per site,
                                  weighted by the site's patients of each group
``changes_adopted``               (site, change) adoptions so far: changes a site's team
                                  scaled up after testing; ``patient_originated`` and
                                  ``staff_originated`` split them by who proposed the idea
``changes_in_use``                adopted changes at least one provider uses now (also
                                  split by origin)
``sustained_changes``             changes in use by at least half as many providers as at
                                  their peak
``provider_uptake``               share of (provider, adopted change) pairs in use
``tests_running``                 PDSA tests in progress at the site (sites)
``capability``                    the team's improvement capability (0-1); for the
                                  collaborative, the mean over sites
``sites_with_changes``            sites that have adopted at least one change (collaborative)
``adopted_<aspect>``              (site, change) adoptions of changes to that aspect of care,
                                  e.g. ``adopted_confidentiality`` (collaborative)
``distinct_changes``              different changes scaled up anywhere (collaborative)
``ideas_tested``                  changes registered: new ideas that entered PDSA testing
                                  and changes introduced directly (collaborative)
``representatives``               representatives holding a seat now
``representative_trust``          their mean trust in providers
``reps_attending``, ``reps_heard``  representatives attending, and heard, at the last meeting
``voice_share``                   reps_heard / reps_attending at the last meeting
``participation``                 share of seated representatives who attended the last
                                  meeting
``reps_dropped``                  representatives who have left their seat so far

(The representatives' columns are also given per group in ``groups`` and
``site_groups``.)
``phase``, ``rung``, ``support``  crisis phase, effective Arnstein rung, external support;
                                  for the collaborative: the most severe phase, the lowest
                                  rung, any site supported
``sites_in_crisis``               sites in crisis this week (collaborative)
``meeting``                       whether the team (any team) met this week
================================  =========================================================

A ratio whose denominator is 0 (a group with no patients at a site, no
representative seated) is reported as 0, not NaN; weight by, or filter on, the
count columns (``patients``, ``in_care``, ``representatives``) when averaging
rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coprod_sim.improvement import Origin
from coprod_sim.mechanisms.crisis import Phase

if TYPE_CHECKING:
    from coprod_sim.model import CoproductionModel

# Raw sums kept per (site, group) and per site; the frames derive ratios from them.
SITE_GROUP_SUMS = (
    "patients",
    "in_care",
    "trust_sum",
    "value_sum",
    "scheduled",
    "attended",
    "stigma_sum",
    "providers",
    "representatives",
    "reps_seated",
    "reps_attending",
    "reps_heard",
    "reps_dropped",
    # the care cascade
    "on_treatment",
    "adherent",
    "suppressed",
    "tested",
    "returned",
    "out_of_care_before",
)
CHANGE_COUNTS = (
    "changes_adopted",
    "patient_originated",
    "staff_originated",
    "changes_in_use",
    "patient_changes_in_use",
    "staff_changes_in_use",
    "sustained_changes",
)
SITE_SUMS = (
    "regard_sum",
    *CHANGE_COUNTS,
    "slots",
    "adopted_slots",
    "tests_running",
    "capability",
    "reps_trust_sum",
)
PHASES = tuple(p.name.lower() for p in Phase)  # "before", "crisis", "recovery"
_SG = {name: i for i, name in enumerate(SITE_GROUP_SUMS)}
_S = {name: i for i, name in enumerate(SITE_SUMS)}


def _ratio(numerator: NDArray, denominator: NDArray) -> NDArray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    return np.divide(
        numerator,
        denominator,
        out=np.zeros(np.broadcast(numerator, denominator).shape),
        where=denominator > 0,
    )


#: The measures every level shares, from its (…, SITE_GROUP_SUMS) sums, in frame order.
MEASURES = (
    "patients",
    "in_care",
    "retention",
    "trust",
    "value",
    "engagement",
    "provider_stigma",
    "representatives",
    "reps_attending",
    "reps_heard",
    "voice_share",
    "participation",
    "reps_dropped",
    "on_treatment",
    "adherent",
    "suppressed",
    "tested",
    "returned",
    "adherence",
    "testing_coverage",
    "suppression",
    "suppression_enrolled",
    "re_engagement",
)
#: Measures also given for the key populations together (``key_retention`` ...).
KEY_MEASURES = (
    "patients",
    "in_care",
    "retention",
    "suppressed",
    "suppression",
    "suppression_enrolled",
)
#: The care cascade's measures, in frame order (the last of ``MEASURES``).
CASCADE = MEASURES[MEASURES.index("on_treatment") :]


def measures(sums: NDArray) -> dict[str, NDArray]:
    """The outcome measures of any unit, from its sums (…, SITE_GROUP_SUMS): a (site, group)
    cell, a group over all sites, a site over its groups or the whole collaborative, with
    any leading axes (steps, sites, groups). One definition for every level:

    retention = in_care / patients; trust = trust_sum / patients; value = value_sum / in_care;
    engagement = attended / scheduled; provider_stigma = stigma_sum / providers;
    voice_share = reps_heard / reps_attending; participation = reps_attending / reps_seated;
    adherence = adherent / on_treatment; testing_coverage = tested / on_treatment;
    suppression = suppressed / on_treatment; suppression_enrolled = suppressed / patients;
    re_engagement = returned / out_of_care_before; the counts as integers. A ratio with a
    zero denominator is 0 (see the module docstring).
    """

    def col(name: str) -> NDArray:
        return sums[..., _SG[name]]

    def count(name: str) -> NDArray:
        return col(name).astype(np.int64)

    return {
        "patients": count("patients"),
        "in_care": count("in_care"),
        "retention": _ratio(col("in_care"), col("patients")),
        "trust": _ratio(col("trust_sum"), col("patients")),
        "value": _ratio(col("value_sum"), col("in_care")),
        "engagement": _ratio(col("attended"), col("scheduled")),
        "provider_stigma": _ratio(col("stigma_sum"), col("providers")),
        "representatives": count("representatives"),
        "reps_attending": count("reps_attending"),
        "reps_heard": count("reps_heard"),
        "voice_share": _ratio(col("reps_heard"), col("reps_attending")),
        "participation": _ratio(col("reps_attending"), col("reps_seated")),
        "reps_dropped": count("reps_dropped"),
        "on_treatment": count("on_treatment"),
        "adherent": count("adherent"),
        "suppressed": count("suppressed"),
        "tested": count("tested"),
        "returned": count("returned"),
        "adherence": _ratio(col("adherent"), col("on_treatment")),
        "testing_coverage": _ratio(col("tested"), col("on_treatment")),
        "suppression": _ratio(col("suppressed"), col("on_treatment")),
        "suppression_enrolled": _ratio(col("suppressed"), col("patients")),
        "re_engagement": _ratio(col("returned"), col("out_of_care_before")),
    }


def _scalar(value: NDArray) -> int | float:
    """A 0-d measure as a Python number, an integer for counts."""
    return int(value) if np.issubdtype(value.dtype, np.integer) else float(value)


def _most_severe(phases: NDArray) -> str:
    """'crisis' if any site is in crisis, else 'recovery' if any recovers, else 'before'."""
    for severe in (Phase.CRISIS, Phase.RECOVERY):
        if np.any(phases == severe):
            return PHASES[severe]
    return PHASES[Phase.BEFORE]


def _gap(value: NDArray, present: NDArray) -> NDArray:
    """Best minus worst value over the groups present, along the last axis."""
    high = np.where(present, value, -np.inf).max(axis=-1)
    low = np.where(present, value, np.inf).min(axis=-1)
    return np.where(present.sum(axis=-1) >= 2, high - low, 0.0)


class Recorder:
    """Collects each step's state as sums; builds the tidy frames on demand."""

    def __init__(self, model: CoproductionModel) -> None:
        self.site_names = [site.name for site in model.sites]
        self.regions = [site.region for site in model.sites]
        self.group_names = list(model.group_names)
        self.labels = [g.label for g in model.parameters.groups]
        key = model.parameters.key_populations
        self.key_population = [name in key for name in self.group_names]
        self._site_group: list[NDArray] = []  # (sites, groups, SITE_GROUP_SUMS)
        self._site: list[NDArray] = []  # (sites, SITE_SUMS)
        self._state: list[tuple[str, int, bool, bool]] = []  # phase, rung, support, meeting
        self._collaborative: list[dict] = []
        self.latest: dict = {}

    # --- recording -----------------------------------------------------------------------
    def record(self, model: CoproductionModel, visits: NDArray | None) -> None:
        p, pr = model.patients, model.providers
        n_sites, n_groups = len(model.sites), len(self.group_names)
        starts = pr.site_bounds[:-1]

        def by_site(per_provider: NDArray) -> NDArray:
            return np.add.reduceat(per_provider, starts, axis=0)

        sg = np.zeros((n_sites, n_groups, len(SITE_GROUP_SUMS)))
        in_care = model.in_care_by_cell
        sg[..., _SG["patients"]] = model.patients_by_site_group
        sg[..., _SG["in_care"]] = by_site(in_care)
        sg[..., _SG["trust_sum"]] = by_site(
            p.sum_by_cell(model.patient_trust, pr.n * n_groups).reshape(pr.n, n_groups)
        )
        sg[..., _SG["value_sum"]] = by_site(in_care * model.value)
        if visits is not None:
            sg[..., _SG["scheduled"]] = by_site(visits[..., 2:].sum(axis=-1))
            sg[..., _SG["attended"]] = by_site(visits[..., 3:].sum(axis=-1))
        sg[..., _SG["stigma_sum"]] = by_site(pr.stigma)
        self._cascade_sums(model, sg, by_site)
        sg[..., _SG["providers"]] = np.diff(pr.site_bounds)[:, None]

        site = np.zeros((n_sites, len(SITE_SUMS)))
        site[:, _S["regard_sum"]] = by_site(pr.regard())
        teams = model.teams
        seated = teams.representatives >= 0
        np.add.at(
            sg[..., _SG["representatives"]],
            (np.nonzero(seated)[0], p.group[teams.representatives[seated]]),
            1,
        )
        sg[..., _SG["reps_seated"]] = teams.seated_by_group
        sg[..., _SG["reps_attending"]] = teams.attending_by_group
        sg[..., _SG["reps_heard"]] = teams.heard_by_group
        sg[..., _SG["reps_dropped"]] = teams.dropped_by_group
        site[:, _S["reps_trust_sum"]] = np.where(
            seated, p.trust(np.where(seated, teams.representatives, 0)), 0.0
        ).sum(axis=1)
        site[:, _S["tests_running"]] = [len(t) for t in teams.tests]
        site[:, _S["capability"]] = teams.capability
        self._change_sums(model, site)

        state = (
            model.site_phase.astype(np.int8),
            np.asarray(model.site_rung, dtype=np.int8),
            model.site_support.copy(),
            model.site_meeting.copy(),
        )
        self._site_group.append(sg)
        self._site.append(site)
        self._state.append(state)
        self.latest = self._collaborative_row(model.week, sg, site, state, model)
        self._collaborative.append(self.latest)

    def _cascade_sums(self, model: CoproductionModel, sg: NDArray, by_site) -> None:
        """Patients on treatment, adherent, suppressed, tested in the last interval, and
        returned to care this week, per (site, group)."""
        p, pr = model.patients, model.providers
        n_cells = pr.n * len(self.group_names)
        recent = p.on_treatment & (model.week - p.last_test < model.parameters.viral_load_interval)
        for name, flags in (
            ("on_treatment", p.on_treatment),
            ("adherent", p.adherent & p.on_treatment),
            ("suppressed", p.suppressed),
            ("tested", recent),
            ("returned", model.returned),
            ("out_of_care_before", model.out_of_care_before),
        ):
            per_cell = np.bincount(p.cell[flags], minlength=n_cells).reshape(pr.n, -1)
            sg[..., _SG[name]] = by_site(per_cell)

    def _change_sums(self, model: CoproductionModel, site: NDArray) -> None:
        ch = model.changes
        n_sites = site.shape[0]
        if ch.pair_site.size == 0:
            return
        users = ch.pair_users()
        _, _, origin = ch.arrays()
        patient = origin[ch.pair_change] == Origin.PATIENT
        in_use = users > 0
        sustained = in_use & (users >= 0.5 * ch.pair_peak)
        site_providers = np.diff(model.providers.site_bounds)

        def count(mask: NDArray) -> NDArray:
            return np.bincount(ch.pair_site[mask], minlength=n_sites)

        everything = np.ones(ch.pair_site.size, dtype=bool)
        site[:, _S["changes_adopted"]] = count(everything)
        site[:, _S["patient_originated"]] = count(patient)
        site[:, _S["staff_originated"]] = count(~patient)
        site[:, _S["changes_in_use"]] = count(in_use)
        site[:, _S["patient_changes_in_use"]] = count(in_use & patient)
        site[:, _S["staff_changes_in_use"]] = count(in_use & ~patient)
        site[:, _S["sustained_changes"]] = count(sustained)
        site[:, _S["slots"]] = count(everything) * site_providers
        site[:, _S["adopted_slots"]] = np.bincount(ch.pair_site, weights=users, minlength=n_sites)

    def _collaborative_row(
        self, step: int, sg: NDArray, site: NDArray, state: tuple, model: CoproductionModel
    ) -> dict:
        group = sg.sum(axis=0)  # (groups, sums)
        total = measures(group.sum(axis=0))
        by_group = measures(group)
        sums = site.sum(axis=0)
        phase, rung, support, meeting = state
        row = {
            "step": step,
            "week": step,
            "phase": _most_severe(phase),
            "rung": int(rung.min()),
            "sites_in_crisis": int((phase == Phase.CRISIS).sum()),
            "support": bool(support.any()),
            "meeting": bool(meeting.any()),
            "patients": int(total["patients"]),
            "in_care": int(total["in_care"]),
            "retention": float(total["retention"]),
            "patient_trust": float(total["trust"]),
            "provider_regard": float(sums[_S["regard_sum"]] / model.providers.n),
            "engagement": float(total["engagement"]),
            "value": float(total["value"]),
            "equity_gap": float(_gap(by_group["value"], by_group["in_care"] > 0)),
            **{name: int(sums[_S[name]]) for name in CHANGE_COUNTS},
            "sites_with_changes": int((site[:, _S["changes_adopted"]] > 0).sum()),
            "distinct_changes": sum(w >= 0 for w in model.changes.scaled_week),
            "ideas_tested": len(model.changes),
            "provider_uptake": float(_ratio(sums[_S["adopted_slots"]], sums[_S["slots"]])),
            "capability": float(sums[_S["capability"]] / site.shape[0]),
            "representatives": int(total["representatives"]),
            "representative_trust": float(
                _ratio(sums[_S["reps_trust_sum"]], total["representatives"])
            ),
            **{name: _scalar(total[name]) for name in MEASURES[8:]},
        }
        adopted_by_aspect = self._adopted_by_aspect(model)
        for k, aspect in enumerate(model.aspect_names):
            row[f"adopted_{aspect}"] = int(adopted_by_aspect[k])
        for k, g in enumerate(self.group_names):
            row[f"value_{g}"] = float(by_group["value"][k])
            row[f"trust_{g}"] = float(by_group["trust"][k])
            row[f"retention_{g}"] = float(by_group["retention"][k])
            row[f"stigma_{g}"] = float(by_group["provider_stigma"][k])
            row[f"heard_{g}"] = int(by_group["reps_heard"][k])
            row[f"suppression_{g}"] = float(by_group["suppression"][k])
            row[f"suppressed_{g}"] = int(by_group["suppressed"][k])
        key = measures(group[np.asarray(self.key_population, dtype=bool)].sum(axis=0))
        for name in KEY_MEASURES:
            row[f"key_{name}"] = _scalar(key[name])
        return row

    @staticmethod
    def _adopted_by_aspect(model: CoproductionModel) -> NDArray:
        """(site, change) adoptions per aspect of care the change improves."""
        ch = model.changes
        aspect, _, _ = ch.arrays()
        return np.bincount(aspect[ch.pair_change], minlength=len(model.aspect_names))

    # --- frames --------------------------------------------------------------------------------
    @property
    def steps(self) -> NDArray:
        return np.arange(len(self._site))

    def collaborative(self) -> pd.DataFrame:
        """One row per step for the whole collaborative."""
        return pd.DataFrame(self._collaborative)

    def _state_columns(self) -> dict:
        """Per-site calendar columns, in (step, site) order."""
        phase, rung, support, meeting = (
            np.stack(a).ravel() for a in zip(*self._state, strict=True)
        )
        return {
            "phase": np.asarray(PHASES)[phase],
            "rung": rung.astype(np.int64),
            "support": support,
            "meeting": meeting,
        }

    def site_groups(self) -> pd.DataFrame:
        """One row per step, site and group."""
        sg = np.stack(self._site_group)  # (T, S, G, F)
        t, s, g, _ = sg.shape
        frame = pd.DataFrame(
            {
                "step": np.repeat(self.steps, s * g),
                "site": np.tile(np.repeat(self.site_names, g), t),
                "region": np.tile(np.repeat(self.regions, g), t),
                "group": np.tile(self.group_names, t * s),
                **measures(sg.reshape(t * s * g, -1)),
            }
        )
        return frame

    def groups(self) -> pd.DataFrame:
        """One row per step and group, over all sites."""
        sg = np.stack(self._site_group).sum(axis=1)  # (T, G, F)
        t, g, _ = sg.shape
        return pd.DataFrame(
            {
                "step": np.repeat(self.steps, g),
                "group": np.tile(self.group_names, t),
                "label": np.tile(self.labels, t),
                "key_population": np.tile(self.key_population, t),
                **measures(sg.reshape(t * g, -1)),
            }
        )

    def sites(self) -> pd.DataFrame:
        """One row per step and site."""
        sg = np.stack(self._site_group)  # (T, S, G, F)
        site = np.stack(self._site)  # (T, S, F)
        t, s = site.shape[:2]
        total = measures(sg.sum(axis=2).reshape(t * s, -1))  # each site over its groups
        by_group = measures(sg)  # (T, S, G)
        patients = sg[..., _SG["patients"]]
        weights = _ratio(patients, patients.sum(axis=2)[..., None])

        def flat(a: NDArray) -> NDArray:
            return np.asarray(a).reshape(t * s)

        providers = sg[..., _SG["providers"]].sum(axis=2) / sg.shape[2]
        return pd.DataFrame(
            {
                "step": np.repeat(self.steps, s),
                "site": np.tile(self.site_names, t),
                "region": np.tile(self.regions, t),
                **self._state_columns(),
                "patients": total["patients"],
                "in_care": total["in_care"],
                "retention": total["retention"],
                "patient_trust": total["trust"],
                "provider_regard": flat(_ratio(site[..., _S["regard_sum"]], providers)),
                "engagement": total["engagement"],
                "value": total["value"],
                "equity_gap": flat(_gap(by_group["value"], by_group["in_care"] > 0)),
                # A site's stigma toward its patients: each group's, weighted by its patients.
                "provider_stigma": flat((by_group["provider_stigma"] * weights).sum(axis=-1)),
                **{name: flat(site[..., _S[name]]).astype(np.int64) for name in CHANGE_COUNTS},
                "provider_uptake": flat(
                    _ratio(site[..., _S["adopted_slots"]], site[..., _S["slots"]])
                ),
                "tests_running": flat(site[..., _S["tests_running"]]).astype(np.int64),
                "capability": flat(site[..., _S["capability"]]),
                "representatives": total["representatives"],
                "representative_trust": _ratio(
                    flat(site[..., _S["reps_trust_sum"]]), total["representatives"]
                ),
                **{name: total[name] for name in MEASURES[8:]},
            }
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        """All four frames by name."""
        return {
            "collaborative": self.collaborative(),
            "sites": self.sites(),
            "groups": self.groups(),
            "site_groups": self.site_groups(),
        }
