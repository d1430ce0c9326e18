"""Component tests without a browser: render the pages with ``solara.render`` and work
their widgets; and the pure pieces (charts, network, pairs, narration, import/export)."""

from __future__ import annotations

import io
import json
import time

import ipyvuetify as v
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import solara

from app import charts, compare, explore, state
from app.network import network_spec, site_network
from app.pairs import decision, findings, framing, run_designs, run_pair, summary, verdict
from app.vega import VegaLiteLive
from coprod_sim import CoproductionModel, Scenario, load_scenario, provenance
from coprod_sim.experiments import paired_difference, replication_seed
from tests.conftest import small_scenario

pytestmark = pytest.mark.usefixtures("session")


def values_of(spec: object, key: str) -> list:
    """Every value stored under ``key`` anywhere in a (Vega-Lite) spec, whatever its layout."""
    if isinstance(spec, dict):
        found = [spec[key]] if key in spec else []
        return found + [v for value in spec.values() for v in values_of(value, key)]
    if isinstance(spec, list):
        return [v for item in spec for v in values_of(item, key)]
    return []


@solara.component
def ExploreWithSidebar() -> None:
    """The explorer's page and its sidebar (outside an AppLayout the sidebar is not drawn)."""
    explore.Page()
    explore.Sidebar(state.model.value)


def render_explore() -> object:
    _, rc = solara.render(ExploreWithSidebar(), handle_error=False)
    return rc


def button(rc: object, label: str) -> v.Btn:
    return rc.find(v.Btn, children=[label]).widget  # type: ignore[attr-defined]


def week_text(rc: object) -> str:
    return rc.find(v.Html, class_="week-counter").widget.children[0]  # type: ignore[attr-defined]


def chart_specs(rc: object) -> list[dict]:
    return [w.full_spec() for w in rc.find(VegaLiteLive).widgets]  # type: ignore[attr-defined]


def slider(rc: object, field: str) -> v.Slider:
    """The slider of a main control, found inside its labelled wrapper."""
    wrapper = rc.find(v.Html, class_=f"control control-{field}")  # type: ignore[attr-defined]
    return wrapper.find(v.Slider).widget


def label(rc: object, field: str) -> str:
    wrapper = rc.find(v.Html, class_=f"control control-{field}")  # type: ignore[attr-defined]
    return wrapper.find(v.Html, class_="control-label").widget.children[0]


# --- the explorer ---------------------------------------------------------------------------
def test_explore_builds_careqic_and_steps_redraw_the_charts() -> None:
    rc = render_explore()
    assert state.model.value is not None and state.model.value.parameters.name == "careqic"
    assert week_text(rc) == "Week 0 of 78"
    assert label(rc, "power_sharing") == "Power sharing (Arnstein's ladder): 6 · partnership"
    before = chart_specs(rc)
    assert len(before) == 6  # trust, stigma, changes, value, retention, the network
    button(rc, "Step").click()
    button(rc, "Step").click()
    assert week_text(rc) == "Week 2 of 78"
    after = chart_specs(rc)
    for old, new in zip(before, after, strict=True):
        assert old != new  # every chart, the network included, was redrawn with new data
    trust = next(s for s in after if s["title"] == "Trust both ways")
    assert {row["week"] for row in trust["data"]["values"]} == {0, 1, 2}
    button(rc, "Reset").click()
    assert week_text(rc) == "Week 0 of 78"


def test_a_control_changes_the_scenario_and_rebuilds_the_model() -> None:
    rc = render_explore()
    button(rc, "Step").click()
    slider(rc, "power_sharing").v_model = 4
    assert state.scenario.value.power_sharing == 4
    assert label(rc, "power_sharing").endswith("4 · consultation")
    assert state.model.value.parameters.power_sharing == 4  # type: ignore[union-attr]
    assert week_text(rc) == "Week 0 of 78"


def test_a_bad_control_value_is_refused_with_the_field_named() -> None:
    rc = render_explore()
    slider(rc, "representative_seats").v_model = 5  # a team of 6 needs 2 staff seats
    errors = rc.find(v.Html, class_="control-errors")  # type: ignore[attr-defined]
    errors.assert_single()
    text = " ".join(str(w.children) for w in errors.find(v.Html).widgets)
    assert "representative_seats = 5" in text and "must be <= 4" in text
    assert state.scenario.value.representative_seats == 2  # the previous scenario is kept


