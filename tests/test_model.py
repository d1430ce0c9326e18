"""The model: Mesa API, outputs, invariants, determinism."""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coprod_sim import CoproductionModel, Manager, Patient, Provider, Scenario, ScenarioError

from .conftest import SMALL_SITES, small_model, small_scenario

CASCADE_SHARES = [
    "adherence", "testing_coverage", "suppression", "suppression_enrolled", "re_engagement",
]  # fmt: skip
SHARE_COLUMNS = {
    "collaborative": [
        "retention",
        "patient_trust",
        "provider_regard",
        "engagement",
        "value",
        "equity_gap",
        "provider_uptake",
        "voice_share",
        "participation",
        "adherence",
        "testing_coverage",
        "suppression",
        "suppression_enrolled",
        "re_engagement",
        "key_retention",
        "key_suppression",
        "key_suppression_enrolled",
    ],
    "sites": [
        "retention",
        "patient_trust",
        "provider_regard",
        "engagement",
        "value",
        "equity_gap",
        "provider_stigma",
        "provider_uptake",
        "voice_share",
        "participation",
        "adherence",
        "testing_coverage",
        "suppression",
        "suppression_enrolled",
        "re_engagement",
    ],
    "groups": ["retention", "trust", "value", "engagement", "provider_stigma", *CASCADE_SHARES],
    "site_groups": [
        "retention", "trust", "value", "engagement", "provider_stigma", *CASCADE_SHARES,
    ],
}  # fmt: skip


# --- the Mesa API -----------------------------------------------------------------------
def test_is_a_mesa_model_with_typed_agents() -> None:
    model = small_model()
    assert isinstance(model, mesa.Model)
    patients = model.agents_by_type[Patient]
    assert len(patients) == model.patients.n == 540
    assert len(model.agents_by_type[Provider]) == model.providers.n == 22
    assert len(model.agents_by_type[Manager]) == len(model.sites) == 4
    assert len(model.agents) == 540 + 22 + 4


def test_agents_are_views_of_the_arrays() -> None:
    model = small_model()
    model.run_for(10)
    trust = model.patients.trust()
    for patient in list(model.agents_by_type[Patient])[:50]:
        assert patient.trust == pytest.approx(float(trust[patient.index]))
        assert isinstance(patient.provider, Provider)
        assert patient.provider.site == patient.site
        assert patient.group in model.group_names
        assert patient.felt_stigma == pytest.approx(patient.provider.stigma[patient.group])
    reps = model.agents_by_type[Patient].select(lambda p: p.is_representative)
    seated = model.teams.representatives[model.teams.representatives >= 0]
    assert sorted(p.index for p in reps) == sorted(seated.tolist())


def test_default_keyword_parameters_build_the_careqic_collaborative() -> None:
    model = CoproductionModel(rng=1)
    assert len(model.sites) == 26 and model.patients.n >= 8000
    assert CoproductionModel.__init__.__signature__.parameters["power_sharing"].default == 6


def test_run_for_and_the_datacollector() -> None:
    model = small_model()
    model.run_for(12)
    assert model.week == 12 and model.time == 12
    series = model.datacollector.get_model_vars_dataframe()
    assert len(series) == 13
    assert {"patient_trust", "provider_regard", "changes_adopted", "equity_gap"} <= set(series)
    pd.testing.assert_series_equal(
        series["patient_trust"].reset_index(drop=True),
        model.outputs.collaborative()["patient_trust"],
    )


