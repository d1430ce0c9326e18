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
from coprod_sim.validation import checks
from coprod_sim.validation.report import write_validation_report
from coprod_sim.validation.study import QUICK_REPLICATIONS, Study, run_study, spec_names

SPECS = Path(__file__).resolve().parents[1] / "experiments" / "validation"

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
        "under convenience recruitment the key populations are least heard",
        "without deliberate inclusion the equity gap persists or widens",
        "deliberate inclusion hears the key populations more",
        "deliberate inclusion leaves a smaller equity gap than convenience",
    ],
    "Fact 5": [
        "equal-status contact reduces provider stigma",
        "how much depends on status and authority support",
        "how fast depends on cooperation and common goals",
    ],
    "Fact 6": [
        "…but more sustained after support ends (week 52)",
        "…and more changes are sustained",
    ],
    "Fact 7": [
        "small groups hear more of their patient voices than large ones",
        "…and a middle-sized group hears more than a large one",
    ],
    "Fact 8": [
        "a crisis erodes patients' trust",
        "…and erodes capacity",
        "recovery lags (hysteresis)",
    ],
    "Fact 9": ["trust is needed for coproduction", "trust is produced by coproduction"],
    "CaReQIC case": [
        "patient input is used",
        "patient input is valued",
        "changes staff had not thought of",
        "stigma falling",
        "empathy growing",
        "trust growing",
        "…stigma falls further than without patient partners",
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
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 4 + len(result.facts)
    for image in images:
        assert (report.parent / image).stat().st_size > 5_000
    not_holding = table[table["verdict"] != "holds"]
    section = text.split("## What the model does not produce")[1]
    for row in not_holding.itertuples():
        assert f"**{row.subject}**, {row.claim}: {row.verdict}" in section
    assert "quick subset" in text and "Region sweep not run" in text
    assert "https://" not in text  # nothing to fetch


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
