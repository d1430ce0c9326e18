"""Planning: PRIM finds a planted box, the decision arithmetic is right on hand-checkable
tables, costs add up, bad plans are refused by name with nothing written, and a plan
killed with kill -9 resumes to the uninterrupted results."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from coprod_sim import CoproductionModel, load_scenario
from coprod_sim.cli import app
from coprod_sim.errors import PlanError
from coprod_sim.experiments.stats import decision_verdict, wilson_interval
from coprod_sim.planning import load_plan
from coprod_sim.planning.costs import cost_items, meetings
from coprod_sim.planning.decision import analyse
from coprod_sim.planning.discovery import failure_box
from coprod_sim.planning.run import run_plan
from coprod_sim.planning.spec import Costs
from tests.conftest import small_scenario
from tests.test_sweeps import dask_cluster  # noqa: F401 (a fixture)

ROOT = Path(__file__).parents[1]
COPROD = ROOT / ".venv" / "bin" / "coprod"

PLAN = """
name = "micro-plan"
scenario = "small.toml"
replications = {replications}
steps = {steps}
seed = 5

[designs.staff-led]
description = "no patients on the teams"
set = {{ representative_seats = 0, team_size = 4, power_sharing = 3, feedback_loop = 0.0 }}
[designs.partnership]
set = {{}}

[grid]
inclusion = ["convenience"]

[costs]
staff_hour = 10.0
stipend_per_meeting = 5.0

[targets.suppression]
outcome = "key_suppression"
at_least = 0.6
week = {steps}

[context]
futures = {futures}
initial_trust = {{}}
authority_support = {{ low = 0.4, high = 0.9 }}

[decision]
reference = "staff-led"
minimum_important = {{ key_suppression = 0.01 }}
"""


def write(
    folder: Path, *, replications: int = 2, steps: int = 8, futures: int = 4, text: str = PLAN
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.toml").write_text(small_scenario().to_toml())
    path = folder / "plan.toml"
    path.write_text(text.format(replications=replications, steps=steps, futures=futures))
    return path


# --- scenario discovery ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_a_planted_box(seed: int) -> None:
    """Failures planted where a < 0.35 and b > 0.6, with c irrelevant: PRIM's box restricts a
    from above and b from below, near the planted edges, and leaves c alone."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({name: rng.uniform(0, 1, 400) for name in ("a", "b", "c")})
    fails = ((x["a"] < 0.35) & (x["b"] > 0.6)).to_numpy()
    box = failure_box("design", x, fails)
    assert box is not None and set(box.limits) == {"a", "b"}
    assert box.limits["a"][0] is None and 0.3 < box.limits["a"][1] < 0.42
    assert box.limits["b"][1] is None and 0.45 < box.limits["b"][0] < 0.65
    assert box.coverage >= 0.9 and box.density >= 0.8
    assert "a is below" in box.describe() and "b is above" in box.describe()


def test_no_box_when_a_design_always_or_never_fails() -> None:
    x = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    assert failure_box("d", x, np.zeros(20, bool)) is None
    assert failure_box("d", x, np.ones(20, bool)) is None


# --- arithmetic -----------------------------------------------------------------------------


def test_costs_add_up_by_hand_and_the_meetings_are_the_model_s() -> None:
    """CaReQIC: 26 sites, a meeting every 4 weeks (weeks 1, 5, ..., 77: 20 in 78 weeks),
    teams of 6 with 2 seats, 3 learning sessions in 52 weeks of support."""
    careqic = load_scenario("careqic")
    assert meetings(careqic, 78) == 20
    costs = Costs(
        staff_hour=10,
        meeting_hours=1.5,
        stipend_per_meeting=5,
        learning_session=100,
        coaching_per_site_week=1,
        preparation_per_site=50,
    )
    assert cost_items(careqic, 78, costs) == {
        "staff_time": 26 * 20 * 4 * 1.5 * 10,
        "stipends": 26 * 20 * 2 * 5,
        "learning_sessions": 26 * 3 * 100,
        "coaching": 26 * 52 * 1,
        "preparation": 26 * 50,
    }
    # The model's own record of meeting weeks, in a run with no crisis.
    model = CoproductionModel.from_scenario(small_scenario(meeting_interval=3), rng=0)
    model.run_for(30)
    held = int(model.outputs.collaborative()["meeting"].iloc[1:].sum())
    assert held == meetings(small_scenario(meeting_interval=3), 30) == 10