def test_same_scenario_and_seed_give_the_same_charts(session: object) -> None:
    rc = render_explore()
    for _ in range(3):
        button(rc, "Step").click()
    first = chart_specs(rc)
    button(rc, "Reset").click()
    for _ in range(3):
        button(rc, "Step").click()
    assert chart_specs(rc) == first


def test_preset_choice_and_crisis_toggle() -> None:
    rc = render_explore()
    rc.find(v.Select, label="Scenario").widget.v_model = "tokenistic"  # type: ignore[attr-defined]
    assert state.scenario.value.name == "tokenistic"
    assert label(rc, "power_sharing").endswith("4 · consultation")
    rc.find(v.Checkbox).widget.v_model = True  # type: ignore[attr-defined]
    assert state.scenario.value.crisis_week == 30
    trust = next(s for s in chart_specs(rc) if s["title"] == "Trust both ways")
    # The crisis shaded over the weeks it acts (steps 30..41 end at rows 29..41).
    assert [{"start": 29, "end": 41, "what": "crisis"}] in values_of(trust, "values")


# --- import and export ------------------------------------------------------------------------
def test_import_bad_toml_names_each_problem_and_keeps_the_scenario() -> None:
    render_explore()
    before = state.model.value
    ok = state.import_scenario("bad.toml", b'power_sharing = 9\ninclusion = "sometimes"\n')
    assert not ok
    problems = {p.field: p for p in state.import_problems.value}
    assert problems["power_sharing"].value == 9
    assert "less than or equal to 8" in problems["power_sharing"].allowed
    assert "'convenience' or 'deliberate'" in problems["inclusion"].allowed
    assert state.model.value is before and state.scenario.value.name == "careqic"


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("broken.toml", b"power_sharing = [", "(file)"),
        ("latin1.toml", "name = 'caf\xe9'".encode("latin-1"), "(file)"),
        ("notes.txt", b"power_sharing = 4", "(file)"),
        ("typo.toml", b"powr_sharing = 4", "powr_sharing"),
        ("loop.toml", b'extends = "nonsense-preset"', "extends"),
        ("sibling.toml", b'extends = "other.toml"', "extends"),
    ],
)
def test_import_refuses_unreadable_files(name: str, data: bytes, field: str) -> None:
    assert not state.import_scenario(name, data)
    problem = state.import_problems.value[0]
    assert problem.field == field
    assert name in state.import_message.value
    # Each problem speaks of the user's file and values, never of a server-side path.
    assert "/tmp" not in str(problem) and "coprod-import" not in str(problem)
    if field == "extends":
        assert "careqic" in problem.allowed  # the presets it may extend instead


def test_import_good_toml_with_extends_and_export_round_trip() -> None:
    rc = render_explore()
    text = b'extends = "careqic"\nname = "small-teams"\nteam_size = 5\npower_sharing = 7\n'
    assert state.import_scenario("mine.toml", text)
    assert state.scenario.value.name == "small-teams"
    assert label(rc, "power_sharing").endswith("7 · delegated power")
    button(rc, "Step").click()
    model = state.model.value
    assert Scenario.from_toml(state.scenario.value.to_toml()) == state.scenario.value
    csv = pd.read_csv(io.BytesIO(state.results_csv(model)))
    assert list(csv["week"]) == [0, 1]
    table = pq.read_table(io.BytesIO(state.results_parquet(model, 42)))
    meta = json.loads(table.schema.metadata[b"coprod_sim"])
    assert meta["seed"] == 42 and meta["steps"] == 1
    assert Scenario.from_toml(meta["scenario_toml"]) == state.scenario.value
    # The same provenance as `coprod run` writes, from coprod_sim.provenance.
    assert meta["scenario"] == "small-teams" and meta["package"] == "coprod_sim"
    assert meta["scenario_sha256"] == provenance.scenario_sha256(state.scenario.value)
    assert {"version", "python", "libraries", "created", "mesa"} <= set(meta)
    assert table.num_rows == 2


