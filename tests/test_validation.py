"""The validation study's CI subset: reductions and each stylized fact's pipeline at reduced size.

The quick study (``coprod validate --quick``) runs once per session: each fact's main
spec at 8 replications with the spec's fixed seed, the reductions at reduced size.
The canonical reductions are asserted, each to the tolerance stated in
:mod:`coprod_sim.validation.reductions`. The stylized facts' verdicts are not: CI must
never push the model toward a verdict, so for each fact it checks only that its pipeline
runs and reports every check with an estimate, an interval and one of the verdicts.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from coprod_sim.cli import app
from coprod_sim.experiments.engine import run_experiment
from coprod_sim.experiments.spec import load_experiment, parse_spec
from coprod_sim.experiments.stats import Interval
from coprod_sim.scenario import load_scenario
from coprod_sim.validation import checks, facts
from coprod_sim.validation.facts import (
    fact1_tokenism,
    fact2_feedback,
    fact6_slower_sustained,
    fact8_crisis,
)
from coprod_sim.validation.report import write_validation_report
from coprod_sim.validation.study import (
    QUICK_REPLICATIONS,
    Study,
    StudyError,
    evaluate,
    run_study,
    spec_names,
)

SPECS = Path(__file__).resolve().parents[1] / "coprod_sim" / "validation" / "specs"

# Every fact check, by its stable id, in the report's order: renaming one is a decision.
IDS = {
    "fact1": ["patient_originated", "value"],
    "fact2": ["trust", "dropout"],
    "fact3": ["activity", "value"],
    "fact4": ["heard_below_share", "gap_widens", "heard_more", "gap_smaller", "gap_narrows"],
    "fact5": ["stigma_falls", "how_much", "how_fast", "final_level"],
    "fact6": ["slower", "sustained_uptake", "sustained_share"],
    "fact7": ["small_vs_large", "middle_vs_large"],
    "fact8": [
        "trust_erodes", "capacity_erodes", "hysteresis", "patient_trust_recovers",
        "representative_trust_recovers", "capacity_recovers",
    ],
    "fact9": ["needed", "produced", "lasting", "no_take_off", "tipping_point", "bistable"],
    "careqic": [
        "input_used", "input_valued", "value", "unthought", "stigma_further", "empathy_further",
        "trust_further",
    ],
    "cascade": [
        "suppression_vs_staff_led", "retention_vs_staff_led", "people_vs_staff_led",
        "suppression_vs_tokenistic", "retention_vs_tokenistic", "people_vs_tokenistic",
        "all_suppression_vs_staff_led",
    ],
}  # fmt: skip


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


def test_every_fact_and_check_has_its_stable_id(study) -> None:
    result, _ = study
    assert [f.fact.id for f in result.facts] == list(IDS)
    table = result.checks()
    ids = [i for i in table["id"].dropna() if not i.startswith("plausibility.")]
    assert ids == [f"{fact}.{check}" for fact, checks in IDS.items() for check in checks]
    assert table["id"].isna().sum() == sum(len(r.checks) for r in result.reductions)
    patterns = table[table["id"].fillna("").str.startswith("plausibility.")]
    assert patterns["verdict"].eq("reported").all() and len(patterns) == 2


@pytest.mark.parametrize("fact", list(IDS))
def test_each_fact_s_pipeline_reports_every_check_with_a_verdict(study, fact: str) -> None:
    result, _ = study
    found = result.checks().set_index("id")
    for check in IDS[fact]:
        row = found.loc[f"{fact}.{check}"]
        assert row.verdict in checks.VERDICTS, (check, row.verdict)
        assert np.isfinite(row.estimate), (check, row.estimate)
        if row.kind in ("fact", "mechanism") and check != "bistable":
            assert np.isfinite(row.margin), check  # declared in the spec
        if np.isfinite(row.low) and np.isfinite(row.high):
            assert row.low <= row.estimate <= row.high or row.verdict == "not shown", check


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
    not_holding = table[~table["verdict"].isin(["holds", "reported"])]
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
    marks = r"\| (✅ holds|🟰 no important difference|➖ not shown|❌ does not hold) \|"
    again = re.findall(marks, report.read_text())
    first = re.findall(marks, (result.out.parent / "docs" / "validation.md").read_text())
    verdicts = result.checks()["verdict"]
    assert again == first and len(first) == int((verdicts != "reported").sum())


def test_every_mechanism_check_shows_its_rule_at_work_in_the_ci_subset(study) -> None:
    """A mechanism check follows from one rule alone: at CI size its 95% interval must lie on
    the rule's side of zero, or the rule is not wired in. (Whether the effect is beyond the
    claim's margin after the study's adjustment is the full study's verdict, not asserted.)"""
    result, _ = study
    table = result.checks()
    mechanism = table[table["kind"] == "mechanism"]
    assert len(mechanism) >= 8 and mechanism["rule"].str.len().gt(0).all()
    shown = [
        checks.margin_verdict(row.low, row.high, row.direction, 0.0) == "holds"
        for row in mechanism.itertuples()
    ]
    failing = mechanism[~np.array(shown)]
    assert failing.empty, failing[["id", "estimate", "low", "high"]].to_string()


