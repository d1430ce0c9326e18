"""Calibration: the spec refuses bad input, the posterior is the same on every executor and
after kill -9, the report opens offline, and a known parameter is recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from coprod_sim.calibration.analysis import predictive_check, weighted_quantile
from coprod_sim.calibration.run import calibrate
from coprod_sim.calibration.spec import load_calibration
from coprod_sim.calibration.summaries import summarise
from coprod_sim.cli import app
from tests.conftest import small_scenario
from tests.test_sweeps import dask_cluster  # noqa: F401 (a fixture)

ROOT = Path(__file__).parents[1]
COPROD = ROOT / ".venv" / "bin" / "coprod"

SPEC = """
name = "micro"
seed = 3
budget = {budget}
predictive = 10

[parameters]
initial_adherence = {{}}
effect_size = {{ low = 0.1, high = 0.4 }}

[targets.suppression_end]
scenario = "small.toml"
steps = 8
output = "suppression"
statistic = "final"
observed = {observed}
sd = 0.03
source = "a test"

[targets.testing_rise]
scenario = "small.toml"
steps = 8
output = "testing_coverage"
statistic = "site_max_change"
observed = {rise}
sd = 0.05
source = "a test"

[schedule]
population = 12
generations = {generations}
"""


def write(folder: Path, *, budget: int = 90, generations: int = 2, observed: float = 0.74,
          rise: float = 0.05, text: str = SPEC) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.toml").write_text(small_scenario().to_toml())
    path = folder / "calibration.toml"
    path.write_text(
        text.format(budget=budget, generations=generations, observed=observed, rise=rise)
    )
    return path


def outputs(out: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(out / f"{name}.parquet")
        for name in ("generations", "posterior", "predictive")
    }


def same_outputs(a: Path, b: Path) -> None:
    for name, frame in outputs(a).items():
        pd.testing.assert_frame_equal(frame, outputs(b)[name], check_exact=True, obj=name)


# -- summaries ----------------------------------------------------------------------------
def test_site_statistics_read_each_sites_change_from_first_to_last_week() -> None:
    sites = pd.DataFrame(
        {
            "step": [0, 0, 0, 8, 8, 8],
            "site": ["a", "b", "c", "a", "b", "c"],
            "retention": [0.5, 0.6, 0.7, 0.52, 0.70, 0.69],
            "suppression": [0.7, 0.7, 0.7, 0.80, 0.70, 0.71],
        }
    )
    collaborative = pd.DataFrame({"retention": [0.6, 0.65]})
    assert summarise("site_max_change", ("retention",), collaborative, sites) == pytest.approx(0.1)
    # a: +0.02 / +0.10, b: +0.10 / 0, c: -0.01 / +0.01 -> two of three improved by 0.05
    share = summarise(
        "site_share_improved", ("retention", "suppression"), collaborative, sites, 0.05
    )
    assert share == pytest.approx(2 / 3)
    assert summarise("change", ("retention",), collaborative, None) == pytest.approx(0.05)
    assert summarise("final", ("retention",), collaborative, None) == 0.65


def test_weighted_quantiles_follow_the_weights() -> None:
    values, weights = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 8.0])
    # Each particle's mass centred on it: cumulative shares 0.05, 0.15 and 0.6.
    assert weighted_quantile(values, weights, 0.5) == pytest.approx(2 + 0.35 / 0.45)
    assert weighted_quantile(values, np.ones(3), 0.5) == pytest.approx(2.0)
    assert weighted_quantile(values, weights, 0.05) == pytest.approx(1.0)


def test_the_predictive_check_says_when_a_target_is_not_fitted(tmp_path: Path) -> None:
    spec = load_calibration(write(tmp_path)).spec
    draws = pd.DataFrame({"suppression_end": np.full(50, 0.74), "testing_rise": np.full(50, 0.4)})
    check = predictive_check(spec, draws).set_index("target")
    assert check.loc["suppression_end", "fits"] == "yes"
    assert check.loc["testing_rise", "fits"] == "no"  # 0.05 observed, 0.4 ± 0.05 simulated


# -- bad input ------------------------------------------------------------------------------
BAD = {
    "an unknown parameter": (
        "initial_adherence = {}", "initial_adherance = {}", "initial_adherance",
    ),
    "a prior outside the table's range": (
        "effect_size = { low = 0.1, high = 0.4 }", "effect_size = { low = 0.1, high = 0.9 }",
        "parameters.effect_size.high",
    ),
    "a whole-number field": ("initial_adherence = {}", "team_size = {}", "whole number"),
    "an unknown output": ('output = "suppression"', 'output = "supression"', "supression"),
    "a share without its threshold": (
        'statistic = "site_max_change"', 'statistic = "site_share_improved"', "threshold",
    ),
    "a target named like a parameter": ("[targets.testing_rise]", "[targets.effect_size]",
                                        "must differ"),
    "no source": ('source = "a test"\n\n[schedule]', "\n[schedule]", "source"),
    "a zero sd": ("sd = 0.05", "sd = 0.0", "sd"),
    "a budget too small for a first generation": ("budget = 90", "budget = 20", "budget"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_names_the_field_and_writes_nothing(tmp_path: Path, case: str) -> None:
    old, new, named = BAD[case]
    spec = write(tmp_path)
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["calibrate", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert not out.exists()


def test_a_folder_of_another_calibration_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    calibrate(load_calibration(write(tmp_path)), out, executor="sequential")
    other = write(tmp_path / "other", observed=0.70)
    before = sorted(p.name for p in out.rglob("*"))
    result = CliRunner().invoke(app, ["calibrate", str(other), "--out", str(out)])
    assert result.exit_code == 2
    assert "holds a different calibration" in result.output
    assert sorted(p.name for p in out.rglob("*")) == before


# -- what it writes -------------------------------------------------------------------------
def test_the_posterior_has_a_row_per_particle_and_the_report_opens_offline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["calibrate", str(write(tmp_path)), "--out", str(out), "--executor", "sequential"]
    )
    assert result.exit_code == 0, result.output
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 12
    assert {"initial_adherence", "effect_size", "weight", "generation"} <= set(posterior.columns)
    assert posterior["weight"].sum() == pytest.approx(1.0)
    assert posterior["generation"].nunique() == 1
    assert posterior["initial_adherence"].between(0.6, 0.85).all()
    assert posterior["effect_size"].between(0.1, 0.4).all()
    html = (out / "report.html").read_text()
    assert "Posterior-predictive check" in html and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html
    log = ds.dataset(out / "simulations").to_table().to_pandas()
    assert len(log) <= 90 and not log.duplicated(["generation", "index"]).any()
    assert json.loads((out / "status.json").read_text())["generations"] >= 1
    # The folder's own spec names its resolved scenarios: it resumes the folder, from anywhere.
    again = CliRunner().invoke(
        app, ["calibrate", str(out / "spec.toml"), "--out", str(out), "--executor", "sequential"]
    )
    assert again.exit_code == 0, again.output
    assert "(0 now)" in again.output


def test_local_pool_and_sequential_give_the_same_posterior(tmp_path: Path) -> None:
    calibration = load_calibration(write(tmp_path))
    calibrate(calibration, tmp_path / "seq", executor="sequential")
    calibrate(calibration, tmp_path / "pool", executor="local", workers=2)
    same_outputs(tmp_path / "seq", tmp_path / "pool")


def test_a_dask_cluster_gives_the_same_posterior(tmp_path: Path, dask_cluster) -> None:  # noqa: F811
    address, _ = dask_cluster
    calibration = load_calibration(write(tmp_path))
    calibrate(calibration, tmp_path / "seq", executor="sequential")
    calibrate(calibration, tmp_path / "dask", executor="dask", address=address)
    same_outputs(tmp_path / "seq", tmp_path / "dask")


def test_a_larger_budget_continues_the_same_calibration(tmp_path: Path) -> None:
    small = load_calibration(write(tmp_path, budget=70, generations=3))
    large = load_calibration(write(tmp_path / "large", budget=160, generations=3))
    calibrate(small, tmp_path / "grown", executor="sequential")
    first = len(ds.dataset(tmp_path / "grown" / "simulations").to_table())
    summary = calibrate(large, tmp_path / "grown", executor="sequential")
    assert summary.new == summary.simulations - first  # nothing simulated twice
    calibrate(large, tmp_path / "fresh", executor="sequential")
    same_outputs(tmp_path / "grown", tmp_path / "fresh")


def test_a_calibration_killed_with_sigkill_resumes_to_the_uninterrupted_posterior(
    tmp_path: Path,
) -> None:
    spec = write(tmp_path, budget=200, generations=2)
    command = [str(COPROD), "calibrate", str(spec), "--executor", "local", "--workers", "2"]
    subprocess.run([*command, "--out", str(tmp_path / "whole")], check=True, capture_output=True)
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list((killed / "simulations").glob("part-*.parquet")):  # mid-way: a part written
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    logged = len(ds.dataset(killed / "simulations").to_table())
    resumed = subprocess.run([*command, "--out", str(killed)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    same_outputs(tmp_path / "whole", killed)
    log = ds.dataset(killed / "simulations").to_table().to_pandas()
    assert not log.duplicated(["generation", "index"]).any()
    whole = ds.dataset(tmp_path / "whole" / "simulations").to_table().to_pandas()
    assert len(log) == len(whole) and logged < len(whole)


def test_a_known_parameter_is_recovered_inside_its_90_percent_interval(tmp_path: Path) -> None:
    """Data simulated at a truth drawn from the prior; the calibration's 90% interval for
    initial adherence covers it and is narrower than the prior. (The full-budget study is
    experiments/recovery.py.)"""
    from coprod_sim.calibration.recovery import coverage, run_recovery

    calibration = load_calibration(write(tmp_path, budget=300, generations=2))
    table = run_recovery(calibration, tmp_path / "recovery", 1, executor="local", workers=2)
    assert set(table["parameter"]) == {"initial_adherence", "effect_size"}
    row = table.set_index("parameter").loc["initial_adherence"]
    assert row["covered"] and row["low"] <= row["truth"] <= row["high"]
    assert row["width / prior"] < 0.8
    summary = coverage(table).set_index("parameter")
    assert summary.loc["initial_adherence", "coverage"] == 1.0
    record = json.loads((tmp_path / "recovery" / "truth-00" / "calibration.json").read_text())
    assert record["spec"]["targets"]["suppression_end"]["observed"] != 0.74  # simulated


# -- posterior draws in comparisons and sweeps ----------------------------------------------
@pytest.fixture(scope="module")
def posterior_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished calibration, shared by the tests that draw from it."""
    folder = tmp_path_factory.mktemp("posterior")
    calibrate(load_calibration(write(folder)), folder / "calibration", executor="sequential")
    return folder / "calibration"