# --- charts and the network view ------------------------------------------------------------
def test_network_view_of_a_site() -> None:
    model = CoproductionModel.from_scenario("careqic", rng=3)
    model.run_for(8)
    net = site_network(model, 0, "trust")
    kinds = pd.Series([n["kind"] for n in net["nodes"]]).value_counts()
    assert kinds["manager"] == 1
    assert kinds["provider not on the team"] + kinds["provider on the team"] == net["providers"]
    assert net["providers"] == 10
    assert kinds["provider on the team"] == net["team_providers"]
    patients = kinds.get("patient in care", 0) + kinds.get("patient out of care", 0)
    assert patients + kinds.get("patient representative", 0) == net["patients"] == 320
    edges = pd.Series([e["kind"] for e in net["edges"]]).value_counts()
    assert edges["care"] == 320  # every patient to their provider
    assert edges["colleagues"] == model.provider_network.subgraph(range(10)).number_of_edges()
    values = [n["value"] for n in net["nodes"] if n["value"] is not None]
    assert all(0 <= x <= 10 for x in values)  # out of 10
    stigma = site_network(model, 0, "stigma")
    assert [n["value"] for n in stigma["nodes"]] != [n["value"] for n in net["nodes"]]
    spec = network_spec(stigma, "stigma")
    assert "reds" in values_of(spec, "scheme")  # stigma in reds, whichever layer draws it
    assert "reds" not in values_of(network_spec(net, "trust"), "scheme")
    with pytest.raises(ValueError, match="site = 26"):
        site_network(model, 26)


def test_chart_specs_hold_the_frame_values() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=1)
    model.run_for(5)
    frame = model.outputs.collaborative()
    specs = charts.explore_charts(frame, model.parameters, horizon=78)
    trust = specs["trust"]["data"]["values"]
    mine = [r["value"] for r in trust if r["series"] == "patients' trust in providers"]
    assert mine == pytest.approx(frame["patient_trust"].round(4).tolist())
    assert [0, 78] in values_of(specs["stigma"], "domain")  # the whole horizon on the x axis
    # Plain JSON for the browser: no NaN, numpy scalars or tuples survive the round trip.
    assert json.loads(json.dumps(specs, allow_nan=False)) == specs


# --- comparison -----------------------------------------------------------------------------
def test_pairs_use_common_random_numbers_and_paired_intervals() -> None:
    a = small_scenario(power_sharing=4)
    b = small_scenario()
    result = run_pair(a, b, replications=3, weeks=10, root_seed=5)
    # Replication r of design B is exactly the run with replication_seed(5, r).
    again = CoproductionModel.from_scenario(b, rng=replication_seed(5, 2))
    again.run_for(10)
    pd.testing.assert_frame_equal(result.collaborative[1][2], again.outputs.collaborative())
    outcome = state.OUTCOME_BY_KEY["patient_trust"]
    expected = paired_difference(result.series(outcome, 0), result.series(outcome, 1))
    np.testing.assert_allclose(result.difference(outcome).mean, expected.mean)
    lines = summary(result)
    assert len(lines) == len(state.OUTCOMES)
    assert all("paired replications" in line for line in lines)


def test_identical_designs_show_no_difference() -> None:
    same = small_scenario()
    result = run_pair(same, same, replications=2, weeks=6, root_seed=1)
    outcome = state.OUTCOME_BY_KEY["value"]
    assert np.all(result.difference(outcome).mean == 0)  # common random numbers
    assert "no clear difference" in verdict(result, outcome)


def test_verdict_names_the_better_design_for_lower_is_better() -> None:
    result = run_pair(small_scenario(), small_scenario(), replications=3, weeks=4)
    outcome = state.OUTCOME_BY_KEY["equity_gap"]
    for frame in result.collaborative[1]:  # B's gap made clearly larger: A is better
        frame["equity_gap"] = frame["equity_gap"] + np.linspace(0.1, 0.2, len(frame))
    for r, frame in enumerate(result.collaborative[1]):
        frame["equity_gap"] += 0.001 * r  # some spread, so the interval is finite
    text = verdict(result, outcome)
    assert text.startswith("Equity gap between groups: A did better")


