"""The experiment layer: specs, designs, seeds, the engine, analysis and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coprod_sim import load_scenario, provenance
from coprod_sim.errors import FolderError, SpecError
from coprod_sim.experiments import (
    Interval,
    Side,
    analysis,
    mean_interval,
    paired_difference,
    replication_seed,
    side,
)
from coprod_sim.experiments.engine import manifest, run_experiment
from coprod_sim.experiments.parts import rows_to_table
from coprod_sim.experiments.report import write_report
from coprod_sim.experiments.spec import load_experiment, parse_spec, resolve
from coprod_sim.experiments.store import ResultsFolder
from coprod_sim.model import CoproductionModel
from tests.experiment_helpers import SPEC, results, write_spec


# --- specs: refused before anything runs ------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        (("replications = 3", "replicatons = 3"), "replicatons", "did you mean 'replications'"),
        (("power_sharing = [3, 7]", "power_sharing = []"), "factors.power_sharing", "non-empty"),
        (("power_sharing = [3, 7]", "powr_sharing = [3, 7]"), "powr_sharing", "unknown field"),
        (("power_sharing = [3, 7]", "power_sharing = [3, 9]"), "power_sharing", "less than"),
        (("power_sharing = [3, 7]", "power_sharing = [3, 3]"), "factors.power_sharing", "distinct"),
        (
            ('final = ["patient_trust",', 'final = ["trust",'),
            "outcomes.final",
            "not a model output",
        ),
        (
            ("series_steps = [0, 4, 8]", "series_steps = [0, 99]"),
            "outcomes.series_steps",
            "between 0",
        ),
        (('scenario = "small.toml"', 'scenario = "nowhere.toml"'), "scenario", "no such file"),
        (("series_steps = [0, 4, 8]", "series_steps = [0, 4, 4]"), "series_steps", "distinct"),
    ],
)
def test_a_bad_spec_names_the_field_the_value_and_what_is_allowed(
    tmp_path: Path, change, field, allowed
) -> None:
    path = write_spec(tmp_path)
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1]))
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    rendered = str(caught.value)
    assert field in rendered, rendered
    assert allowed in rendered, rendered


def test_sampling_designs_need_ranges_and_a_buildable_size(tmp_path: Path) -> None:
    base = {"name": "s", "scenario": "careqic", "steps": 2}
    cases = [
        (
            {
                "design": {"kind": "sobol", "samples": 6},
                "factors": {"initial_trust": {"low": 0.1, "high": 0.9}},
            },
            "power of 2",
        ),
        (
            {"design": {"kind": "sobol", "samples": 8}, "factors": {"initial_trust": [0.1, 0.9]}},
            "needs a range",
        ),
        (
            {"design": {"kind": "lhs"}, "factors": {"initial_trust": {"low": 0.1, "high": 0.9}}},
            "number of samples",
        ),
        (
            {
                "design": {"kind": "morris", "samples": 4},
                "factors": {"initial_trust": {"low": 0.9, "high": 0.1}},
            },
            "must be below",
        ),
        ({"design": {"kind": "sobol", "samples": 4}, "factors": {}}, "at least one factor"),
    ]
    for extra, message in cases:
        with pytest.raises(SpecError, match=message):
            resolve(parse_spec({**base, **extra}), "test")


def test_designs_have_the_sizes_their_methods_define() -> None:
    ranges = {
        "initial_trust": {"low": 0.1, "high": 0.9},
        "power_sharing": {"low": 1, "high": 8, "integer": True},
    }
    base = {"name": "s", "scenario": "careqic", "steps": 2, "factors": ranges}
    sobol = resolve(parse_spec({**base, "design": {"kind": "sobol", "samples": 16}}), "t")
    assert len(sobol.points) == 16 * (2 + 2)  # N (D + 2)
    second = resolve(
        parse_spec({**base, "design": {"kind": "sobol", "samples": 16, "second_order": True}}), "t"
    )
    assert len(second.points) == 16 * (2 * 2 + 2)  # N (2D + 2)
    morris = resolve(parse_spec({**base, "design": {"kind": "morris", "samples": 5}}), "t")
    assert len(morris.points) == 5 * (2 + 1)  # N (D + 1)
    lhs = resolve(parse_spec({**base, "design": {"kind": "lhs", "samples": 40}}), "t")
    rungs = [p.values["power_sharing"] for p in lhs.points]
    # Every whole rung is reachable, the ends included, and a second build is identical.
    assert set(rungs) == set(range(1, 9))
    again = resolve(parse_spec({**base, "design": {"kind": "lhs", "samples": 40}}), "t")
    assert [p.values for p in again.points] == [p.values for p in lhs.points]


def test_factorial_points_cross_scenarios_and_factors() -> None:
    spec = parse_spec(
        {
            "name": "x",
            "scenarios": {"a": {"scenario": "careqic"}, "b": {"scenario": "staff-led"}},
            "factors": {"power_sharing": [3, 5, 7]},
            "steps": 2,
        }
    )
    experiment = resolve(spec, "t")
    assert [(p.label, p.values["power_sharing"]) for p in experiment.points] == [
        (label, rung) for label in ("a", "b") for rung in (3, 5, 7)
    ]


# --- seeds and intervals ------------------------------------------------------------------
def test_replication_seeds_are_addressable_and_distinct() -> None:
    seeds = [replication_seed(7, r) for r in range(1000)]
    assert len(set(seeds)) == 1000
    assert seeds[3] == replication_seed(7, 3)  # independent of order and of other runs
    assert replication_seed(8, 0) != seeds[0]
    assert all(0 <= s < 2**63 for s in seeds)


def test_t_interval_covers_the_mean_at_its_level() -> None:
    rng = np.random.default_rng(1)
    samples = rng.normal(2.0, 1.0, size=(10, 4000))  # 4000 experiments of 10 replications
    interval = mean_interval(samples)
    coverage = np.mean((interval.low <= 2.0) & (interval.high >= 2.0))
    assert 0.93 < coverage < 0.97


def test_pairing_narrows_the_interval_of_correlated_outcomes() -> None:
    rng = np.random.default_rng(2)
    shared = rng.normal(0, 1, 30)
    a, b = shared + rng.normal(0, 0.1, 30), shared + 0.2 + rng.normal(0, 0.1, 30)
    paired = paired_difference(a, b)
    unpaired = mean_interval(b).high - mean_interval(b).low
    assert paired.low > 0  # the 0.2 shift is found ...
    assert paired.high - paired.low < unpaired / 3  # ... with a much narrower interval


# --- the engine ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("low", "high", "where"),
    [
        (0.1, 0.5, Side.ABOVE),
        (-0.5, -0.1, Side.BELOW),
        (-0.1, 0.5, Side.ACROSS),
        (0.0, 0.5, Side.ACROSS),  # a bound on the reference does not exclude it
        (-0.5, 0.0, Side.ACROSS),
        (float("nan"), float("nan"), Side.UNKNOWN),
    ],
)
def test_an_interval_s_side_of_zero_decides_every_verdict(low, high, where) -> None:
    assert side(low, high) is where
    assert Interval(np.float64(0.2), np.float64(low), np.float64(high), 3).side() is where
    assert where.clear == (where in (Side.ABOVE, Side.BELOW))
    words = {
        Side.ABOVE: "higher (95% interval above 0)",
        Side.BELOW: "lower (95% interval below 0)",
        Side.ACROSS: "no clear difference",
        Side.UNKNOWN: "unknown (one replication)",
    }
    assert analysis.verdict(low, high) == words[where]
    assert side(low, high, reference=-1.0) in (Side.ABOVE, Side.ACROSS, Side.UNKNOWN)


def test_rows_take_the_manifest_s_types_and_mixed_columns_become_text() -> None:
    rows = [
        {"run_id": "p0-r0", "power_sharing": 3, "mixed": "none", "value": 1},
        {"run_id": "p1-r0", "power_sharing": 7, "mixed": 10, "value": 0.5, "extra": 1},
        {"run_id": "p2-r0", "mixed": None},
    ]
    table = rows_to_table(rows, {"power_sharing": pa.float64()})
    assert table.column_names == ["run_id", "power_sharing", "mixed", "value"]
    assert [str(t) for t in table.schema.types] == ["string", "double", "string", "double"]
    assert table.column("power_sharing").to_pylist() == [3.0, 7.0, None]
    assert table.column("mixed").to_pylist() == ["none", "10", None]


def test_a_second_sweep_on_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=1, steps=5))
    out = tmp_path / "out"
    run_experiment(experiment, out, executor="sequential")
    header = json.loads((out / "experiment.json").read_text())
    held = ResultsFolder.open(out, header, manifest(experiment), experiment.spec.to_toml())
    with held, pytest.raises(FolderError, match="another sweep is writing to this folder now"):
        run_experiment(experiment, out, executor="sequential")
    # Released on closing: the folder can be resumed (here, nothing is left to run).
    assert run_experiment(experiment, out, executor="sequential").already_done == 4


def test_a_run_record_keeps_every_field_earlier_versions_wrote() -> None:
    model = CoproductionModel.from_scenario(load_scenario("careqic"), rng=1)
    record = provenance.run_record(model, 1, 0, command="coprod run")
    earlier = {
        "package", "version", "scenario", "scenario_sha256", "seed", "steps", "sites",
        "patients", "providers", "mesa", "numpy", "networkx", "python", "command", "created",
    }  # fmt: skip
    assert earlier <= set(record)
    assert record["scenario_sha256"] == provenance.sha256(model.parameters.to_toml())
    assert record["mesa"] == record["libraries"]["mesa"] and record["command"] == "coprod run"
    # The validation report's one line of environment, in its order.
    assert list(provenance.environment()) == ["coprod_sim", "python", "mesa", "numpy", "machine"]


def test_a_sweep_stores_every_planned_run_once_with_its_provenance(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec"))
    summary = run_experiment(experiment, tmp_path / "out", executor="sequential")
    assert (summary.planned, summary.completed, summary.failed) == (12, 12, 0)
    runs, series = results(tmp_path / "out")
    manifest = analysis.load_manifest(tmp_path / "out")
    assert sorted(runs["run_id"]) == sorted(manifest["run_id"])
    assert runs["run_id"].is_unique
    for column in ("run_id", "scenario_id", "replication", "seed", "power_sharing", "version"):
        assert runs[column].notna().all(), column
    assert len(series) == 12 * 3 and set(series["step"]) == {0, 4, 8}
    # Common random numbers: replication r has one seed, whatever the design point.
    assert (runs.groupby("replication")["seed"].nunique() == 1).all()


def test_a_run_reproduces_outside_the_engine(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=1))
    run_experiment(experiment, tmp_path / "out", executor="sequential")
    runs, _ = results(tmp_path / "out")
    row = runs[(runs["power_sharing"] == 7) & (runs["inclusion"] == "deliberate")].iloc[0]
    scenario = next(iter(experiment.bases.values())).with_overrides(
        {"power_sharing": 7, "inclusion": "deliberate"}
    )
    model = CoproductionModel.from_scenario(scenario, rng=int(row["seed"]))
    model.run_for(8)
    final = model.outputs.collaborative().iloc[-1]
    for outcome in ("patient_trust", "value", "equity_gap", "patient_originated"):
        assert row[outcome] == final[outcome]


def test_local_process_pool_and_sequential_give_the_same_data(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec"))
    run_experiment(experiment, tmp_path / "seq", executor="sequential")
    run_experiment(experiment, tmp_path / "pool", executor="local", workers=2)
    for seq, pool in zip(results(tmp_path / "seq"), results(tmp_path / "pool"), strict=True):
        pd.testing.assert_frame_equal(seq, pool)


def test_a_failing_run_is_recorded_retried_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec", retries=1))
    original = CoproductionModel.run_for

    def broken(self, steps):  # runs at rung 7 crash
        if self.parameters.power_sharing == 7:
            raise RuntimeError("simulated fault at rung 7")
        return original(self, steps)

    monkeypatch.setattr(CoproductionModel, "run_for", broken)
    summary = run_experiment(experiment, tmp_path / "out", executor="sequential")
    assert (summary.completed, summary.failed) == (6, 6)
    errors = analysis.load_errors(tmp_path / "out")
    assert len(errors) == 12  # two attempts each (retries = 1)
    assert set(errors["attempt"]) == {1, 2}
    assert errors["error"].str.contains("simulated fault at rung 7").all()
    assert errors["traceback"].str.contains("broken").all()
    assert (errors["power_sharing"] == 7).all() and errors["version"].notna().all()

    monkeypatch.setattr(CoproductionModel, "run_for", original)
    again = run_experiment(experiment, tmp_path / "out", executor="sequential")
    assert (again.already_done, again.completed, again.failed) == (6, 6, 0)
    run_experiment(experiment, tmp_path / "clean", executor="sequential")
    for fixed, clean in zip(results(tmp_path / "out"), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(fixed, clean)


def test_partial_and_orphaned_parts_are_never_counted(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec"))
    out = tmp_path / "out"
    run_experiment(experiment, out, executor="sequential", flush_runs=4)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    assert len(parts) == 3
    # A killed writer leaves a .tmp file; a disk fault truncates a part; a flush killed
    # between its two renames leaves a series part without its runs part.
    (out / "runs" / "part-000009.parquet.tmp").write_bytes(parts[0].read_bytes()[:100])
    parts[1].write_bytes(parts[1].read_bytes()[:200])
    (parts[2]).unlink()
    summary = run_experiment(experiment, out, executor="sequential")
    assert summary.partial_files == ["runs/part-000009.parquet.tmp"]
    assert sorted(summary.quarantined) == [
        "runs/part-000002.parquet",
        "series/part-000002.parquet",
        "series/part-000003.parquet",
    ]
    assert (summary.already_done, summary.completed) == (4, 8)
    run_experiment(experiment, tmp_path / "clean", executor="sequential")
    for resumed, clean in zip(results(out), results(tmp_path / "clean"), strict=True):
        pd.testing.assert_frame_equal(resumed, clean)


def test_a_folder_with_another_experiment_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_experiment(load_experiment(write_spec(tmp_path / "a")), out, executor="sequential")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = load_experiment(write_spec(tmp_path / "b", replications=4))
    with pytest.raises(FolderError, match=r"holds a different experiment.*replications"):
        run_experiment(other, out, executor="sequential")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(FolderError, match="holds other files"):
        run_experiment(other, foreign, executor="sequential")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


# --- analysis and report ------------------------------------------------------------------
def test_comparing_a_scenario_with_itself_gives_exactly_zero(tmp_path: Path) -> None:
    write_spec(tmp_path)
    spec = parse_spec(
        {
            "name": "same",
            "scenarios": {"a": {"scenario": "small.toml"}, "b": {"scenario": "small.toml"}},
            "replications": 3,
            "steps": 6,
        }
    )
    experiment = resolve(spec, "t", base_dir=tmp_path)
    run_experiment(experiment, tmp_path / "out", executor="sequential")
    runs = analysis.load_runs(tmp_path / "out")
    diffs = analysis.paired_differences(runs, ["patient_trust", "value"], "a", by="scenario")
    assert (diffs["difference"] == 0).all() and (diffs["low"] == 0).all()
    assert (diffs["high"] == 0).all()


# crisis_strain only acts during a crisis, and this scenario has none: it is inert.
SENSITIVITY_SPEC = """
name = "sensitivity"
scenario = "small.toml"
replications = 1
steps = 6
[design]
kind = "{kind}"
samples = {samples}
[factors]
initial_trust = { low = 0.2, high = 0.9 }
crisis_strain = { low = 0.0, high = 0.9 }
[outcomes]
final = ["patient_trust"]
"""


def _indices(tmp_path: Path, kind: str, samples: int) -> pd.DataFrame:
    text = SENSITIVITY_SPEC.replace("{kind}", kind).replace("{samples}", str(samples))
    experiment = load_experiment(write_spec(tmp_path / "spec", text=text))
    run_experiment(experiment, tmp_path / "out", executor="local", workers=2)
    return analysis.sensitivity(tmp_path / "out").set_index("factor")


def test_sobol_indices_find_the_factor_that_matters_and_the_inert_one(tmp_path: Path) -> None:
    indices = _indices(tmp_path, "sobol", 32)
    assert indices.loc["initial_trust", "ST"] > 0.8
    assert abs(indices.loc["crisis_strain", "ST"]) < 0.02
    assert 0 < indices.loc["initial_trust", "ST_conf"] < 0.5
    # The convergence check analyses the design's prefixes; the full one is the study itself.
    convergence = analysis.sobol_convergence(tmp_path / "out")
    assert sorted(convergence["N"].unique()) == [8, 16, 32]
    full = convergence[convergence["N"] == 32].set_index("outcome")
    outcome = indices["outcome"].iloc[0]
    assert full.loc[outcome, "ST_half_width"] == pytest.approx(
        indices[indices["outcome"] == outcome]["ST_conf"].max()
    )
    half = analysis.sensitivity(tmp_path / "out", base=16)  # the design of base 16
    at_16 = convergence[convergence["N"] == 16].set_index("outcome")
    assert at_16.loc[outcome, "S1_half_width"] == pytest.approx(
        half[half["outcome"] == outcome]["S1_conf"].max()
    )
    with pytest.raises(ValueError, match="power of 2"):
        analysis.sensitivity(tmp_path / "out", base=24)


def test_the_converged_n_is_the_smallest_from_which_every_outcome_stays_within_bounds() -> None:
    rows = [
        (8, "a", 0.2, 0.1), (8, "b", 0.04, 0.04), (16, "a", 0.04, 0.03), (16, "b", 0.06, 0.02),
        (32, "a", 0.03, 0.02), (32, "b", 0.04, 0.03), (64, "a", 0.02, 0.01), (64, "b", 0.03, 0.02),
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=["N", "outcome", "S1_half_width", "ST_half_width"])
    table["converged"] = table[["S1_half_width", "ST_half_width"]].max(axis=1) <= 0.05
    assert analysis.converged_n(table, ["a", "b"]) == 32
    assert analysis.converged_n(table, ["a"]) == 16
    assert analysis.converged_n(table[table["N"] < 32], ["a", "b"]) is None


def test_morris_ranks_the_factors_the_same_way(tmp_path: Path) -> None:
    indices = _indices(tmp_path, "morris", 6)
    assert indices.loc["initial_trust", "mu_star"] > 0.05
    assert indices.loc["crisis_strain", "mu_star"] == 0


def test_the_report_is_one_self_contained_file(tmp_path: Path) -> None:
    experiment = load_experiment(write_spec(tmp_path / "spec"))
    run_experiment(experiment, tmp_path / "out", executor="sequential")
    page = write_report(tmp_path / "out").read_text()
    assert page.count("data:image/png;base64,") >= 3  # outcomes, differences, series
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing loads from outside
    assert "http://" not in page and "https://" not in page  # nor is linked to
    assert "12 of 12 done, 0 failed" in page
    assert "Paired differences" in page
    for name in ("outcomes", "differences", "series"):
        assert (tmp_path / "out" / "figures" / f"{name}.png").stat().st_size > 1000
        assert (tmp_path / "out" / "figures" / f"{name}.svg").exists()


def test_the_readme_duckdb_queries_run_on_a_results_folder(tmp_path: Path) -> None:
    text = SPEC.replace(
        'final = ["patient_trust", "value", "equity_gap", "patient_originated"]',
        'final = ["patient_trust", "equity_gap", "heard_sex_workers", "patient_originated"]',
    )
    experiment = load_experiment(write_spec(tmp_path / "spec", text=text))
    run_experiment(experiment, tmp_path / "out", executor="sequential")
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", readme, re.S)
    assert len(queries) == 2
    here = str(tmp_path / "out")
    summary = duckdb.sql(queries[0].replace("results/power_x_inclusion", here)).df()
    assert len(summary) == 4 and (summary["n"] == 3).all()  # (rung, inclusion) x 3 reps
    gains = duckdb.sql(queries[1].replace("results/power_x_inclusion", here)).df()
    runs = analysis.load_runs(tmp_path / "out")
    at_7 = runs[runs["power_sharing"] == 7].pivot(
        index="replication", columns="inclusion", values="patient_originated"
    )
    expected = (at_7["deliberate"] - at_7["convenience"]).mean()
    assert gains.set_index("power_sharing").loc[7, "gain"] == pytest.approx(expected)


def test_the_header_records_provenance(tmp_path: Path) -> None:
    run_experiment(
        load_experiment(write_spec(tmp_path / "spec")),
        tmp_path / "out",
        executor="sequential",
        command="coprod sweep spec.toml --out out",
    )
    header = json.loads((tmp_path / "out" / "experiment.json").read_text())
    for key in ("fingerprint", "version", "created", "python", "command", "spec"):
        assert header[key], key
    for key in ("package", "platform", "machine"):
        assert header[key], key
    assert header["runs"] == 12 and header["factors"] == ["power_sharing", "inclusion"]
    assert header["spec"]["factors"]["power_sharing"] == [3, 7]
    assert set(header["libraries"]) >= {"mesa", "numpy", "SALib"}
    # The base scenario the runs started from, whole: `coprod run --scenario` takes it.
    (kept,) = (tmp_path / "out" / "scenarios").glob("*.toml")
    assert load_scenario(kept) == load_scenario(tmp_path / "spec" / "small.toml")


def test_every_part_has_the_manifest_s_types_so_duckdb_reads_them_as_one(tmp_path: Path) -> None:
    """0, 1 and 0.5 are doubles in every part, not integers in the parts that hold no 0.5."""
    text = SPEC.replace('inclusion = ["convenience", "deliberate"]', "feedback_loop = [0, 1, 0.5]")
    experiment = load_experiment(write_spec(tmp_path / "spec", replications=2, text=text))
    run_experiment(experiment, tmp_path / "out", executor="sequential", flush_runs=1)
    parts = sorted((tmp_path / "out" / "runs").glob("part-*.parquet"))
    assert len(parts) == 12
    assert {str(pq.read_schema(p).field("feedback_loop").type) for p in parts} == {"double"}
    counts = duckdb.sql(
        f"SELECT feedback_loop, count(*) AS n FROM '{tmp_path}/out/runs/*.parquet' "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert counts == [(0.0, 4), (0.5, 4), (1.0, 4)]


def test_a_re_run_may_change_the_retries_but_not_what_decides_the_data(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", replications=1, steps=5)
    out = tmp_path / "out"
    run_experiment(load_experiment(spec), out, executor="sequential")
    again = run_experiment(load_experiment(spec, retries=3), out, executor="sequential")
    assert again.already_done == 4
    with pytest.raises(FolderError, match="differs in outcomes, steps"):
        run_experiment(load_experiment(spec, steps=6), out, executor="sequential")


def test_second_order_sobol_indices_come_with_their_confidence(tmp_path: Path) -> None:
    text = SENSITIVITY_SPEC.replace("{kind}", "sobol").replace("{samples}", "8")
    text = text.replace("[factors]", "second_order = true\n[factors]")
    experiment = load_experiment(write_spec(tmp_path / "spec", text=text))
    assert len(experiment.points) == 8 * (2 * 2 + 2)
    run_experiment(experiment, tmp_path / "out", executor="local", workers=2)
    indices = analysis.sensitivity(tmp_path / "out").set_index("factor")
    pair = indices.loc["initial_trust × crisis_strain"]
    assert np.isfinite(pair["S2"]) and pair["S2_conf"] > 0
    assert np.isnan(pair["S1"])  # a pair has no first-order index of its own


def test_every_bad_input_is_an_input_error_of_its_own_kind(tmp_path: Path) -> None:
    """One hierarchy: the CLI refuses any InputError; each kind says what was wrong."""
    from coprod_sim.errors import ExecutorError, InputError, ScenarioError

    spec = write_spec(tmp_path / "spec", replications=1, steps=5)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    cases = [
        (FolderError, "invalid results folder", lambda: run_experiment(
            load_experiment(spec), tmp_path / "out", executor="sequential")),
        (ExecutorError, "invalid executor", lambda: run_experiment(
            load_experiment(spec), tmp_path / "new", executor="dask", address="127.0.0.1")),
        (ScenarioError, "invalid scenario", lambda: load_scenario("careqic", ["team_size=0"])),
    ]  # fmt: skip
    for kind, head, call in cases:
        with pytest.raises(kind) as caught:
            call()
        assert isinstance(caught.value, InputError)
        assert not isinstance(caught.value, SpecError | ScenarioError) or kind is ScenarioError
        assert caught.value.render().startswith(head), caught.value.render()
    assert not (tmp_path / "new").exists()  # refused before anything was written


def test_the_spec_module_s_example_is_a_spec_that_runs(tmp_path: Path) -> None:
    """The example at the top of ``experiments/spec.py`` must stay a valid spec."""
    from coprod_sim.experiments import spec as spec_module

    doc = spec_module.__doc__ or ""
    lines = doc.split("::\n\n", 1)[1].splitlines()
    # The example is the indented block: it ends at the first line that is not indented.
    end = next(i for i, line in enumerate(lines) if line and not line.startswith("    "))
    example = "\n".join(line.removeprefix("    ") for line in lines[:end])
    (tmp_path / "example.toml").write_text(example)
    experiment = load_experiment(tmp_path / "example.toml")
    assert experiment.spec.factors["power_sharing"] == [3, 4, 5, 6, 7]
    assert len(experiment.points) == 10