def test_the_report_states_the_adjustment_and_how_many_claims(study) -> None:
    result, report = study
    text = report.read_text()
    claims = result.claims
    assert f"the study's {len(claims)} claims" in text and "Holm" in text
    assert "## Mechanism checks" in text and "## Plausibility patterns" in text


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


# --- each fact reads the spec that ran --------------------------------------------------------
def ran(
    factors: dict[str, list] | None = None,
    scenarios: dict[str, tuple[str, dict]] | None = None,
) -> facts.SpecRun:
    """What a results folder of a factorial spec would say ran, without running it."""
    factors = factors or {}
    scenarios = scenarios or {"careqic": ("careqic", {})}
    spec = parse_spec({"name": "x", "factors": factors})
    bases = {label: load_scenario(name, s) for label, (name, s) in scenarios.items()}
    cells = list(itertools.product(*factors.values())) or [()]
    manifest = pd.DataFrame([dict(zip(factors, cell, strict=True)) for cell in cells])
    return facts.SpecRun(Path("out"), "specs/x.toml", spec, bases, manifest)


def test_fact_1_contrasts_arnstein_s_bands_among_the_spec_s_rungs() -> None:
    arms = fact1_tokenism.arms
    assert arms(ran({"power_sharing": [3, 4, 5, 6, 7, 8]})) == (
        {"power_sharing": [3, 4, 5]}, {"power_sharing": [6, 7, 8]}, "rungs 6–8 minus rungs 3–5"
    )  # fmt: skip
    assert arms(ran({"power_sharing": [4, 7], "voice_base": [0.0]}))[2] == "rung 7 minus rung 4"
    assert arms(ran({"power_sharing": [1, 3, 5, 8]}))[:2] == (
        {"power_sharing": [3, 5]}, {"power_sharing": [8]}
    )  # fmt: skip
    message = "specs/x.toml: factors.power_sharing = [3, 4]: needs a rung of the citizen power"
    with pytest.raises(facts.SpecMismatchError, match=re.escape(message)):
        arms(ran({"power_sharing": [3, 4]}))
    with pytest.raises(facts.SpecMismatchError, match=r"factors = \['voice_base'\]: needs a fac"):
        arms(ran({"voice_base": [0.0, 1.0]}))


def test_fact_2_contrasts_the_lowest_and_the_highest_feedback_loop() -> None:
    ignored, closed, words = fact2_feedback.arms(ran({"feedback_loop": [0.5, 0.0, 0.9]}))
    assert (ignored, closed, words) == (
        {"feedback_loop": 0.0}, {"feedback_loop": 0.9}, "feedback loop 0.9 minus 0"
    )  # fmt: skip
    with pytest.raises(facts.SpecMismatchError, match=r"= \[0.9\]: needs at least two levels"):
        fact2_feedback.arms(ran({"feedback_loop": [0.9]}))


def test_values_of_the_scenarios_come_from_the_bases_that_ran() -> None:
    both = {"coproduced": ("careqic", {"support_weeks": 30}), "staff_led": ("staff-led", {})}
    with pytest.raises(facts.SpecMismatchError, match=r"support_weeks = \{'coproduced': 30, 'st"):
        fact6_slower_sustained.support_ends(ran(scenarios=both))  # the preset's is 52
    both["staff_led"] = ("staff-led", {"support_weeks": 30})
    assert fact6_slower_sustained.support_ends(ran(scenarios=both)) == 30
    # A factor replaces the base's value in the runs: the base no longer says what ran.
    varied = ran({"support_weeks": [26, 52]}, {k: ("careqic", {}) for k in both})
    with pytest.raises(facts.SpecMismatchError, match=re.escape("support_weeks = [26, 52]: the")):
        fact6_slower_sustained.support_ends(varied)
    labels = re.escape("scenarios = ['coproduced', 'staff_led']: needs a scenario labelled 'top_d")
    with pytest.raises(facts.SpecMismatchError, match=labels):
        fact8_crisis.crisis_weeks(varied)
    calm = ran(scenarios={"top_down": ("careqic", {}), "coproduced": ("careqic", {})})
    with pytest.raises(facts.SpecMismatchError, match="crisis_week = None: needs a crisis in to"):
        fact8_crisis.crisis_weeks(calm)
    crisis = ran(scenarios={"top_down": ("crisis", {}), "coproduced": ("crisis", {})})
    assert fact8_crisis.crisis_weeks(crisis) == (29, 42)