def test_compare_page_renders_designs_and_refuses_bad_settings() -> None:
    _, rc = solara.render(compare.Page(), handle_error=False)
    rc.find(v.Btn, children=["Run comparison"]).assert_single()
    compare.set_design(1, representative_seats=5)
    assert compare.problems.value[0].field == "representative_seats"
    assert compare.design(1).representative_seats == 2
    compare.set_design(0, power_sharing=3)
    assert compare.design(0).power_sharing == 3 and compare.design(0).name == "tokenistic"


def test_findings_judge_each_difference_with_its_minimum_and_count_people() -> None:
    """Identical designs differ by exactly 0 (common random numbers): no important difference
    with a minimum, unclear without one. B's retention raised by 0.05 (and its patients in
    care by about 30) is better by at least 0.02, in shares and in people."""
    same = small_scenario()
    result = run_designs([same, same, same], replications=3, weeks=6, root_seed=2)
    retention = state.OUTCOME_BY_KEY["retention"]
    found = {(f.design, f.outcome.key, f.when): f for f in findings(result, {})}
    assert len(found) == 2 * len(state.OUTCOMES) * 2  # B and C, each outcome, end and run
    assert found[(1, "retention", "end")].verdict == "no important difference"
    assert found[(1, "retention", "end")].people == (0.0, 0.0, 0.0)
    none = {f.outcome.key: f for f in findings(result, {"retention": 0.0}) if f.when == "end"}
    assert none["retention"].verdict == "unclear"
    for r, frame in enumerate(result.collaborative[1]):
        frame["retention"] = frame["retention"] + 0.05 + 0.001 * r
        frame["in_care"] = frame["in_care"] + 30 + r
    mine = {
        (f.design, f.outcome.key, f.when): f
        for f in findings(result, {"retention": 0.02}, outcomes=(retention,))
    }
    end = mine[(1, "retention", "end")]
    assert end.verdict == "better by at least" and end.mean == pytest.approx(0.051)
    assert end.people is not None and end.people[0] == pytest.approx(31)
    text = decision(result, end)
    assert text.startswith("Retention in care: B did better than A by at least 0.02.")
    assert "+31 people in care" in text
    assert mine[(2, "retention", "end")].verdict == "no important difference"  # C untouched
    # Lower is better: a larger equity gap is worse.
    gap = state.OUTCOME_BY_KEY["equity_gap"]
    for r, frame in enumerate(result.collaborative[2]):
        frame["equity_gap"] = frame["equity_gap"] + 0.05 + 0.001 * r
    worse = findings(result, {"equity_gap": 0.01}, outcomes=(gap,))
    assert [f.verdict for f in worse if f.design == 2] == ["worse by at least"] * 2


def test_the_mean_level_over_the_run_is_the_area_under_the_curve() -> None:
    result = run_designs([small_scenario(), small_scenario()], replications=2, weeks=8)
    weeks = result.weeks.astype(float)
    for frame in result.collaborative[0]:
        frame["retention"] = weeks / weeks[-1]  # 0 to 1 in a line: a mean level of 1/2
    for frame in result.collaborative[1]:
        frame["retention"] = (weeks / weeks[-1]) ** 2  # a mean level of 1/3, about
    retention = state.OUTCOME_BY_KEY["retention"]
    assert result.summary_values(retention, 0, "run") == pytest.approx([0.5, 0.5])
    # The trapezoid rule on 9 points of x^2: 1/3 + 1/(6 * 8^2).
    assert result.summary_values(retention, 1, "run") == pytest.approx([1 / 3 + 1 / 384] * 2)
    over = next(f for f in findings(result, {}, outcomes=(retention,)) if f.when == "run")
    assert over.levels == pytest.approx((0.5, 1 / 3 + 1 / 384))
    assert result.summary_values(retention, 1, "end") == pytest.approx([1.0, 1.0])


def test_outcomes_agree_with_the_planning_layer_on_direction_and_people() -> None:
    from coprod_sim.outputs import COUNT_OF_SHARE
    from coprod_sim.planning.spec import LOWER_IS_BETTER

    columns = set(CoproductionModel.from_scenario(small_scenario(), rng=0).outputs.collaborative())
    for outcome in state.OUTCOMES:
        if outcome.key in columns:
            assert (outcome.sign < 0) == (outcome.key in LOWER_IS_BETTER), outcome.key
            assert outcome.count == COUNT_OF_SHARE.get(outcome.key), outcome.key
    assert state.OUTCOME_BY_KEY["key_population_stigma"].sign == -1


