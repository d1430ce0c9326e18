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
``on_treatment``, ``adherent``    patients on treatment, and of them adherent, now (counts)
``suppressed``, ``tested``        patients virally suppressed; on treatment with a viral-load
                                  test in the last ``viral_load_interval`` weeks (counts)
``returned``                      patients who came back to care this week (count)
``adherence``                     adherent / on_treatment
``testing_coverage``              tested / on_treatment
``suppression``                   suppressed / on_treatment (viral suppression on treatment)
``suppression_enrolled``          suppressed / patients (viral suppression of all enrolled)
``re_engagement``                 returned / patients out of care at the start of the week
``suppression_<g>``,              per group: suppression, and people suppressed
``suppressed_<g>``                (collaborative)
``key_<measure>``                 patients, in_care, retention, suppressed, suppression and
                                  suppression_enrolled of the key populations together
                                  (collaborative)
================================  =========================================================

A ratio whose denominator is 0 (a group with no patients at a site, no
representative seated) is reported as 0, not NaN; weight by, or filter on, the
count columns (``patients``, ``in_care``, ``representatives``) when averaging
rows.

Kept steps only. ``Recorder(model, steps=...)`` (the model's ``record_steps``) records the
sums at those steps alone, and the frames then have a row per kept step (and unit), each
the very row the full recording gives at that step. Between them it keeps up only what
accumulates from step to step: each (site, change) pair's peak number of users, which
``sustained_changes`` reads. Everything else a row reads is the state at its step (the
last meeting's record, this week's visits and returns). A sweep that keeps a few weeks
pays for those weeks only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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


#: The measures that are counts, each the integer value of one of SITE_GROUP_SUMS.
COUNT_MEASURES = {
    "patients": "patients",
    "in_care": "in_care",
    "representatives": "representatives",
    "reps_attending": "reps_attending",
    "reps_heard": "reps_heard",
    "reps_dropped": "reps_dropped",
    "on_treatment": "on_treatment",
    "adherent": "adherent",
    "suppressed": "suppressed",
    "tested": "tested",
    "returned": "returned",
}
#: The measures that are ratios of two of SITE_GROUP_SUMS: (numerator, denominator).
RATIO_MEASURES = {
    "retention": ("in_care", "patients"),
    "trust": ("trust_sum", "patients"),
    "value": ("value_sum", "in_care"),
    "engagement": ("attended", "scheduled"),
    "provider_stigma": ("stigma_sum", "providers"),
    "voice_share": ("reps_heard", "reps_attending"),
    "participation": ("reps_attending", "reps_seated"),
    "adherence": ("adherent", "on_treatment"),
    "testing_coverage": ("tested", "on_treatment"),
    "suppression": ("suppressed", "on_treatment"),
    "suppression_enrolled": ("suppressed", "patients"),
    "re_engagement": ("returned", "out_of_care_before"),
}
#: The people behind a share of the collaborative row: the share's numerator, counted
#: (``retention`` -> ``in_care``; ``key_suppression`` -> ``key_suppressed``), so an effect on
#: a share can be read in people too.
COUNT_OF_SHARE = {
    share: numerator
    for share, (numerator, _) in RATIO_MEASURES.items()
    if numerator in COUNT_MEASURES
} | {
    f"key_{share}": f"key_{RATIO_MEASURES[share][0]}"
    for share in KEY_MEASURES
    if share in RATIO_MEASURES and RATIO_MEASURES[share][0] in KEY_MEASURES
}
_COUNT_COLUMNS = np.array([_SG[column] for column in COUNT_MEASURES.values()])
_NUMERATORS = np.array([_SG[numerator] for numerator, _ in RATIO_MEASURES.values()])
_DENOMINATORS = np.array([_SG[denominator] for _, denominator in RATIO_MEASURES.values()])


def _counts_and_ratios(sums: NDArray) -> tuple[NDArray, NDArray]:
    """Every count measure, (COUNT_MEASURES, …), and every ratio, (RATIO_MEASURES, …), of
    sums (…, SITE_GROUP_SUMS): one cast and one division for all. The division is the one
    of :func:`_ratio`, element by element."""
    measure_first = (sums.ndim - 1, *range(sums.ndim - 1))
    counts = sums[..., _COUNT_COLUMNS].transpose(measure_first).astype(np.int64)
    numerator = sums[..., _NUMERATORS].transpose(measure_first)
    denominator = sums[..., _DENOMINATORS].transpose(measure_first)
    ratios = np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator > 0)
    return counts, ratios


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
    counts, ratios = _counts_and_ratios(sums)
    by_name = dict(zip(COUNT_MEASURES, counts, strict=True))
    by_name |= dict(zip(RATIO_MEASURES, ratios, strict=True))
    return {name: by_name[name] for name in MEASURES}


