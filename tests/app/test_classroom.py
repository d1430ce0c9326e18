"""The explorer in the classroom, without a browser: changes during a run, presenter
charts, the session's own lock and size caps, refused seeds and controls, and downloads
that carry what is needed to make the run again."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile

import ipyvuetify as v
import pandas as pd
import pytest
import solara

from app import charts, explore, state
from app.components import read_seed
from app.vega import VegaLiteLive
from coprod_sim import CoproductionModel, Scenario, load_scenario, provenance
from tests.app.test_components import ExploreWithSidebar, button, values_of, week_text

pytestmark = pytest.mark.usefixtures("session")


def render() -> object:
    _, rc = solara.render(ExploreWithSidebar(), handle_error=False)
    return rc


def chart(rc: object, name: str) -> dict:
    wrapper = rc.find(v.Html, class_=f"coprod-chart chart-{name}")  # type: ignore[attr-defined]
    return wrapper.find(VegaLiteLive).widget.full_spec()


def choose_intervention(rc: object, label: str) -> None:
    select = rc.find(v.Html, class_="interventions").find(v.Select).widget  # type: ignore[attr-defined]
    select.v_model = label


# --- changes during the run -------------------------------------------------------------------
def test_a_change_mid_run_keeps_the_week_and_is_marked_on_every_chart() -> None:
    rc = render()
    for _ in range(5):
        button(rc, "Step").click()
    choose_intervention(rc, "Managers withdraw their support")
    button(rc, "Make this change at week 5").click()
    assert week_text(rc) == "Week 5 of 78"  # not reset
    model = state.model.value
    assert model.week == 5
    made = model.parameters.interventions
    assert [(i.week, dict(i.changes)) for i in made] == [(5, {"authority_support": 0.1})]
    assert state.scenario.value == model.parameters  # Reset and downloads replay it
    assert state.scenario.value.name == "careqic-modified"
    button(rc, "Step").click()
    assert model.settings.authority_support == 0.1
    for name in ("trust", "stigma", "changes", "value", "retention"):
        marked = [v for v in values_of(chart(rc, name), "what") if v]
        assert "Managers withdraw their support" in marked, name


def test_a_change_planned_for_a_later_week_holds_from_then_on() -> None:
    """Before the run (or during it), a change can be set for a week ahead: "managers
    withdraw their support at week 4" is then part of the run Play makes."""
    rc = render()
    assert week_text(rc) == "Week 0 of 78"
    choose_intervention(rc, "Managers withdraw their support")
    slider = rc.find(v.Html, class_="intervention-week").find(v.Slider).widget  # type: ignore[attr-defined]
    assert (slider.min, slider.max) == (1, 77)  # from week 1 to the week before the horizon
    slider.v_model = 4
    button(rc, "Make this change at week 4").click()
    model = state.model.value
    assert model.week == 0
    assert [(i.week, dict(i.changes)) for i in model.parameters.interventions] == [
        (4, {"authority_support": 0.1})
    ]
    for _ in range(4):
        button(rc, "Step").click()
    assert model.settings.authority_support == 0.8  # not yet: it holds from week 5
    button(rc, "Step").click()
    assert model.settings.authority_support == 0.1
    # The same run as a scenario that plans it from the start.
    planned = CoproductionModel.from_scenario(model.parameters, rng=state.seed.value)
    planned.run_for(5)
    pd.testing.assert_frame_equal(planned.outputs.collaborative(), model.outputs.collaborative())


def test_a_crisis_begun_mid_run_is_shaded_for_its_weeks() -> None:
    rc = render()
    for _ in range(3):
        button(rc, "Step").click()
    choose_intervention(rc, "A crisis begins (12 weeks)")
    button(rc, "Make this change at week 3").click()
    rects = [layer for layer in chart(rc, "trust")["layer"] if layer["mark"]["type"] == "rect"]
    assert [layer["data"]["values"][0]["start"] for layer in rects] == [3]
    assert [layer["data"]["values"][0]["end"] for layer in rects] == [15]