SWEEP = """
name = "drawn"
scenario = "small.toml"
replications = {replications}
steps = 4
seed = 11
{posterior}
[set]
{set}
[factors]
power_sharing = [3, 7]

[outcomes]
final = ["patient_trust", "suppression", "retention"]
"""


def sweep_spec(folder: Path, *, replications: int = 3, posterior: str = "", set_: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.toml").write_text(small_scenario().to_toml())
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(replications=replications, posterior=posterior, set=set_))
    return path


def sweep(spec: Path, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(
        app, ["sweep", str(spec), "--out", str(out), "--executor", "sequential"]
    )
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out / "runs").sort_values("run_id", ignore_index=True)


def test_a_sweep_on_a_posterior_runs_each_replication_on_its_draw(
    tmp_path: Path, posterior_folder: Path
) -> None:
    spec = sweep_spec(tmp_path / "a", posterior=f'posterior = "{posterior_folder}"')
    runs = sweep(spec, tmp_path / "a" / "out")
    draws = pd.read_parquet(tmp_path / "a" / "out" / "draws.parquet")
    assert list(draws["replication"]) == [0, 1, 2]
    assert draws["initial_adherence"].nunique() > 1  # the draws differ across replications
    report = (tmp_path / "a" / "out" / "report.html").read_text()
    assert "intervals include parameter uncertainty" in report
    # Replication 1 is exactly a sweep whose scenario sets draw 1 (and has its seed).
    draw = draws.iloc[1]
    fixed = "\n".join(
        f"{name} = {float(draw[name])!r}" for name in ("initial_adherence", "effect_size")
    )
    lone = sweep_spec(tmp_path / "b", replications=2, set_=fixed)
    alone = sweep(lone, tmp_path / "b" / "out")
    mine = runs[runs["replication"] == 1].reset_index(drop=True)
    theirs = alone[alone["replication"] == 1].reset_index(drop=True)
    for outcome in ("patient_trust", "suppression", "retention"):
        assert list(mine[outcome]) == list(theirs[outcome])
    # the same spec again: the same draws and results
    again = sweep(spec, tmp_path / "a" / "again")
    pd.testing.assert_frame_equal(
        runs.drop(columns=["version"]), again.drop(columns=["version"]), check_exact=True
    )