def _scalar(value: NDArray) -> int | float:
    """A 0-d measure as a Python number, an integer for counts."""
    return int(value) if np.issubdtype(value.dtype, np.integer) else float(value)


def _most_severe(phases: list[int]) -> str:
    """'crisis' if any site is in crisis, else 'recovery' if any recovers, else 'before'."""
    for severe in (Phase.CRISIS, Phase.RECOVERY):
        if severe in phases:
            return PHASES[severe]
    return PHASES[Phase.BEFORE]


def _scalar_ratio(numerator: float, denominator: float) -> float:
    """:func:`_ratio` of two Python numbers: the same IEEE division, 0 if the denominator is
    not positive."""
    return numerator / denominator if denominator > 0 else 0.0


def _gap(value: NDArray, present: NDArray) -> NDArray:
    """Best minus worst value over the groups present, along the last axis."""
    high = np.where(present, value, -np.inf).max(axis=-1)
    low = np.where(present, value, np.inf).min(axis=-1)
    return np.where(present.sum(axis=-1) >= 2, high - low, 0.0)


def _scalar_gap(value: list[float], in_care: list[int]) -> float:
    """:func:`_gap` of one unit's groups, as Python numbers: max and min are exact, and the
    difference is the same IEEE subtraction."""
    present = [v for v, n in zip(value, in_care, strict=True) if n > 0]
    return max(present) - min(present) if len(present) >= 2 else 0.0


#: The collaborative row's columns per group: (prefix, measure), e.g. ``value_msm``.
_GROUP_COLUMNS = (
    ("value", "value"),
    ("trust", "trust"),
    ("retention", "retention"),
    ("stigma", "provider_stigma"),
    ("heard", "reps_heard"),
    ("suppression", "suppression"),
    ("suppressed", "suppressed"),
)
#: The cascade's flags counted per (site, group), in ``_cascade_sums``'s bit order.
_CASCADE_FLAGS = ("on_treatment", "adherent", "suppressed", "tested", "returned",
                  "out_of_care_before")  # fmt: skip
_CASCADE_SUMS = np.array([_SG[name] for name in _CASCADE_FLAGS])
_FLAG_BITS = len(_CASCADE_FLAGS)
#: (code, flag): whether a 6-bit code has the flag's bit set.
_FLAG_OF_CODE = ((np.arange(1 << _FLAG_BITS)[:, None] >> np.arange(_FLAG_BITS)) & 1).astype(float)
_CHANGE_COUNT_SUMS = np.array([_S[name] for name in CHANGE_COUNTS])
#: (kind, CHANGE_COUNTS): whether a (site, change) pair of a kind (bits: patient-originated,
#: in use, sustained) counts in each column.
_CHANGE_COUNT_OF_KIND = np.array(
    [
        [1, patient, 1 - patient, in_use, in_use * patient, in_use * (1 - patient), sustained]
        for patient in (0, 1)
        for in_use in (0, 1)
        for sustained in (0, 1)
    ],
    dtype=float,
)
#: The counts summed by site together in ``record``, and the visit states (0 out of care,
#: 1 in care, 2 missed, 3 went badly, 4 went well) each counts as (scheduled, attended).
_COUNTED = np.array([_SG["in_care"], _SG["scheduled"], _SG["attended"]])
_DUE_AND_ATTENDED = np.array([[0, 0], [0, 0], [1, 0], [1, 1], [1, 1]], dtype=float)