def test_a_spec_without_what_its_fact_reads_stops_the_study_naming_it(tmp_path: Path) -> None:
    # Fact 3's spec with its coproduced arm labelled otherwise: two tiny runs, then evaluated.
    spec = tmp_path / "fact3_staff_assumptions.toml"
    spec.write_text(
        'name = "fact3_staff_assumptions"\nreplications = 1\nsteps = 2\n'
        '[scenarios.together]\nscenario = "careqic"\n'
        '[scenarios.staff_led]\nscenario = "staff-led"\n'
        '[outcomes]\nfinal = ["ideas_tested", "value"]\n'
    )
    out = tmp_path / "results"
    run_experiment(load_experiment(spec), out / spec.stem, executor="sequential")
    fact = next(f for f in facts.FACTS if f.spec == spec.stem)
    with pytest.raises(StudyError) as raised:
        evaluate(fact, facts.StudyData(out), regions=False)
    message = str(raised.value)
    assert message.startswith(f"Fact 3 cannot be evaluated from {out / spec.stem}: {spec}")
    assert "scenarios = ['together', 'staff_led']: needs a scenario labelled 'coproduced'" in (
        message
    )
    # An outcome the fact reads that the spec does not keep is named with the spec's list.
    spec.write_text(spec.read_text().replace('"ideas_tested", ', ""))
    spec.write_text(spec.read_text().replace("together", "coproduced"))
    run_experiment(load_experiment(spec), out / "again" / spec.stem, executor="sequential")
    with pytest.raises(StudyError, match=re.escape("outcomes.final = ['value']: needs ideas_t")):
        evaluate(fact, facts.StudyData(out / "again"), regions=False)


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
    groups, key = ("general", "msm", "unhoused"), ("msm", "unhoused")
    derived = facts.derive(table.copy(), groups, key)
    assert derived["stigma_key"][0] == pytest.approx(0.5)
    assert derived["heard_key"][0] == 1 and derived["heard_key_share"][0] == pytest.approx(0.25)
    # The key populations are the scenario's, whatever the other groups are called.
    derived = facts.derive(table.copy(), groups, ("general", "msm"))
    assert derived["stigma_key"][0] == pytest.approx(0.4)
    assert derived["heard_key_share"][0] == pytest.approx(1.0)
    # Without a key population's column there is no mean over the key populations.
    assert "stigma_key" not in facts.derive(table.drop(columns="stigma_msm"), groups, key)
    careqic = load_scenario("careqic")
    key_patients = sum(
        s.count * s.patients * sum(s.group_shares.get(g, 0.0) for g in careqic.key_populations)
        for s in careqic.sites
    )
    assert facts.key_population_share(careqic) == pytest.approx(key_patients / careqic.n_patients)
    assert 0 < facts.key_population_share(careqic) < 1


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


# --- margins and multiple comparisons ---------------------------------------------------------
@pytest.mark.parametrize(
    ("low", "high", "direction", "verdict"),
    [
        (0.03, 0.05, "above", "holds"),  # wholly beyond m = 0.02
        (-0.01, 0.015, "above", "no important difference"),  # within ±m
        (-0.05, 0.01, "above", "does not hold"),  # short of m, not within ±m
        (-0.05, -0.03, "above", "does not hold"),  # the wrong way
        (0.01, 0.05, "above", "not shown"),  # contains m
        (-0.05, -0.03, "below", "holds"),
        (0.03, 0.05, "below", "does not hold"),
        (float("nan"), float("nan"), "above", "not shown"),
    ],
)
def test_a_claim_s_verdict_reads_its_interval_against_its_margin(low, high, direction, verdict):
    assert checks.margin_verdict(low, high, direction, 0.02) == verdict


def test_holm_adjusts_step_down_as_holm_1979() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> monotone 0.06.
    np.testing.assert_allclose(checks._holm_adjust(p), [0.03, 0.06, 0.06, 0.02])


def test_the_adjustment_can_only_withdraw_a_verdict_it_would_reach_alone() -> None:
    """One claim: Holm changes nothing. Many claims: each needs more evidence."""

    def one(mean: float, half: float) -> checks.Check:
        return checks.claim("s", "c", "m", Interval(mean, mean - half, mean + half, 20),
                            "above", (0.02, ""))  # fmt: skip

    alone = checks.holm([one(0.05, 0.02)])
    assert alone[0].verdict == "holds" and alone[0].p_adjusted < checks.ALPHA
    crowd = checks.holm([one(0.05, 0.0295)] + [one(0.0, 0.05)] * 30)
    assert one(0.05, 0.0295).verdict == "holds" and crowd[0].verdict == "not shown"
    assert checks.holm([one(0.0, 0.01)])[0].verdict == "no important difference"


def test_a_spec_without_the_claim_s_margin_stops_the_study_naming_it(tmp_path: Path) -> None:
    text = (SPECS / "fact2_feedback.toml").read_text()
    text = text[: text.index("[claims.trust]")]  # no margins declared
    (tmp_path / "fact2_feedback.toml").write_text(text)
    spec = load_experiment(tmp_path / "fact2_feedback.toml", replications=2, steps=4)
    out = tmp_path / "results" / "fact2_feedback"
    run_experiment(spec, out, workers=1)
    from coprod_sim.validation.facts import StudyData, fact2_feedback

    with pytest.raises(StudyError, match=r"claims.*needs \[claims\.trust\]"):
        evaluate(fact2_feedback.FACT, StudyData(tmp_path / "results"), regions=False)