def test_reset_replays_the_changes_and_gives_the_same_run() -> None:
    rc = render()
    for _ in range(4):
        button(rc, "Step").click()
    choose_intervention(rc, "The team stops reporting back")
    button(rc, "Make this change at week 4").click()
    for _ in range(4):
        button(rc, "Step").click()
    live = state.model.value.outputs.collaborative()
    button(rc, "Reset").click()
    for _ in range(8):
        button(rc, "Step").click()
    replayed = state.model.value.outputs.collaborative()
    pd.testing.assert_frame_equal(live, replayed)
    button(rc, "Remove the changes (start again)").click()
    assert state.scenario.value.interventions is None
    assert state.model.value.week == 0


def test_a_refused_change_is_named_and_changes_nothing() -> None:
    model = state.current_model()
    model.run_for(2)
    before = model.parameters
    assert not state.intervene({"team_size": 4})
    problems = [str(p) for p in state.intervention_problems.value]
    assert problems and "team_size" in problems[0] and "cannot change during a run" in problems[0]
    assert model.parameters == before and model.week == 2


# --- presenter mode ---------------------------------------------------------------------------
def test_presenter_charts_are_large_with_18px_text_and_thick_lines() -> None:
    spec = charts.explore_charts(
        CoproductionModel.from_scenario("careqic", rng=1).outputs.collaborative(),
        load_scenario("careqic"),
    )["trust"]
    shown = charts.presented(spec)
    assert shown["width"] > spec["width"] and shown["height"] > spec["height"]
    config = shown["config"]
    assert min(config["axis"]["labelFontSize"], config["legend"]["labelFontSize"]) >= 18
    assert config["line"]["strokeWidth"] >= 3
    assert (
        spec
        == charts.explore_charts(
            CoproductionModel.from_scenario("careqic", rng=1).outputs.collaborative(),
            load_scenario("careqic"),
        )["trust"]
    )  # the original is left alone


def test_presenter_mode_shows_two_charts_and_no_sidebar_controls() -> None:
    state.presenter.set(True)
    _, rc = solara.render(explore.Page(), handle_error=False)
    state.current_model()
    drawn = [w.full_spec() for w in rc.find(VegaLiteLive).widgets]  # type: ignore[attr-defined]
    assert len(drawn) == 2
    assert all(spec["config"]["axis"]["titleFontSize"] >= 18 for spec in drawn)
    assert not rc.find(v.Html, class_="control control-power_sharing")  # type: ignore[attr-defined]


def test_lines_join_weeks_straight_and_long_axis_titles_are_cut_to_the_chart() -> None:
    frame = CoproductionModel.from_scenario("careqic", rng=1).outputs.collaborative()
    for spec in charts.explore_charts(frame, load_scenario("careqic")).values():
        marks = [layer["mark"] for layer in spec["layer"] if layer["mark"]["type"] == "line"]
        assert marks and all(m["interpolate"] == "linear" for m in marks)
        y = spec["layer"][-1]["encoding"]["y"]
        assert y["axis"]["titleLimit"] <= spec["height"]


def test_a_share_s_band_never_leaves_zero_to_one() -> None:
    weeks = pd.Series([0, 1]).to_numpy()
    mean, low, high = (pd.Series(v).to_numpy() for v in ([0.02, 0.99], [-0.05, 0.95], [0.08, 1.04]))
    spec = charts.designs_band(
        weeks, {"A": (mean, low, high)}, title="t", y_title="y", bounds=(0, 1)
    )
    rows = spec["data"]["values"]
    assert min(r["low"] for r in rows) == 0 and max(r["high"] for r in rows) == 1


# --- sessions ---------------------------------------------------------------------------------
def test_each_session_has_its_own_lock(session: object) -> None:
    from solara.server import kernel, kernel_context

    mine = state.session_lock()
    assert state.session_lock() is mine
    other = kernel_context.VirtualKernelContext(
        id="other", kernel=kernel.Kernel(), session_id="other-session"
    )
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with mine:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with other:
            theirs = state.session_lock()
            assert theirs is not mine
            assert theirs.acquire(timeout=0.5), "another session's lock waited for this one's"
            theirs.release()
    finally:
        release.set()
        holder.join()


