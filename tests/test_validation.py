"""The validation study's CI subset: reductions and each stylized fact at reduced size.

The quick study (``coprod validate --quick``) runs once per session: each fact's main
spec at 8 replications with the spec's fixed seed, the reductions at reduced size.
The facts below are asserted where the full study shows them (docs/validation.md);
the tolerance of each is the 95% paired interval lying on the claimed side of zero,
and of each reduction the tolerance stated in :mod:`coprod_sim.validation.reductions`.
Checks the model does not produce are not asserted either way: they must be reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from coprod_sim.cli import app
from coprod_sim.experiments.stats import Interval
from coprod_sim.validation import checks, facts
from coprod_sim.validation.report import write_validation_report
from coprod_sim.validation.study import QUICK_REPLICATIONS, Study, run_study, spec_names

SPECS = Path(__file__).resolve().parents[1] / "coprod_sim" / "validation" / "specs"

# Claims that hold in the full study and must hold in the CI subset.
EXPECTED = {
    "Fact 1": [
        "partnership adopts more patient-originated changes than tokenism",
        "partnership delivers more of what matters to patients",
    ],
    "Fact 2": [
        "closing the loop builds representatives' trust",
        "ignored input makes representatives drop out",
    ],
    "Fact 3": [
        "without patient voice, improvement activity stays high",
        "…but its value to patients is lower",
    ],
    "Fact 4": [
        "under convenience recruitment the key populations are heard far less than their "
        "share of patients",
        "without deliberate inclusion the equity gap widens",
        "deliberate inclusion hears the key populations more",
        "deliberate inclusion leaves a smaller equity gap than convenience",
    ],
    "Fact 5": [
        "equal-status contact reduces provider stigma",
        "how much depends on status and authority support",
        "how fast depends on cooperation and common goals",
    ],
    "Fact 6": [
        "…but more sustained after support ends",
        "…and a larger share of its changes is sustained",
    ],
    "Fact 7": [
        "small groups hear more of their patient voices than large ones",
        "…and a middle-sized group hears more than a large one",
    ],
    "Fact 8": [
        "a crisis erodes patients' trust",
        "…and erodes capacity: changes fall out of use",
        "recovery lags (hysteresis)",
    ],
    "Fact 9": ["trust is needed for coproduction", "trust is produced by coproduction"],
    "CaReQIC case": [
        "patient input is used",
        "patient input is valued",
        "…and care is worth more to patients",
        "changes staff had not thought of",
        "stigma falling",
        "empathy growing",
        "trust growing",
        "…empathy grows more than without patient partners",
        "…trust grows more than without patient partners",
    ],
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, Path]:
    root = tmp_path_factory.mktemp("validation")
    result = run_study(SPECS, root / "results", quick=True, workers=2, log=lambda _: None)
    report = write_validation_report(result, root / "docs" / "validation.md", "test")
    return result, report


def test_the_quick_study_runs_each_fact_at_reduced_size(study) -> None:
    result, _ = study
    assert spec_names(quick=True) == [f.fact.spec for f in result.facts]
    for fact in result.facts:
        runs = result.data.runs(fact.fact.spec)
        assert runs["replication"].nunique() == QUICK_REPLICATIONS
        assert not runs.empty and fact.checks


def test_every_canonical_reduction_holds(study) -> None:
    result, _ = study
    assert len(result.reductions) == 4
    for reduction in result.reductions:
        failing = [
            (c.claim, c.estimate, c.criterion) for c in reduction.checks if c.verdict != "holds"
        ]
        # Near Granovetter's critical spread a finite sample is reported, not required.
        failing = [f for f in failing if "critical" not in f[2]]
        assert not failing, reduction.name


@pytest.mark.parametrize("subject", list(EXPECTED))
def test_the_stylized_fact_holds_at_reduced_size(study, subject: str) -> None:
    result, _ = study
    table = result.checks()
    assert not table.duplicated(["subject", "claim"]).any()  # each claim names one check
    found = {c.claim: c for c in table.itertuples() if c.subject == subject}
    for claim in EXPECTED[subject]:
        check = found[claim]
        assert check.verdict == "holds", (claim, check.estimate, check.low, check.high)


def test_the_report_shows_every_check_and_figure_and_lists_what_fails(study) -> None:
    result, report = study
    text = report.read_text()
    table = result.checks()
    for claim in table["claim"]:
        assert claim.replace("|", "\\|") in text
    images = re.findall(r"!\[[^\]]*\]\(<([^>]+)>\)", text)
    assert len(images) == 4 + len(result.facts)
    for image in images:
        assert (report.parent / image).stat().st_size > 5_000
    # Every other link is relative and leads to a file of the study (its specs).
    links = re.findall(r"(?<!!)\[[^\]]*\]\(<([^>]+)>\)", text)
    assert len(links) >= 1 + len(result.facts)
    for link in links:
        assert (report.parent / link).exists(), link
    not_holding = table[table["verdict"] != "holds"]
    section = text.split("## What the model does not produce")[1]
    for row in not_holding.itertuples():
        assert f"**{row.subject}**, {row.claim}: {row.verdict}" in section
    assert "quick subset" in text and "Region sweep not run" in text


def test_a_rerun_resumes_and_reports_the_same_verdicts(study, tmp_path: Path) -> None:
    result, _ = study
    report = tmp_path / "validation.md"
    outcome = CliRunner().invoke(
        app,
        ["validate", "--quick", "--out", str(result.out), "--report", str(report), "--specs",
         str(SPECS), "--workers", "2"],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.count("(0 now)") == len(spec_names(quick=True))
    again = re.findall(r"\| (✅ holds|➖ not shown|❌ does not hold) \|", report.read_text())
    first = re.findall(
        r"\| (✅ holds|➖ not shown|❌ does not hold) \|",
        (result.out.parent / "docs" / "validation.md").read_text(),
    )
    assert again == first and len(first) == len(result.checks())


def test_validate_rejects_a_specs_folder_without_the_study(tmp_path: Path) -> None:
    (tmp_path / "fact1_tokenism.toml").write_text((SPECS / "fact1_tokenism.toml").read_text())
    outcome = CliRunner().invoke(
        app, ["validate", "--specs", str(tmp_path), "--out", str(tmp_path / "out")]
    )
    assert outcome.exit_code == 2
    assert "fact2_feedback.toml" in outcome.output and str(tmp_path) in outcome.output
    assert not (tmp_path / "out").exists()
    outcome = CliRunner().invoke(app, ["validate", "--specs", str(tmp_path / "nowhere")])
    assert outcome.exit_code == 2 and "not a folder" in outcome.output


# --- the verdict rules -------------------------------------------------------------------------
def interval(mean: float, low: float, high: float) -> Interval:
    return Interval(np.float64(mean), np.float64(low), np.float64(high), 8)


@pytest.mark.parametrize(
    ("low", "high", "direction", "verdict"),
    [
        (0.1, 0.3, "above", "holds"),
        (0.1, 0.3, "below", "does not hold"),
        (-0.3, -0.1, "below", "holds"),
        (-0.3, -0.1, "above", "does not hold"),
        (-0.1, 0.3, "above", "not shown"),
        (-0.1, 0.3, "below", "not shown"),
        (np.nan, np.nan, "above", "not shown"),
    ],
)
def test_a_directional_claim_needs_its_interval_on_the_claimed_side(low, high, direction, verdict):
    assert checks.directional_verdict(interval(0.0, low, high), direction) == verdict


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(-0.01, 0.015, "holds"), (0.03, 0.05, "does not hold"), (-0.01, 0.05, "not shown")],
)
def test_a_claim_of_no_difference_needs_its_interval_inside_the_margin(low, high, verdict):
    check = checks.equivalent("s", "c", "m", interval(0.0, low, high), margin=0.02)
    assert check.verdict == verdict


def test_paired_contrasts_use_only_replications_both_sides_have() -> None:
    a = pd.Series([1.0, 2.0, 3.0, 9.0], index=[0, 1, 2, 3])
    b = pd.Series([2.0, 3.5, 4.0], index=[0, 1, 2])
    result = checks.paired(a, b)
    assert result.n == 3 and float(result.mean) == pytest.approx((1 + 1.5 + 1) / 3)
    with pytest.raises(ValueError, match="no replication in common"):
        checks.paired(a, pd.Series([1.0], index=[7]))


def test_a_region_applies_the_contrast_in_each_cell() -> None:
    rows = [
        {"replication": r, "voice": v, "arm": arm, "y": r + (v * 2.0 if arm == "b" else 0.0)}
        for r in range(5)
        for v in (-1, 0, 1)
        for arm in ("a", "b")
    ]
    table = pd.DataFrame(rows)
    table.loc[(table["voice"] == 0) & (table["arm"] == "b"), "y"] += [0.5, -0.5, 0.3, -0.3, 0]
    measure = lambda t: checks.paired(  # noqa: E731
        checks.per_replication(t, {"arm": "a"}, "y"), checks.per_replication(t, {"arm": "b"}, "y")
    )
    found = checks.region(table, ["voice"], measure, "above")
    assert found["verdict"].tolist() == ["does not hold", "not shown", "holds"]
    assert found["estimate"].tolist() == pytest.approx([-2.0, 0.0, 2.0])
    with pytest.raises(KeyError, match="arms"):
        checks.select(table, {"arms": "a"})


# --- the measures, on small tables whose answer is known ---------------------------------------
def test_a_site_s_wait_for_its_first_change_is_read_off_the_sites_with_changes() -> None:
    # 4 sites: two have a change from week 1, the others from week 11 and week 21.
    weeks = range(0, facts.FIRST_WEEKS + 1)
    with_changes = [0 if w < 1 else 2 if w < 11 else 3 if w < 21 else 4 for w in weeks]
    series = pd.DataFrame(
        {"replication": 0, "scenario": "a", "step": list(weeks), "sites_with_changes": with_changes}
    )
    waiting = facts.site_weeks_waiting(series, {"scenario": "a"}, sites=4)
    assert waiting[0] == pytest.approx((0 + 0 + 10 + 20) / 4)


def test_derived_columns_average_stigma_and_share_the_heard() -> None:
    table = pd.DataFrame(
        {
            "stigma_general": [0.2], "stigma_msm": [0.6], "stigma_unhoused": [0.4],
            "heard_general": [3], "heard_msm": [1], "heard_unhoused": [0],
        }
    )  # fmt: skip
    derived = facts._derive(table)
    assert derived["stigma_key"][0] == pytest.approx(0.5)
    assert derived["heard_key"][0] == 1 and derived["heard_key_share"][0] == pytest.approx(0.25)
    assert 0 < facts.key_population_share() < 1


def response(levels: list[float], curve, replications: int = 12) -> pd.DataFrame:
    noise = np.random.default_rng(3).normal(0, 0.5, (replications, len(levels)))
    return pd.DataFrame(
        [
            {"replication": r, "initial_trust": t, "patient_originated": curve(t) + noise[r, k]}
            for r in range(replications)
            for k, t in enumerate(levels)
        ]
    )


def test_a_tipping_point_is_a_step_many_times_steeper_than_the_average() -> None:
    levels = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    straight = facts.steepest_rise(response(levels, lambda t: 100 * t))
    assert 0.9 < straight.mean < 1.5 and straight.high < facts.TIPPING_SLOPE
    step = facts.steepest_rise(response(levels, lambda t: 60.0 if t >= 0.3 else 2.0))
    assert step.mean > 5 and step.low > facts.TIPPING_SLOPE
    flat = facts.steepest_rise(response(levels, lambda t: 5.0))
    assert np.isnan(flat.low)  # no rise: no tipping point to find, and no interval
    assert facts.steepest_rise(response(levels, lambda t: 100 * t)) == straight  # seeded


def test_a_change_is_paired_within_each_replication() -> None:
    series = pd.DataFrame(
        {"replication": [0, 0, 1, 1], "step": [0, 78, 0, 78], "arm": "a", "y": [1.0, 3.0, 5, 4]}
    )
    assert checks.change(series, {"arm": "a"}, "y", 0, 78).tolist() == [2.0, -1.0]