def test_verdicts_use_the_minimum_important_difference() -> None:
    assert decision_verdict(0.02, 0.05, 0.01) == "better by at least"
    assert decision_verdict(-0.05, -0.02, 0.01) == "worse by at least"
    assert decision_verdict(-0.05, -0.02, 0.01, better=-1) == "better by at least"
    assert decision_verdict(-0.004, 0.006, 0.01) == "no important difference"
    assert decision_verdict(0.004, 0.03, 0.01) == "unclear"  # clear, but maybe unimportant
    assert decision_verdict(float("nan"), 1.0, 0.01) == "unclear"
    low, high = wilson_interval(0, 10)
    assert low == 0 and 0.25 < high < 0.35  # 0.278 (Wilson 1927)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def fabricate(plan, values: dict[str, list[list[float]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs and series of ``plan`` with key_suppression (final and at every kept week) set
    from ``values[design][future] = [replication values]``; other outcomes 0."""
    experiment = plan.experiment
    per = len(experiment.points) // len(experiment.bases)
    outcomes = experiment.spec.outcomes.final
    runs, series = [], []
    for point in experiment.points:
        for r in range(experiment.spec.replications):
            value = values[point.label][point.index % per][r]
            row = {
                "run_id": f"{point.scenario_id}-{r}",
                "scenario_id": point.scenario_id,
                "scenario": point.label,
                "replication": r,
                **point.values,
                **dict.fromkeys(outcomes, 0.0),
                "key_suppression": value,
            }
            row["key_suppressed"] = 1000 * value  # people, on 1,000 key patients
            runs.append(row)
            for step in experiment.spec.outcomes.series_steps:
                series.append({**row, "step": step})
    return pd.DataFrame(runs), pd.DataFrame(series)


def test_satisficing_regret_and_the_choice_on_a_hand_checked_table(tmp_path: Path) -> None:
    """Four futures, two replications; the target is key_suppression >= 0.6.

    staff-led:   futures' means 0.50 0.55 0.70 0.65 -> meets in 2 of 4
    partnership: 0.62 0.58 0.80 0.61                -> meets in 3 of 4
    convenience: 0.61 0.66 0.64 0.60                -> meets in 4 of 4
    Regret in people (x1000): best per future is 620, 660, 800, 650; so partnership's
    regrets are 0, 80, 0, 40 (max 80) and convenience's 10, 0, 160, 50 (max 160).
    """
    plan = load_plan(write(tmp_path))
    grid = "inclusion=convenience"
    values = {
        "staff-led": [[0.49, 0.51], [0.55, 0.55], [0.69, 0.71], [0.65, 0.65]],
        "partnership": [[0.62, 0.62], [0.57, 0.59], [0.80, 0.80], [0.60, 0.62]],
        grid: [[0.60, 0.62], [0.66, 0.66], [0.64, 0.64], [0.60, 0.60]],
    }
    results = analyse(plan, *fabricate(plan, values))
    designs = results.designs.set_index("design")
    assert designs["targets_met_share"].to_dict() == {
        "staff-led": 0.5,
        "partnership": 0.75,
        grid: 1.0,
    }
    assert designs.loc["partnership", "max_regret"] == pytest.approx(80)
    assert designs.loc[grid, "max_regret"] == pytest.approx(160)
    assert designs.loc["staff-led", "max_regret"] == pytest.approx(120)  # 120, 110, 100, 0
    assert designs.loc["partnership", "mean_regret"] == pytest.approx(30)
    assert results.choice["design"] == grid  # the most futures meeting the target
    assert results.choice["shares"][grid] > 0.5
    assert sum(results.choice["shares"].values()) == pytest.approx(1.0)
    # Partnership minus staff-led, paired by future: 0.12, 0.03, 0.10, -0.04 (mean 0.0525).
    diff = results.differences.set_index(["design", "outcome"]).loc[
        ("partnership", "key_suppression")
    ]
    assert diff["difference"] == pytest.approx(0.0525)
    assert diff["people"] == pytest.approx(52.5)
    assert diff["verdict"] == "unclear"  # four futures: a wide interval
    # The regret rule picks the least maximum regret instead.
    regret_plan = load_plan(
        write(
            tmp_path / "r",
            text=PLAN.replace(
                'reference = "staff-led"', 'reference = "staff-led"\nrule = "regret"'
            ),
        )
    )
    assert analyse(regret_plan, *fabricate(regret_plan, values)).choice["design"] == "partnership"


# --- bad input and the folder ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("at_least = 0.6", "at_least = 0.6\nchange = 0.1"), "targets.suppression"),
        (
            ('outcome = "key_suppression"', 'outcome = "key_supression"'),
            "targets.suppression.outcome",
        ),
        (("inclusion = [", "stipends = ["), "grid.stipends"),
        (
            ("initial_trust = {}", "initial_trust = { low = 0.8, high = 0.2 }"),
            "context.initial_trust",
        ),
        (("futures = 4", "futures = 1"), "context.futures"),
        (('reference = "staff-led"', 'reference = "nobody"'), "decision.reference"),
        (("staff_hour = 10.0", "staff_hour = -1.0"), "costs.staff_hour"),
        (
            (
                "[designs.partnership]\nset = {}",
                "[designs.partnership]\nset = { power_sharing = 9 }",
            ),
            "designs.partnership",
        ),
        (("initial_trust = {}", "mystery = { low = 0, high = 1 }"), "context.mystery"),
        (("initial_trust = {}", "initial_trust = { low = -0.2 }"), "context.initial_trust.low"),
    ],
)
def test_a_bad_plan_exits_2_names_the_field_and_writes_nothing(
    tmp_path: Path, edit: tuple[str, str], field: str
) -> None:
    spec = write(tmp_path)
    text = spec.read_text()
    assert edit[0] in text
    spec.write_text(text.replace(edit[0], edit[1], 1))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert not out.exists()


def test_every_problem_is_named_at_once_a_design_s_and_the_plan_s(tmp_path: Path) -> None:
    spec = write(tmp_path)
    text = spec.read_text().replace('reference = "staff-led"', 'reference = "nobody"')
    spec.write_text(text.replace("representative_seats = 0,", "representative_seats = 9,"))
    with pytest.raises(PlanError) as caught:
        load_plan(spec)
    fields = [p.field for p in caught.value.problems]
    assert "decision.reference" in fields
    assert any(f.startswith("designs.staff-led: representative_seats") for f in fields), fields


def test_a_folder_of_another_plan_or_of_other_files_is_refused(tmp_path: Path) -> None:
    spec = write(tmp_path, futures=2, replications=1, steps=2)
    out = tmp_path / "out"
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["plan", str(spec), "--out", str(out), "--executor", "sequential"]
        ).exit_code
        == 0
    )
    spec.write_text(spec.read_text().replace("seed = 5", "seed = 6"))
    result = runner.invoke(app, ["plan", str(spec), "--out", str(out)])
    assert result.exit_code == 2 and "holds a different plan" in result.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["plan", str(spec), "--out", str(other)])
    assert result.exit_code == 2 and "notes.txt" in result.output
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


# --- a whole plan -----------------------------------------------------------------------------


def test_a_plan_killed_with_sigkill_resumes_to_the_uninterrupted_results(tmp_path: Path) -> None:
    spec = write(tmp_path, futures=4, replications=2, steps=13)
    whole = tmp_path / "whole"
    run_plan(load_plan(spec), whole, executor="sequential")
    killed = tmp_path / "killed"
    command = [str(COPROD), "plan", str(spec), "--out", str(killed), "--workers", "2"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while not list((killed / "experiment" / "runs").glob("*.parquet")):  # mid-way
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (killed / "report.html").exists()
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    for name in ("designs.csv", "differences.csv", "outcomes.csv", "over_time.csv",
                 "time_to_target.csv", "failures.csv", "choice.json"):  # fmt: skip
        assert (killed / name).read_text() == (whole / name).read_text(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(killed / "futures.parquet"), pd.read_parquet(whole / "futures.parquet")
    )
    report = (killed / "report.html").read_text()
    assert "the robust choice is" in report and "Caveats" in report
    assert "http://" not in report and "https://" not in report  # opens offline
    assert "resumes" in resumed.stdout or "runs done" in resumed.stdout


def test_the_folder_s_own_spec_resumes_it_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write(tmp_path / "plans", futures=2, replications=1, steps=2)
    out = tmp_path / "out"
    run_plan(load_plan(spec), out, executor="sequential")
    first = (out / "designs.csv").read_text()
    monkeypatch.chdir(tmp_path)  # the spec's own folder (plans/) is elsewhere
    again = CliRunner().invoke(
        app, ["plan", str(out / "spec.toml"), "--out", str(out), "--executor", "sequential"]
    )
    assert again.exit_code == 0, again.output
    assert "0 now, 6 before" in again.output
    assert (out / "designs.csv").read_text() == first


def test_a_plan_on_a_dask_cluster_gives_the_sequential_results(
    tmp_path: Path,
    dask_cluster: tuple[str, list],  # noqa: F811
) -> None:
    address, _ = dask_cluster
    spec = write(tmp_path, futures=2, replications=2, steps=4)
    run_plan(load_plan(spec), tmp_path / "here", executor="sequential")
    result = CliRunner().invoke(app, ["plan", str(spec), "--out", str(tmp_path / "dask"),
                                      "--executor", "dask", "--address", address])  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("designs.csv", "differences.csv"):
        assert (tmp_path / "dask" / name).read_text() == (tmp_path / "here" / name).read_text()


def test_a_posterior_adds_parameter_draws_to_every_future(tmp_path: Path) -> None:
    """With the shipped calibration's posterior, replication r of every design in every
    future runs on posterior draw r; the report says the parameters are drawn."""
    spec = write(tmp_path, futures=2, replications=2, steps=2)
    text = spec.read_text().replace(
        "futures = 2", f'futures = 2\nposterior = "{ROOT / "docs" / "calibration"}"'
    )
    spec.write_text(text)
    plan = load_plan(spec)
    draws = plan.experiment.draws
    assert len(draws) == 2 and draws[0] != draws[1]
    assert set(draws[0]) == set(plan.experiment.posterior["parameters"])
    out = tmp_path / "out"
    run_plan(plan, out, executor="sequential")
    runs = pd.read_parquet(out / "futures.parquet")
    assert len(runs) == 3 * 2  # designs x futures
    assert "posterior" in (out / "report.html").read_text()
    # The docs page reads every number from the folder's own tables.
    from coprod_sim.planning.report import write_plan_markdown

    page = write_plan_markdown(out, tmp_path / "docs" / "plan.md").read_text()
    designs = pd.read_csv(out / "designs.csv")
    chosen = designs.sort_values("chosen_share", ascending=False, kind="stable").iloc[0]
    assert f"the robust choice is **{chosen['design']}**" in page
    assert f"{chosen['chosen_share']:.0%} of 1000 resamples" in page
    assert (tmp_path / "docs" / "cost_targets.png").exists()


def test_a_whole_number_field_in_the_context_is_sampled_as_whole_numbers(tmp_path: Path) -> None:
    spec = write(tmp_path, futures=6)
    spec.write_text(spec.read_text().replace("initial_trust = {}", "meeting_interval = {}"))
    plan = load_plan(spec)
    intervals = {p.values["meeting_interval"] for p in plan.experiment.points}
    assert all(type(v) is int for v in intervals) and intervals <= set(range(2, 9))
    assert plan.ranges["meeting_interval"] == (2.0, 8.0)  # the parameter table's range


def test_a_posterior_alone_makes_each_future_one_posterior_draw(tmp_path: Path) -> None:
    spec = write(tmp_path, futures=6, replications=2, steps=2)
    text = spec.read_text().replace(
        "initial_trust = {}\nauthority_support = { low = 0.4, high = 0.9 }",
        f'posterior = "{ROOT / "docs" / "calibration"}"',
    )
    spec.write_text(text)
    with pytest.raises(PlanError, match="replications = 1"):
        load_plan(spec)
    spec.write_text(text.replace("replications = 2", "replications = 1"))
    plan = load_plan(spec)
    assert plan.posterior_futures and plan.n_runs == 3 * 6
    assert plan.context_fields == plan.experiment.posterior["parameters"]
    out = tmp_path / "out"
    run_plan(plan, out, executor="sequential")
    cells = pd.read_parquet(out / "futures.parquet")
    assert sorted(set(cells["future"])) == list(range(6))
    drawn = pd.DataFrame(plan.experiment.draws)
    mine = cells[cells["scenario"] == "partnership"].sort_values("future")
    for name in plan.context_fields:  # each future's context is its posterior draw
        assert mine[name].tolist() == pytest.approx(drawn[name].tolist())
    assert "posterior draws, one run each" in (out / "report.html").read_text()


def test_a_stipend_is_a_design_lever_that_changes_only_the_cost(tmp_path: Path) -> None:
    """A grid over the stipend: the designs are the same collaborative (so the same runs under
    common random numbers) and differ in cost by stipend x seats x meetings x sites."""
    spec = write(tmp_path)
    text = spec.read_text().replace('inclusion = ["convenience"]', "stipend_per_meeting = [0, 40]")
    text = text.replace("[designs.partnership]\nset = {}", "[designs.partnership]\nset = {}\n"
                        "stipend_per_meeting = 10.0")  # fmt: skip
    spec.write_text(text)
    plan = load_plan(spec)
    assert plan.designs["stipend_per_meeting=0"] == plan.designs["stipend_per_meeting=40"] == {}
    stipends = {n: c.stipend_per_meeting for n, c in plan.design_costs.items()}
    assert stipends == {"staff-led": 5.0, "partnership": 10.0, "stipend_per_meeting=0": 0.0,
                        "stipend_per_meeting=40": 40.0}  # fmt: skip
    base = plan.experiment.bases["partnership"]
    sites = sum(site.count for site in base.sites)
    held = meetings(base, plan.spec.steps)
    costs = {
        n: sum(cost_items(base, plan.spec.steps, c).values()) for n, c in plan.design_costs.items()
    }
    seats = base.representative_seats
    assert costs["stipend_per_meeting=40"] - costs["stipend_per_meeting=0"] == pytest.approx(
        sites * held * seats * 40
    )
    spec.write_text(text.replace("[0, 40]", "[0, -1]"))
    with pytest.raises(PlanError, match=r"grid\.stipend_per_meeting"):
        load_plan(spec)