def test_the_framing_says_how_many_intervals_and_whether_they_are_adjusted() -> None:
    result = run_designs([small_scenario()] * 3, replications=2, weeks=2)
    plain = framing(result, state.OUTCOMES, adjusted=False)
    n = 2 * len(state.OUTCOMES) * 2
    compared = f"on {len(state.OUTCOMES)} outcomes"
    assert plain.startswith("B and C are each compared with A (the reference) " + compared)
    assert f"{n} intervals in all" in plain and "unadjusted" in plain
    adjusted = framing(result, state.OUTCOMES, adjusted=True)
    assert f"Bonferroni-adjusted: each is a {1 - 0.05 / n:.2%} paired interval" in adjusted
    wide, narrow = (
        findings(result, {}, adjusted=a, outcomes=state.OUTCOMES[:1])[0] for a in (True, False)
    )
    assert wide.low <= narrow.low and wide.high >= narrow.high


def test_designs_are_described_in_plain_words() -> None:
    words = state.describe_design(load_scenario("tokenistic"))
    assert words == (
        "power sharing at rung 4 of 8 (consultation); 2 seats for patient representatives on "
        "teams of 6, recruited from whoever staff reach most easily; input reported back 30% "
        "of the time; managers' support 0.50; no ground rules"
    )
    assert "no patient representatives" in state.describe_design(load_scenario("staff-led"))
    for field in ("power_sharing", "representative_seats", "feedback_loop", "inclusion"):
        assert field not in words


def compare_texts(rc: object, classes: str) -> str:
    found = rc.find(v.Html, class_=classes)  # type: ignore[attr-defined]
    return " ".join(str(c) for w in found.widgets for c in w.children)


def test_compare_page_runs_three_designs_and_marks_results_stale() -> None:
    _, rc = solara.render(compare.Page(), handle_error=False)
    compare.add_design()
    assert compare.design_presets.value == ("tokenistic", "careqic", "staff-led")
    assert compare.design_label(2).startswith("C = staff-led: power sharing at rung 3 of 8")
    compare.replications.set(2)
    compare.weeks.set(3)
    button(rc, "Run comparison").click()
    deadline = time.monotonic() + 60
    while not compare.comparison.finished:
        assert not compare.comparison.error, compare.comparison.exception
        assert time.monotonic() < deadline, "the comparison did not finish in 60 s"
        time.sleep(0.05)
    while not rc.find(v.Html, class_="compare-framing").widgets:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    result = compare.comparison.value
    assert result is not None and result.names == ("A", "B", "C")
    framing_text = compare_texts(rc, "compare-framing")
    assert "B and C are each compared with A" in framing_text and "unadjusted" in framing_text
    alerts = " ".join(str(w.children) for w in rc.find(v.Alert).widgets)  # type: ignore[attr-defined]
    assert "stale" not in alerts  # just run: current
    compare.set_minimum("retention", 0.5)  # a new minimum: new verdicts, not stale results
    assert compare.stale_reasons(compare.inputs(), compare.ran_with.value) == []
    compare.set_design(2, power_sharing=5)
    reasons = compare.stale_reasons(compare.inputs(), compare.ran_with.value)
    assert reasons == ["design C changed"]
    alerts = " ".join(str(w.children) for w in rc.find(v.Alert).widgets)  # type: ignore[attr-defined]
    assert "These results are stale: design C changed after they were run" in alerts
    compare.remove_design(2)
    assert compare.stale_reasons(compare.inputs(), compare.ran_with.value) == [
        "the number of designs went from 3 to 2"
    ]


def test_play_steps_in_the_background_and_stops_at_the_horizon() -> None:
    rc = render_explore()
    state.weeks.set(6)
    button(rc, "Play").click()
    # Playing stops by itself at the horizon; wait for that, not for a fixed time.
    deadline = time.monotonic() + 60
    while state.playing.value:
        if time.monotonic() > deadline:
            pytest.fail(f"still playing after 60 s, at week {state.model.value.week}")  # type: ignore[union-attr]
        time.sleep(0.05)
    assert state.model.value.week == 6  # type: ignore[union-attr]  # stopped at the horizon
    assert week_text(rc) == "Week 6 of 6"
