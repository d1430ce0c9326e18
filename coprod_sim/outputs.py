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
        self.key_population = [g.key_population for g in model.parameters.groups]
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
        total = group.sum(axis=0)
        sums = site.sum(axis=0)
        value_g = _ratio(group[:, _SG["value_sum"]], group[:, _SG["in_care"]])
        reps = total[_SG["representatives"]]
        heard = total[_SG["reps_heard"]]
        phase, rung, support, meeting = state
        row = {
            "step": step,
            "week": step,
            "phase": _most_severe(phase),
            "rung": int(rung.min()),
            "sites_in_crisis": int((phase == Phase.CRISIS).sum()),
            "support": bool(support.any()),
            "meeting": bool(meeting.any()),
            "patients": int(total[_SG["patients"]]),
            "in_care": int(total[_SG["in_care"]]),
            "retention": float(_ratio(total[_SG["in_care"]], total[_SG["patients"]])),
            "patient_trust": float(_ratio(total[_SG["trust_sum"]], total[_SG["patients"]])),
            "provider_regard": float(sums[_S["regard_sum"]] / model.providers.n),
            "engagement": float(_ratio(total[_SG["attended"]], total[_SG["scheduled"]])),
            "value": float(_ratio(total[_SG["value_sum"]], total[_SG["in_care"]])),
            "equity_gap": float(_gap(value_g, group[:, _SG["in_care"]] > 0)),
            "changes_adopted": int(sums[_S["changes_adopted"]]),
            "patient_originated": int(sums[_S["patient_originated"]]),
            "staff_originated": int(sums[_S["staff_originated"]]),
            "changes_in_use": int(sums[_S["changes_in_use"]]),
            "patient_changes_in_use": int(sums[_S["patient_changes_in_use"]]),
            "staff_changes_in_use": int(sums[_S["staff_changes_in_use"]]),
            "sustained_changes": int(sums[_S["sustained_changes"]]),
            "sites_with_changes": int((site[:, _S["changes_adopted"]] > 0).sum()),
            "distinct_changes": sum(w >= 0 for w in model.changes.scaled_week),
            "ideas_tested": len(model.changes),
            "provider_uptake": float(_ratio(sums[_S["adopted_slots"]], sums[_S["slots"]])),
            "representatives": int(reps),
            "representative_trust": float(_ratio(sums[_S["reps_trust_sum"]], reps)),
            "reps_attending": int(total[_SG["reps_attending"]]),
            "reps_heard": int(heard),
            "voice_share": float(_ratio(heard, total[_SG["reps_attending"]])),
            "participation": float(_ratio(total[_SG["reps_attending"]], total[_SG["reps_seated"]])),
            "reps_dropped": int(total[_SG["reps_dropped"]]),
        }
        trust_g = _ratio(group[:, _SG["trust_sum"]], group[:, _SG["patients"]])
        retention_g = _ratio(group[:, _SG["in_care"]], group[:, _SG["patients"]])
        stigma_g = _ratio(group[:, _SG["stigma_sum"]], group[:, _SG["providers"]])
        adopted_by_aspect = self._adopted_by_aspect(model)
        for k, aspect in enumerate(model.aspect_names):
            row[f"adopted_{aspect}"] = int(adopted_by_aspect[k])
        for k, g in enumerate(self.group_names):
            row[f"value_{g}"] = float(value_g[k])
            row[f"trust_{g}"] = float(trust_g[k])
            row[f"retention_{g}"] = float(retention_g[k])
            row[f"stigma_{g}"] = float(stigma_g[k])
            row[f"heard_{g}"] = int(group[k, _SG["reps_heard"]])
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
        col = {name: sg[..., i].ravel() for name, i in _SG.items()}
        frame = pd.DataFrame(
            {
                "step": np.repeat(self.steps, s * g),
                "site": np.tile(np.repeat(self.site_names, g), t),
                "region": np.tile(np.repeat(self.regions, g), t),
                "group": np.tile(self.group_names, t * s),
                **self._group_measures(col),
            }
        )
        return frame

    def groups(self) -> pd.DataFrame:
        """One row per step and group, over all sites."""
        sg = np.stack(self._site_group).sum(axis=1)  # (T, G, F)
        t, g, _ = sg.shape
        col = {name: sg[..., i].ravel() for name, i in _SG.items()}
        return pd.DataFrame(
            {
                "step": np.repeat(self.steps, g),
                "group": np.tile(self.group_names, t),
                "label": np.tile(self.labels, t),
                "key_population": np.tile(self.key_population, t),
                **self._group_measures(col),
            }
        )

    @staticmethod
    def _group_measures(col: dict) -> dict:
        return {
            "patients": col["patients"].astype(np.int64),
            "in_care": col["in_care"].astype(np.int64),
            "retention": _ratio(col["in_care"], col["patients"]),
            "trust": _ratio(col["trust_sum"], col["patients"]),
            "value": _ratio(col["value_sum"], col["in_care"]),
            "engagement": _ratio(col["attended"], col["scheduled"]),
            "provider_stigma": _ratio(col["stigma_sum"], col["providers"]),
            "representatives": col["representatives"].astype(np.int64),
            "reps_attending": col["reps_attending"].astype(np.int64),
            "reps_heard": col["reps_heard"].astype(np.int64),
            "voice_share": _ratio(col["reps_heard"], col["reps_attending"]),
            "participation": _ratio(col["reps_attending"], col["reps_seated"]),
            "reps_dropped": col["reps_dropped"].astype(np.int64),
        }

    def sites(self) -> pd.DataFrame:
        """One row per step and site."""
        sg = np.stack(self._site_group)  # (T, S, G, F)
        site = np.stack(self._site)  # (T, S, F)
        t, s = site.shape[:2]
        total = sg.sum(axis=2)  # (T, S, F)
        value_g = _ratio(sg[..., _SG["value_sum"]], sg[..., _SG["in_care"]])
        stigma_g = _ratio(sg[..., _SG["stigma_sum"]], sg[..., _SG["providers"]])
        weights = _ratio(sg[..., _SG["patients"]], total[..., _SG["patients"]][..., None])
        reps = total[..., _SG["representatives"]]
        heard = total[..., _SG["reps_heard"]]
        attending = total[..., _SG["reps_attending"]]

        def flat(a: NDArray) -> NDArray:
            return np.asarray(a).reshape(t * s)

        providers = total[..., _SG["providers"]] / sg.shape[2]
        return pd.DataFrame(
            {
                "step": np.repeat(self.steps, s),
                "site": np.tile(self.site_names, t),
                "region": np.tile(self.regions, t),
                **self._state_columns(),
                "patients": flat(total[..., _SG["patients"]]).astype(np.int64),
                "in_care": flat(total[..., _SG["in_care"]]).astype(np.int64),
                "retention": flat(_ratio(total[..., _SG["in_care"]], total[..., _SG["patients"]])),
                "patient_trust": flat(
                    _ratio(total[..., _SG["trust_sum"]], total[..., _SG["patients"]])
                ),
                "provider_regard": flat(_ratio(site[..., _S["regard_sum"]], providers)),
                "engagement": flat(
                    _ratio(total[..., _SG["attended"]], total[..., _SG["scheduled"]])
                ),
                "value": flat(_ratio(total[..., _SG["value_sum"]], total[..., _SG["in_care"]])),
                "equity_gap": flat(_gap(value_g, sg[..., _SG["in_care"]] > 0)),
                "provider_stigma": flat((stigma_g * weights).sum(axis=-1)),
                **{name: flat(site[..., _S[name]]).astype(np.int64) for name in CHANGE_COUNTS},
                "provider_uptake": flat(
                    _ratio(site[..., _S["adopted_slots"]], site[..., _S["slots"]])
                ),
                "tests_running": flat(site[..., _S["tests_running"]]).astype(np.int64),
                "representatives": flat(reps).astype(np.int64),
                "representative_trust": flat(_ratio(site[..., _S["reps_trust_sum"]], reps)),
                "reps_attending": flat(attending).astype(np.int64),
                "reps_heard": flat(heard).astype(np.int64),
                "voice_share": flat(_ratio(heard, attending)),
                "participation": flat(_ratio(attending, total[..., _SG["reps_seated"]])),
                "reps_dropped": flat(total[..., _SG["reps_dropped"]]).astype(np.int64),
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