def test_compare_on_a_posterior_says_its_intervals_include_parameter_uncertainty(
    tmp_path: Path, posterior_folder: Path
) -> None:
    (tmp_path / "small.toml").write_text(small_scenario().to_toml())
    (tmp_path / "seated.toml").write_text(small_scenario(representative_seats=0).to_toml())
    result = CliRunner().invoke(
        app,
        ["compare", str(tmp_path / "small.toml"), str(tmp_path / "seated.toml"), "--steps", "4",
         "--replications", "3", "--executor", "sequential", "--posterior", str(posterior_folder),
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "parameter uncertainty" in result.output
    assert len(pd.read_parquet(tmp_path / "out" / "draws.parquet")) == 3


@pytest.mark.parametrize(
    ("posterior", "set_", "named"),
    [
        ('posterior = "nowhere"', "", "has no posterior.parquet"),
        ("{posterior}", "effect_size = 0.2", "fits effect_size"),
    ],
)
def test_a_posterior_that_cannot_be_used_is_bad_input(
    tmp_path: Path, posterior_folder: Path, posterior: str, set_: str, named: str
) -> None:
    text = posterior.format(posterior=f'posterior = "{posterior_folder}"')
    spec = sweep_spec(tmp_path, posterior=text, set_=set_)
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert named in result.output
    assert not (tmp_path / "out").exists()


def test_a_fact_held_out_of_the_calibration_is_checked_across_its_posterior(
    tmp_path: Path, posterior_folder: Path
) -> None:
    from coprod_sim.experiments.engine import run_experiment
    from coprod_sim.validation.facts import FACTS, StudyData
    from coprod_sim.validation.report import held_out_section
    from coprod_sim.validation.study import SPECS, Study, evaluate, load_study

    fact = next(f for f in FACTS if f.spec == "fact2_feedback")
    results = {}
    for kind, posterior in (("fixed", None), ("drawn", posterior_folder)):
        experiments = load_study(SPECS, True, 3, posterior=posterior, names=[fact.spec])
        experiment = experiments[fact.spec]
        assert bool(experiment.draws) == (posterior is not None)
        run_experiment(experiment, tmp_path / kind / fact.spec, executor="sequential")
        results[kind] = evaluate(fact, StudyData(tmp_path / kind), regions=False)
    fixed, drawn = results["fixed"], results["drawn"]
    assert fixed.checks.keys() == drawn.checks.keys()
    # Other parameters, other numbers: the estimates are computed on the draws.
    assert any(fixed.checks[k].estimate != drawn.checks[k].estimate for k in fixed.checks)
    study = Study(tmp_path / "fixed", SPECS, True, [], [fixed], StudyData(tmp_path / "fixed"),
                  {}, {}, posterior=posterior_folder, posterior_facts=[drawn])  # fmt: skip
    text = "\n".join(held_out_section(study, tmp_path))
    assert text.startswith("## Held out: the facts across the calibration's posterior")
    claims = [c for c in drawn.checks.values() if c.kind in ("fact", "mechanism")]
    assert claims and all(c.claim in text for c in claims)
    assert f"of {len(claims)} claims keep their verdict" in text


def test_the_docs_page_of_a_calibration_carries_its_posterior(
    tmp_path: Path, posterior_folder: Path
) -> None:
    from coprod_sim.calibration.report import write_calibration_markdown
    from coprod_sim.experiments.posterior import read_posterior

    page = write_calibration_markdown(posterior_folder, tmp_path / "docs" / "calibration.md")
    text = page.read_text()
    for heading in ("## Targets", "## Posterior", "## Generations", "## Posterior-predictive"):
        assert heading in text
    assert "| initial_adherence |" in text and "| effect_size |" in text
    table, parameters = read_posterior(page.parent)  # --posterior can name the docs' folder
    assert parameters == ["initial_adherence", "effect_size"] and table.num_rows == 12
    assert all((page.parent / f"{n}.png").stat().st_size > 1000 for n in ("marginals", "pairs"))