class Recorder:
    """Collects each step's state as sums; builds the tidy frames on demand, and the
    collaborative rows (``latest``, ``rows``) when first read.

    ``steps``: record only these steps (see the module docstring); ``None``, every step.
    """

    def __init__(self, model: CoproductionModel, steps: Iterable[int] | None = None) -> None:
        #: The steps recorded (``None``: every step), and the steps recorded so far.
        self.kept_steps: frozenset[int] | None = None if steps is None else frozenset(steps)
        self._steps: list[int] = []
        self.site_names = [site.name for site in model.sites]
        self.regions = [site.region for site in model.sites]
        self.group_names = list(model.group_names)
        self.labels = [g.label for g in model.parameters.groups]
        key = model.parameters.key_populations
        self.key_population = [name in key for name in self.group_names]
        self._key_mask = np.asarray(self.key_population, dtype=bool)
        # The collaborative row's columns per aspect, and per group (unit 2 + k in
        # ``_collaborative_row``) and for the key populations (unit 1): (column, measure, unit).
        self._aspect_columns = [f"adopted_{aspect}" for aspect in model.aspect_names]
        self._unit_columns = [
            (f"{prefix}_{g}", name, 2 + k)
            for k, g in enumerate(self.group_names)
            for prefix, name in _GROUP_COLUMNS
        ] + [(f"key_{name}", name, 1) for name in KEY_MEASURES]
        self._site_group: list[NDArray] = []  # (sites, groups, SITE_GROUP_SUMS)
        self._site: list[NDArray] = []  # (sites, SITE_SUMS)
        self._state: list[tuple[str, int, bool, bool]] = []  # phase, rung, support, meeting
        # The collaborative rows are built when read (``latest``, ``collaborative``), from
        # what each step recorded: a row is Python bookkeeping that a run need not pay for
        # at every step. The lock keeps a reader in another thread (the app) and the run
        # from building the same row twice.
        self._row_inputs: list[tuple] = []
        self._collaborative: list[dict] = []
        self._rows_lock = threading.RLock()
        self._providers = model.providers.n
        self._site_providers = np.diff(model.providers.site_bounds)
        # Each patient's (site, group), times the 2^6 combinations of the cascade's flags
        # (``_cascade_sums``), as the index type bincount wants.
        p = model.patients
        n_groups = len(self.group_names)
        self._site_group_code = (p.site.astype(np.intp) * n_groups + p.group) << _FLAG_BITS

    def __getstate__(self) -> dict:
        """For pickling and copying: everything but the lock, which a copy gets anew."""
        state = self.__dict__.copy()
        del state["_rows_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._rows_lock = threading.RLock()

    # --- recording -----------------------------------------------------------------------
    def record(self, model: CoproductionModel, visits: NDArray | None) -> None:
        """Record the state after the model's current step (``visits``: this week's, per
        (provider, group, state); ``None`` before the first week)."""
        if self.kept_steps is not None and model.week not in self.kept_steps:
            # Between kept steps, only what accumulates: the pairs' peak users.
            if model.changes.pair_site.size:
                model.changes.pair_users()
            return
        p, pr = model.patients, model.providers
        n_sites, n_groups = len(model.sites), len(self.group_names)
        starts = pr.site_bounds[:-1]

        def by_site(per_provider: NDArray) -> NDArray:
            return np.add.reduceat(per_provider, starts, axis=0)

        sg = np.zeros((n_sites, n_groups, len(SITE_GROUP_SUMS)))
        in_care = model.in_care_by_cell
        sg[..., _SG["patients"]] = model.patients_by_site_group
        sg[..., _SG["trust_sum"]] = by_site(
            p.sum_by_cell(model.patient_trust, pr.n * n_groups).reshape(pr.n, n_groups)
        )
        sg[..., _SG["value_sum"]] = by_site(in_care * model.value)
        sg[..., _SG["stigma_sum"]] = by_site(pr.stigma)
        # Counts (whole numbers, so exact however they are summed), per cell then by site
        # in one go: in care, and the visits scheduled and attended.
        counts = np.zeros((pr.n, n_groups, 3))
        counts[..., 0] = in_care
        if visits is not None:  # (one matrix product over all cells: a 2-d one)
            counts[..., 1:] = (visits.reshape(-1, 5) @ _DUE_AND_ATTENDED).reshape(pr.n, n_groups, 2)
        sg[..., _COUNTED] = by_site(counts)
        self._cascade_sums(model, sg)
        sg[..., _SG["providers"]] = self._site_providers[:, None]

        site = np.zeros((n_sites, len(SITE_SUMS)))
        site[:, _S["regard_sum"]] = by_site(pr.regard())
        teams = model.teams
        seated = teams.representatives >= 0
        team_of_seat = np.nonzero(seated)[0]
        sg[..., _SG["representatives"]] = np.bincount(
            team_of_seat * n_groups + p.group[teams.representatives[seated]],
            minlength=n_sites * n_groups,
        ).reshape(n_sites, n_groups)
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
        self._steps.append(model.week)
        # What the row needs of the catalogue of changes as it is now (the arrays are
        # replaced, never changed in place, when the catalogue grows).
        ch = model.changes
        catalogue = (ch.n_scaled(), len(ch), ch.arrays()[0], ch.pair_change)
        self._row_inputs.append((model.week, sg, site, state, catalogue))

    @property
    def latest(self) -> dict:
        """The collaborative row of the last step recorded ({} before any)."""
        rows = self.rows()
        return rows[-1] if rows else {}

    @property
    def n_steps(self) -> int:
        """Steps recorded so far (step 0 included, unless only other steps are kept)."""
        return len(self._row_inputs)

    def rows(self) -> list[dict]:
        """Every step's collaborative row, building those not built yet (the frame
        ``collaborative`` is made of them)."""
        with self._rows_lock:
            for inputs in self._row_inputs[len(self._collaborative) :]:
                self._collaborative.append(self._collaborative_row(*inputs))
            return self._collaborative

    def _cascade_sums(self, model: CoproductionModel, sg: NDArray) -> None:
        """Patients on treatment, adherent, suppressed, tested in the last interval, and
        returned to care this week, per (site, group).

        The six flags make one 6-bit code per patient: a single bincount over (site, group,
        code) counts every combination, and each flag's count is the sum over the codes
        with its bit set (counts are integers: any order of summing gives the same)."""
        p = model.patients
        # week − last_test < interval, for whole numbers that cannot overflow
        recent = p.on_treatment & (p.last_test > model.week - model.parameters.viral_load_interval)
        flags = (
            p.on_treatment,
            p.adherent & p.on_treatment,
            p.suppressed,
            recent,
            model.returned,
            model.out_of_care_before,
        )
        code = flags[0].view(np.uint8).copy()
        for bit, flag in enumerate(flags[1:], start=1):
            code += flag.view(np.uint8) * np.uint8(1 << bit)  # (a multiply is faster than <<)
        n_units = sg.shape[0] * sg.shape[1]
        combinations = np.bincount(self._site_group_code + code, minlength=n_units << _FLAG_BITS)
        combinations = combinations.reshape(n_units, 1 << _FLAG_BITS)
        # Whole numbers far below 2^53: the floating-point product is exact.
        per_flag = combinations.astype(float) @ _FLAG_OF_CODE
        sg[..., _CASCADE_SUMS] = per_flag.reshape(sg.shape[0], sg.shape[1], -1)

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
        # One bincount over (site, kind) counts them all, a kind being (patient-originated,
        # in use, sustained) as three bits; each count is then a sum over kinds.
        kinds = np.bincount(
            (ch.pair_site.astype(np.intp) << 3) | (patient << 2) | (in_use << 1) | sustained,
            minlength=n_sites << 3,
        ).reshape(n_sites, 8)
        counts = kinds @ _CHANGE_COUNT_OF_KIND  # whole numbers: exact
        site[:, _CHANGE_COUNT_SUMS] = counts
        site[:, _S["slots"]] = counts[:, 0] * self._site_providers
        site[:, _S["adopted_slots"]] = np.bincount(ch.pair_site, weights=users, minlength=n_sites)

    def _collaborative_row(
        self, step: int, sg: NDArray, site: NDArray, state: tuple, catalogue: tuple
    ) -> dict:
        """One step's row of the collaborative frame, as Python numbers, from what the step
        recorded (``catalogue``: changes scaled up, changes registered, each change's
        aspect and each (site, change) pair's change). The sums are summed in NumPy as
        ever; what is derived from them is scalar arithmetic on Python floats, the same
        IEEE operations as NumPy's on float64."""
        n_scaled, n_changes, change_aspect, pair_change = catalogue
        group = sg.sum(axis=0)  # (groups, sums)
        # The whole collaborative, the key populations together and each group (units 0,
        # 1 and 2…): their sums as before, their measures in one go, by measure and unit.
        units = np.vstack([group.sum(axis=0), group[self._key_mask].sum(axis=0), group])
        counts, ratios = _counts_and_ratios(units)
        unit = dict(zip(COUNT_MEASURES, counts.tolist(), strict=True))
        unit |= dict(zip(RATIO_MEASURES, ratios.tolist(), strict=True))
        total = {name: values[0] for name, values in unit.items()}
        sums = dict(zip(SITE_SUMS, site.sum(axis=0).tolist(), strict=True))
        phase, rung, support, meeting = (a.tolist() for a in state)
        row = {
            "step": step,
            "week": step,
            "phase": _most_severe(phase),
            "rung": min(rung),
            "sites_in_crisis": phase.count(Phase.CRISIS),
            "support": any(support),
            "meeting": any(meeting),
            "patients": total["patients"],
            "in_care": total["in_care"],
            "retention": total["retention"],
            "patient_trust": total["trust"],
            "provider_regard": sums["regard_sum"] / self._providers,
            "engagement": total["engagement"],
            "value": total["value"],
            "equity_gap": _scalar_gap(unit["value"][2:], unit["in_care"][2:]),
            **{name: int(sums[name]) for name in CHANGE_COUNTS},
            "sites_with_changes": int((site[:, _S["changes_adopted"]] > 0).sum()),
            "distinct_changes": n_scaled,
            "ideas_tested": n_changes,
            "provider_uptake": _scalar_ratio(sums["adopted_slots"], sums["slots"]),
            "capability": sums["capability"] / site.shape[0],
            "representatives": total["representatives"],
            "representative_trust": _scalar_ratio(sums["reps_trust_sum"], total["representatives"]),
            **{name: total[name] for name in MEASURES[8:]},
        }
        # (site, change) adoptions per aspect of care the change improves
        adopted_by_aspect = np.bincount(
            change_aspect[pair_change], minlength=len(self._aspect_columns)
        ).tolist()
        row.update(zip(self._aspect_columns, adopted_by_aspect, strict=True))
        row.update((column, unit[name][k]) for column, name, k in self._unit_columns)
        return row

    # --- frames --------------------------------------------------------------------------------
    @property
    def steps(self) -> NDArray:
        """The steps recorded, in order: 0, 1, … (or the kept steps reached so far)."""
        return np.asarray(self._steps, dtype=np.int64)

    def collaborative(self) -> pd.DataFrame:
        """One row per step for the whole collaborative."""
        return pd.DataFrame(self.rows())

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