def test_a_scenario_too_large_for_a_session_is_refused_beside_the_control() -> None:
    before = state.scenario.value
    big = {"sites.Jamaica.patients": 3000}  # 20 sites × 3,000 patients, plus the others
    assert not state.set_controls(big)
    problem = state.control_problems.value[0]
    assert problem.field == "patients (all sites)"
    assert f"{state.MAX_SESSION_PATIENTS:,}" in problem.allowed
    assert state.scenario.value == before


def test_an_import_too_large_for_a_session_is_refused() -> None:
    text = load_scenario("careqic").with_overrides({"sites.Jamaica.patients": 3000}).to_toml()
    assert not state.import_scenario("big.toml", text.encode())
    assert state.import_problems.value[0].field == "patients (all sites)"


def test_every_preset_fits_a_session() -> None:
    from coprod_sim import preset_names

    for name in preset_names():
        assert state.session_size_problems(load_scenario(name)) == [], name


# --- the fault list ---------------------------------------------------------------------------
def type_seed(rc: object, text: str) -> None:
    """Type into the seed field and leave it (read when it loses focus)."""
    field = rc.find(v.Html, class_="seed-field").find(v.TextField).widget  # type: ignore[attr-defined]
    field.v_model = text
    field.fire_event("focusout", text)


@pytest.mark.parametrize("typed", ["-5", "3.7", "seven", " "])
def test_a_seed_that_is_not_a_whole_number_is_refused_with_a_message(typed: str) -> None:
    rc = render()
    type_seed(rc, typed)
    assert state.seed.value == state.DEFAULT_SEED
    message = rc.find(v.Alert, class_="seed-error").widget.children  # type: ignore[attr-defined]
    assert repr(typed) in str(message) and "whole number" in str(message)
    field = rc.find(v.Html, class_="seed-field").find(v.TextField).widget  # type: ignore[attr-defined]
    assert field.v_model == str(state.DEFAULT_SEED)  # the field shows the seed in use
    type_seed(rc, "7")
    assert state.seed.value == 7 and state.model.value.week == 0
    assert not rc.find(v.Alert, class_="seed-error").widgets  # type: ignore[attr-defined]


def test_read_seed_takes_whole_numbers_from_zero_only() -> None:
    assert [read_seed(t) for t in ("0", " 12 ", str(2**63 - 1))] == [0, 12, 2**63 - 1]
    assert [read_seed(t) for t in ("-5", "3.7", "1e3", "", str(2**63))] == [None] * 5


def test_a_refused_slider_springs_back_to_the_scenario_s_value() -> None:
    rc = render()

    def seats_slider() -> v.Slider:
        return rc.find(v.Html, class_="control control-representative_seats").find(v.Slider).widget  # type: ignore[attr-defined]

    before = state.scenario.value.representative_seats
    seats_slider().v_model = 8  # more seats than a team of 6 has
    assert state.control_problems.value
    assert seats_slider().v_model == before


def test_the_horizon_cannot_go_behind_the_week_reached() -> None:
    rc = render()
    for _ in range(6):
        button(rc, "Step").click()
    state.set_horizon(4)
    assert state.weeks.value == 6
    assert week_text(rc) == "Week 6 of 6"


def test_a_changed_scenario_is_no_longer_named_as_its_preset() -> None:
    state.choose_preset("tokenistic")
    assert state.set_controls({"feedback_loop": 0.9})
    assert state.scenario.value.name == "tokenistic-modified"
    assert 'name = "tokenistic-modified"' in state.scenario.value.to_toml()


def test_a_pasted_scenario_imports() -> None:
    rc = render()
    text = 'extends = "careqic"\nname = "pasted-one"\npower_sharing = 6\n'
    rc.find(v.Html, class_="paste-import").find(v.Textarea).widget.v_model = text  # type: ignore[attr-defined]
    button(rc, "Import the pasted scenario").click()
    assert state.scenario.value.name == "pasted-one"
    assert state.scenario.value.power_sharing == 6