def test_mesa_batch_run_drives_the_model() -> None:
    results = mesa.batch_run(
        CoproductionModel,
        parameters={"power_sharing": [3, 7], "sites": [small_scenario().model_dump()["sites"]]},
        rng=[5],
        max_steps=4,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert [row["power_sharing"] for row in results] == [3, 7]
    assert all(row["Step"] == 4 and 0 <= row["patient_trust"] <= 1 for row in results)


# --- outputs -------------------------------------------------------------------------------
def test_frames_are_tidy_and_complete(careqic_run: CoproductionModel) -> None:
    frames = careqic_run.outputs.frames()
    n_sites, n_groups, steps = 26, 5, 79
    assert len(frames["collaborative"]) == steps
    assert len(frames["sites"]) == steps * n_sites
    assert len(frames["groups"]) == steps * n_groups
    assert len(frames["site_groups"]) == steps * n_sites * n_groups
    for name, frame in frames.items():
        assert not frame.isna().any().any(), name
        key = ["step"] + [c for c in ("site", "group") if c in frame]
        assert not frame.duplicated(key).any(), name
    for group in careqic_run.group_names:
        for measure in ("value", "trust", "retention", "stigma", "heard"):
            assert f"{measure}_{group}" in frames["collaborative"]


def test_levels_add_up(careqic_run: CoproductionModel) -> None:
    frames = careqic_run.outputs.frames()
    collab = frames["collaborative"].set_index("step")
    by_site = frames["sites"].groupby("step").sum(numeric_only=True)
    by_group = frames["groups"].groupby("step").sum(numeric_only=True)
    fine = frames["site_groups"].groupby("step").sum(numeric_only=True)
    for column in ("in_care", "patients", "representatives", "reps_attending", "reps_dropped"):
        assert (by_site[column] == collab[column]).all()
        assert (by_group[column] == collab[column]).all()
        assert (fine[column] == collab[column]).all()
    for column in ("changes_adopted", "patient_originated", "changes_in_use", "reps_dropped"):
        assert (by_site[column] == collab[column]).all()


def test_outcomes_move_over_a_run(careqic_run: CoproductionModel) -> None:
    collab = careqic_run.outputs.collaborative()
    assert collab["changes_adopted"].iloc[-1] > 0
    assert collab["patient_originated"].iloc[-1] > 0
    assert collab["value"].iloc[-1] > collab["value"].iloc[0]


# --- invariants ----------------------------------------------------------------------------
def check_invariants(model: CoproductionModel) -> None:
    frames = model.outputs.frames()
    for name, columns in SHARE_COLUMNS.items():
        frame = frames[name]
        assert not frame.isna().any().any(), name
        for column in columns:
            assert frame[column].between(0, 1).all(), (name, column)
    collab = frames["collaborative"]
    assert (collab["patients"] == model.patients.n).all()
    assert (collab["in_care"] <= collab["patients"]).all()
    assert (
        collab["changes_adopted"] == collab["patient_originated"] + collab["staff_originated"]
    ).all()
    assert (collab["changes_in_use"] <= collab["changes_adopted"]).all()
    assert (collab["sustained_changes"] <= collab["changes_in_use"]).all()
    assert (collab["changes_adopted"].diff().dropna() >= 0).all()
    assert (collab["reps_heard"] <= collab["reps_attending"]).all()
    assert (
        collab["representatives"] <= model.parameters.representative_seats * len(model.sites)
    ).all()
    assert (collab["reps_dropped"].diff().dropna() >= 0).all()
    sites = frames["sites"]
    assert (sites["reps_attending"] <= model.parameters.representative_seats).all()
    p, pr = model.patients, model.providers
    assert np.isfinite(p.good).all() and np.isfinite(p.bad).all()
    assert (p.good >= 0).all() and (p.bad >= 0).all()
    assert ((pr.stigma >= 0) & (pr.stigma <= 1)).all()
    assert ((model.quality >= 0) & (model.quality <= 1)).all()
    assert int(model.in_care_by_cell.sum()) == int(p.in_care.sum())
    assert p.representative.sum() == (model.teams.representatives >= 0).sum()
    # The care cascade: suppressed ⊆ on treatment ⊆ in care, in the arrays and every week.
    assert not (p.suppressed & ~p.on_treatment).any()
    assert not (p.on_treatment & ~p.in_care).any()
    assert not (p.adherent & ~p.on_treatment).any()
    cells = frames["site_groups"]
    assert (cells["suppressed"] <= cells["on_treatment"]).all()
    assert (cells["adherent"] <= cells["on_treatment"]).all()
    assert (cells["tested"] <= cells["on_treatment"]).all()
    assert (cells["on_treatment"] <= cells["in_care"]).all()
    assert (cells["in_care"] <= cells["patients"]).all()
    assert (cells["returned"] <= cells["in_care"]).all()
    # Counts are conserved: every (site, group) keeps its patients, and the levels add up.
    assert (cells.groupby(["site", "group"])["patients"].nunique() == 1).all()
    for name in ("on_treatment", "suppressed", "tested", "returned"):
        weekly = cells.groupby("step")[name].sum().to_numpy()
        np.testing.assert_array_equal(weekly, collab[name].to_numpy())
    assert collab["suppressed"].iloc[-1] == p.suppressed.sum()
    assert collab["on_treatment"].iloc[-1] == p.on_treatment.sum()
    # Not "every representative is in care": one may leave care between meetings (see
    # test_a_representative_out_of_care_gives_up_the_seat_at_the_next_meeting).


@given(
    power=st.integers(1, 8),
    inclusion=st.sampled_from(["convenience", "deliberate"]),
    feedback=st.floats(0, 1),
    trust=st.floats(0, 1),
    stigma=st.floats(0, 1),
    seats=st.integers(0, 3),
    rule=st.sampled_from(["bass", "threshold"]),
    crisis=st.one_of(st.none(), st.integers(1, 20)),
    history=st.one_of(st.none(), st.floats(0, 1)),
    effect=st.floats(1.0, 20.0),
    testing=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_hold_for_any_settings(
    power, inclusion, feedback, trust, stigma, seats, rule, crisis, history, effect, testing, seed
) -> None:
    model = small_model(
        rng=seed,
        power_sharing=power,
        inclusion=inclusion,
        feedback_loop=feedback,
        initial_trust=trust,
        initial_stigma=stigma,
        representative_seats=seats,
        uptake_rule=rule,
        crisis_week=crisis,
        crisis_duration=5,
        support_weeks=15,
        historical_trust=history,
        mistrust_effect=effect,
        stigma_effect=effect,
        access_effect=effect,
        tracing_effect=effect,
        viral_load_interval=testing,
    )
    model.run_for(30)
    check_invariants(model)


# --- determinism ----------------------------------------------------------------------------
def digest(model: CoproductionModel) -> str:
    frames = model.outputs.frames()
    blob = b"".join(
        pd.util.hash_pandas_object(frames[name], index=False).values.tobytes()
        for name in sorted(frames)
    )
    return hashlib.sha256(blob).hexdigest()


def test_same_seed_same_results_and_different_seed_different_results() -> None:
    runs = []
    for seed in (3, 3, 4):
        model = small_model(rng=seed)
        model.run_for(30)
        runs.append(digest(model))
    assert runs[0] == runs[1] != runs[2]


def test_same_seed_same_results_in_another_process() -> None:
    model = small_model(rng=21)
    model.run_for(25)
    code = (
        "from tests.conftest import small_model\n"
        "from tests.test_model import digest\n"
        "m = small_model(rng=21); m.run_for(25); print(digest(m))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert out.stdout.strip() == digest(model)


def test_the_provider_network_is_seeded_by_the_model() -> None:
    a, b, c = small_model(rng=8), small_model(rng=8), small_model(rng=9)
    assert sorted(a.provider_network.edges()) == sorted(b.provider_network.edges())
    assert sorted(a.provider_network.edges()) != sorted(c.provider_network.edges())


def test_ties_stay_within_sites_except_between_team_members() -> None:
    model = small_model(rng=2)
    g = model.provider_network
    for u, v in g.edges():
        if g.nodes[u]["site"] != g.nodes[v]["site"]:
            assert g.nodes[u]["team"] and g.nodes[v]["team"]
    sites = {g.nodes[n]["site"] for n in g}
    assert len(sites) == 4
    assert nx.number_of_edges(g) > 0


def test_introduce_change_checks_its_input() -> None:
    model = small_model()
    with pytest.raises(ValueError, match="aspects are"):
        model.introduce_change(0, "parking")
    with pytest.raises(ValueError, match="site 9"):
        model.introduce_change(9, "confidentiality")
    with pytest.raises(ValueError, match="providers of site 0"):
        model.introduce_change(0, "confidentiality", users=[21])
    change = model.introduce_change(0, "respectful_care", users=[0, 1])
    assert model.changes.users_of(change) == 2  # a practice change: those named use it
    # An organisational change is decided for the whole site: every provider uses it.
    change = model.introduce_change(0, "confidentiality", users=[0])
    assert model.changes.users_of(change) == model.providers.at_site(0).stop


def test_the_signature_lists_every_scenario_field_as_a_keyword_with_its_default() -> None:
    # What Mesa's tools (SolaraViz's model controls, batch_run) read off the class.
    parameters = inspect.signature(CoproductionModel).parameters
    defaults = Scenario()
    assert set(Scenario.model_fields) <= set(parameters)
    for name in Scenario.model_fields:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert parameters[name].default == getattr(defaults, name), name
    assert parameters["rng"].default is None
    kinds = {p.kind for p in parameters.values()}
    assert not kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
    # A keyword that is no field is refused, named, with the field it was probably meant for.
    with pytest.raises(ScenarioError, match=r"powr_sharing = 6: unknown field.*'power_sharing'"):
        CoproductionModel(powr_sharing=6)
    with pytest.raises(TypeError):
        CoproductionModel(3)  # keywords only
    model = CoproductionModel(rng=1, sites=SMALL_SITES, power_sharing=3, inclusion="convenience")
    assert (model.parameters.power_sharing, model.parameters.inclusion) == (3, "convenience")


def test_mesa_solaraviz_draws_the_model_s_plot() -> None:
    solara = pytest.importorskip("solara")
    import ipywidgets
    from mesa.visualization import SolaraViz, make_plot_component

    page = SolaraViz(small_model(), components=[make_plot_component("patient_trust")])
    _, rc = solara.render(page, handle_error=False)
    (image,) = rc.find(ipywidgets.Image).widgets  # the one component: Mesa's matplotlib plot
    assert image.format == "png" and bytes(image.value[:8]) == b"\x89PNG\r\n\x1a\n"


def test_a_representative_out_of_care_gives_up_the_seat_at_the_next_meeting() -> None:
    # Seats are freed at meetings only, so a representative may be out of care between them;
    # at the next meeting of their team they leave, and only patients in care are invited.
    model = small_model(rng=5, dropout_rate=0.1)
    checked = 0
    for _ in range(40):
        seats = model.teams.representatives
        seated = seats[seats >= 0]
        out_of_care = seated[~model.patients.in_care[seated]]
        model.step()
        met = model.site_meeting[model.patients.site[out_of_care]]  # their team met this week
        assert not np.isin(out_of_care[met], model.teams.representatives).any()
        checked += int(met.sum())
    assert checked >= 10  # the rule was exercised (20 times with this seed)


def test_an_organisational_change_is_reversed_and_decided_again_by_the_whole_site() -> None:
    # No decay of practice changes; organisational changes reversed often: every reversal
    # stops the change for every provider of the site at once, and the change returns to
    # the team's backlog, which may decide it again.
    model = small_model(rng=2, reversal_rate=0.2, decay_rate=0.0, support_weeks=0,
                        learning_sessions=0)  # fmt: skip
    # A change that works poorly (design quality 0.3) is worth little to keep.
    change = model.introduce_change(0, "confidentiality", design_quality=0.3)
    site = model.providers.at_site(0)
    usage, reconsidered = [], 0
    for _ in range(30):
        model.step()
        ch = model.changes
        slots = (ch.slot_change == change) & (ch.pair_site[ch.slot_pair] == 0)
        users = ch.adopted[slots].sum()
        assert users in (0, site.stop - site.start)  # all or none
        usage.append(users)
        reconsidered += any(i.change == change for i in model.teams.backlog[0])
        reconsidered += any(t.change == change for t in model.teams.tests[0])
    assert 0 in usage and reconsidered > 0


def test_word_of_mouth_reads_the_group_s_experiences_on_the_team() -> None:
    model = small_model(rng=3)
    teams, p = model.teams, model.patients
    assert np.allclose(teams.word_of_mouth(), 0.5)  # no experiences yet
    who = np.flatnonzero((p.site == 0) & (p.group == 1))[:3]
    teams.tell_peers(p, who, np.zeros(3), np.ones(3))
    word = teams.word_of_mouth()
    assert word[0, 1] == pytest.approx(1 / 5)  # (0 + 1)/(0 + 3 + 2)
    assert np.allclose(np.delete(word.ravel(), 1), 0.5)
    teams.forget_word_of_mouth(np.arange(len(teams)) == 0, 0.5)
    assert teams.word_of_mouth()[0, 1] == pytest.approx(1 / 3.5)


def test_historical_trust_sets_the_base_rate_apart_from_the_starting_evidence() -> None:
    # The same starting trust on different histories: the base rates differ, the start not.
    low, high = (small_model(rng=4, initial_trust=0.5, historical_trust=h) for h in (0.2, 0.8))
    assert low.patients.base_rate.mean() < high.patients.base_rate.mean() - 0.5
    assert low.patients.trust().mean() == pytest.approx(high.patients.trust().mean(), abs=0.02)
    same = small_model(rng=4, initial_trust=0.5)
    assert same.patients.base_rate.mean() == pytest.approx(
        small_model(rng=4, initial_trust=0.5, historical_trust=0.5).patients.base_rate.mean()
    )


def test_seats_stay_empty_where_trust_is_low() -> None:
    # Invitees accept with probability equal to their trust: with little trust, fewer seats fill.
    trusting = small_model(rng=1, initial_trust=0.9)
    wary = small_model(rng=1, initial_trust=0.05)
    seated = [(m.teams.representatives >= 0).sum() for m in (trusting, wary)]
    assert seated[0] > seated[1]


def test_patient_counts_are_exact_when_shares_sum_to_one_within_tolerance() -> None:
    from coprod_sim.population import allocate

    counts = allocate(2_000_000, np.array([0.5000009, 0.5]))
    assert counts.sum() == 2_000_000
    model = small_model(share_variation=0.0)
    assert model.patients.n == 540


def test_team_members_lists_a_site_s_providers_and_representatives() -> None:
    model = small_model(rng=3)
    staff, reps = model.teams.members(0)
    assert len(staff) == model.parameters.team_size - model.parameters.representative_seats - 1
    assert all(model.providers.site[i] == 0 for i in staff)
    assert all(model.patients.site[i] == 0 and model.patients.representative[i] for i in reps)