def test_the_download_holds_four_tables_and_reproduces_with_its_command(tmp_path) -> None:
    from typer.testing import CliRunner

    from coprod_sim.cli import app as cli

    model = state.current_model()
    state.step_model(3)
    state.intervene({"authority_support": 0.2})
    state.step_model(3)
    archive = zipfile.ZipFile(io.BytesIO(state.results_bundle(model, state.seed.value)))
    folder = archive.namelist()[0].split("/")[0]
    names = {n.split("/")[1] for n in archive.namelist()}
    tables = ("collaborative", "sites", "groups", "site_groups")
    assert {f"{t}.{ext}" for t in tables for ext in ("csv", "parquet")} <= names
    assert {"careqic-modified.toml", "run.json", "README.txt"} <= names
    record = json.loads(archive.read(f"{folder}/run.json"))
    assert record["version"] == provenance.package_version()
    assert record["seed"] == state.DEFAULT_SEED and record["steps"] == 6
    toml = archive.read(f"{folder}/careqic-modified.toml").decode()
    assert record["scenario_sha256"] == provenance.scenario_sha256(Scenario.from_toml(toml))
    readme = archive.read(f"{folder}/README.txt").decode()
    assert record["command"] in readme and record["scenario_sha256"] in readme

    # The command in the README, run from the unpacked folder, makes the same tables.
    archive.extractall(tmp_path)
    command = record["command"].split()[2:]  # after "coprod run"
    out = tmp_path / "again"
    here = os.getcwd()
    os.chdir(tmp_path / folder)  # the command names the scenario file beside it
    try:
        result = CliRunner().invoke(cli, ["run", *command, "--out", str(out)])
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    for table in tables:
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{table}.parquet"),
            pd.read_csv(io.BytesIO(archive.read(f"{folder}/{table}.csv"))),
            check_dtype=False,
        )


def test_a_comparison_s_download_reproduces_with_its_command(tmp_path) -> None:
    """Compare's ZIP: each design's scenario, every replication with its seed, and a
    README whose ``coprod compare`` command runs the same replications again."""
    import shlex

    from typer.testing import CliRunner

    from app.pairs import results_bundle, run_pair
    from coprod_sim.cli import app as cli
    from coprod_sim.experiments import replication_seed
    from tests.conftest import small_scenario

    a, b = small_scenario(name="consulted"), small_scenario(name="partners", power_sharing=6)
    result = run_pair(a, b, names=("consulted", "partners"), replications=2, weeks=8, root_seed=5)
    archive = zipfile.ZipFile(io.BytesIO(results_bundle(result)))
    archive.extractall(tmp_path)
    folder = tmp_path / "comparison"
    readme = (folder / "README.txt").read_text()
    seeds = [replication_seed(5, r) for r in range(2)]
    assert all(f"seed {s}" in readme for s in seeds)
    assert provenance.scenario_sha256(a) in readme and provenance.package_version() in readme
    outcomes = pd.read_csv(folder / "outcomes.csv")
    assert outcomes.groupby("design")["seed"].apply(list).to_dict() == {"A": seeds, "B": seeds}

    command = next(line.strip() for line in readme.splitlines() if "coprod compare" in line)
    here = os.getcwd()
    os.chdir(folder)  # the command names the scenario files beside it
    try:
        args = [*shlex.split(command)[1:], "--out", str(tmp_path / "again")]
        ran = CliRunner().invoke(cli, [*args, "--executor", "sequential"])
    finally:
        os.chdir(here)
    assert ran.exit_code == 0, ran.output
    again = pd.read_parquet(tmp_path / "again" / "runs").sort_values(["scenario_id", "replication"])
    assert again["seed"].tolist() == seeds + seeds
    for key in ("retention", "patient_trust", "key_suppression"):
        assert again[key].tolist() == pytest.approx(outcomes[key].tolist()), key
