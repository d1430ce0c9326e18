"""Scenarios: presets, the TOML round trip, overrides and clear errors for bad input."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from coprod_sim import (
    CoproductionModel,
    Scenario,
    ScenarioError,
    load_scenario,
    preset_names,
    scenario_from_text,
)
from coprod_sim.scenario import preset_summary

from .conftest import small_scenario

REQUIRED_PRESETS = {"careqic", "tokenistic", "partnership", "staff-led", "crisis", "jaqic"}


def problems_of(excinfo: pytest.ExceptionInfo[ScenarioError]) -> str:
    return "\n".join(str(p) for p in excinfo.value.problems)


# --- presets -----------------------------------------------------------------------------
def test_required_presets_exist() -> None:
    assert set(preset_names()) >= REQUIRED_PRESETS


@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_preset_loads_with_a_one_line_summary(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    summary = preset_summary(name)
    assert summary and "\n" not in summary


def test_careqic_has_the_published_structure() -> None:
    s = load_scenario("careqic")
    teams = {site.name: site.count for site in s.sites}
    assert teams == {"Jamaica": 20, "Suriname": 3, "Trinidad & Tobago": 2, "Barbados": 1}
    assert s.n_sites == 26
    assert s.n_patients >= 8000
    assert s.inclusion == "deliberate"
    assert [g.name for g in s.groups if g.key_population] == [
        "msm",
        "sex_workers",
        "transgender",
        "unhoused",
    ]


def test_key_populations_are_the_flagged_groups_in_group_order() -> None:
    s = load_scenario("careqic")
    assert s.key_populations == tuple(g.name for g in s.groups if g.key_population)
    assert s.key_populations == ("msm", "sex_workers", "transgender", "unhoused")
    groups = [g.model_dump() | {"key_population": False} for g in s.groups]
    assert small_scenario(groups=groups).key_populations == ()


def test_presets_differ_where_their_names_say() -> None:
    careqic, tokenistic = load_scenario("careqic"), load_scenario("tokenistic")
    partnership, staff_led = load_scenario("partnership"), load_scenario("staff-led")
    crisis = load_scenario("crisis")
    assert 3 <= tokenistic.power_sharing <= 5 and tokenistic.inclusion == "convenience"
    assert partnership.power_sharing >= careqic.power_sharing >= 6
    assert staff_led.representative_seats == 0
    assert crisis.crisis_week is not None and careqic.crisis_week is None


# --- TOML round trip -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_toml_round_trip_is_exact(name: str) -> None:
    scenario = load_scenario(name)
    text = scenario.to_toml()
    again = Scenario.from_toml(text)
    assert again == scenario
    assert again.to_toml() == text


_FLOAT_FIELDS = [
    name
    for name, info in Scenario.model_fields.items()
    if info.annotation is float and name not in {"initial_stigma"}
]


@given(
    values=st.dictionaries(
        st.sampled_from(_FLOAT_FIELDS),
        st.floats(0, 1, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=8,
    ),
    power=st.integers(1, 8),
    inclusion=st.sampled_from(["convenience", "deliberate"]),
    crisis=st.one_of(st.none(), st.integers(1, 200)),
)
def test_toml_round_trip_holds_for_any_valid_scenario(values, power, inclusion, crisis) -> None:
    try:
        scenario = small_scenario(
            power_sharing=power, inclusion=inclusion, crisis_week=crisis, **values
        )
    except ScenarioError:
        assume(False)  # outside a field's range: not what this test is about
    again = Scenario.from_toml(scenario.to_toml())
    assert again == scenario
    for name, value in values.items():
        assert getattr(again, name) == value  # exact, not approximately


# --- extends and overrides ------------------------------------------------------------------
def test_a_file_can_extend_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('extends = "careqic"\nname = "mine"\npower_sharing = 4\n')
    scenario = load_scenario(path)
    assert scenario.power_sharing == 4 and scenario.name == "mine"
    assert scenario.sites == load_scenario("careqic").sites


def test_text_from_outside_a_folder_extends_presets_only_and_keeps_its_name() -> None:
    text = 'extends = "careqic"\nname = "mine"\npower_sharing = 4\n'
    assert scenario_from_text(text, "upload.toml") == load_scenario("careqic").with_overrides(
        {"name": "mine", "power_sharing": 4}
    )
    with pytest.raises(ScenarioError) as refused:
        scenario_from_text('extends = "base.toml"\n', "upload.toml")
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("extends", "base.toml")
    assert "must name a preset" in problem.allowed and "careqic" in problem.allowed
    with pytest.raises(ScenarioError) as broken:
        scenario_from_text("power_sharing = [", "upload.toml")
    assert broken.value.problems[0].value == "upload.toml"


def test_extends_resolves_relative_paths_and_refuses_cycles(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('extends = "careqic"\nfeedback_loop = 0.2\n')
    (tmp_path / "child.toml").write_text('extends = "base.toml"\nname = "child"\n')
    assert load_scenario(tmp_path / "child.toml").feedback_loop == 0.2
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_dotted_overrides_reach_nested_tables_by_name_or_index() -> None:
    s = load_scenario("careqic", ["groups.msm.trust_deficit=0.33", "sites.0.patients=400"])
    assert s.groups[1].trust_deficit == 0.33
    assert s.sites[0].patients == 400
    s = load_scenario("careqic", {"sites.Barbados.providers": 12, "inclusion": "convenience"})
    assert s.sites[3].providers == 12 and s.inclusion == "convenience"


def test_model_from_scenario_takes_overrides() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=1, power_sharing=4)
    assert model.parameters.power_sharing == 4


# --- bad input -------------------------------------------------------------------------------
def test_unknown_key_names_it_and_suggests_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('extends = "careqic"\npower_shareing = 6\n')
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    text = problems_of(excinfo)
    assert "power_shareing" in text and "did you mean 'power_sharing'" in text


def test_unknown_key_in_a_nested_table_lists_that_table_s_fields() -> None:
    groups = [g.model_dump() for g in load_scenario("careqic").groups]
    groups[1]["colour"] = "red"
    with pytest.raises(ScenarioError) as excinfo:
        small_scenario(groups=groups)
    text = problems_of(excinfo)
    assert "groups[1].colour" in text and "what_matters" in text


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"team_size": "six"}, ["team_size", "'six'", "valid integer"]),
        ({"team_size": 6.0}, ["team_size", "valid integer"]),
        ({"feedback_loop": 1.5}, ["feedback_loop", "1.5", "less than or equal to 1"]),
        ({"power_sharing": 0}, ["power_sharing", "0", "greater than or equal to 1"]),
        ({"inclusion": "sometimes"}, ["inclusion", "'convenience' or 'deliberate'"]),
        ({"ground_rules": "yes"}, ["ground_rules", "valid boolean"]),
        ({"within_site_ties": 1}, ["within_site_ties", "0 (no ties) or at least 2"]),
        ({"team_size": 20}, ["team_size", "larger than site", "must be <="]),
        ({"representative_seats": 6}, ["representative_seats", "manager and at least one"]),
        ({"pdsa_successes_to_scale": 9}, ["pdsa_successes_to_scale", "pdsa_max_cycles"]),
    ],
)
def test_bad_values_are_refused_with_field_value_and_what_is_allowed(overrides, expected) -> None:
    with pytest.raises(ScenarioError) as excinfo:
        small_scenario(**overrides)
    text = problems_of(excinfo)
    for part in expected:
        assert part in text, f"{part!r} not in {text!r}"


def test_shares_that_do_not_sum_to_one_are_refused() -> None:
    sites = [
        {
            "name": "A",
            "patients": 100,
            "providers": 6,
            "group_shares": {"general": 0.7, "msm": 0.25},
        }
    ]
    with pytest.raises(ScenarioError) as excinfo:
        small_scenario(sites=sites)
    text = problems_of(excinfo)
    assert "sites[0].group_shares" in text and "sum to 0.95" in text and "must sum to 1" in text


def test_shares_naming_unknown_groups_are_refused() -> None:
    sites = [
        {
            "name": "A",
            "patients": 100,
            "providers": 6,
            "group_shares": {"general": 0.5, "miners": 0.5},
        }
    ]
    with pytest.raises(ScenarioError, match="miners"):
        small_scenario(sites=sites)


def test_priorities_must_name_exactly_the_aspects_of_care() -> None:
    groups = [g.model_dump() for g in load_scenario("careqic").groups]
    del groups[0]["what_matters"]["confidentiality"]
    with pytest.raises(ScenarioError) as excinfo:
        small_scenario(groups=groups)
    assert "groups[0].what_matters" in problems_of(excinfo)
    assert "missing confidentiality" in problems_of(excinfo)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ScenarioError) as excinfo:
        small_scenario(feedback_loop=2.0, power_sharing=11, inclusion="x")
    assert len(excinfo.value.problems) == 3


def test_invalid_toml_and_unknown_preset_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("power_sharing = = 4\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="presets are: careqic"):
        load_scenario("careqicc")
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")


def test_none_unsets_an_optional_field() -> None:
    assert load_scenario("crisis", ["crisis_week=none"]).crisis_week is None


def test_extends_cycles_are_found_through_unnormalised_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.toml").write_text('extends = "sub/../a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_sites_may_not_share_a_name_after_numbering() -> None:
    sites = [
        {"name": "A", "count": 2, "patients": 50, "providers": 6, "group_shares": {"general": 1.0}},
        {"name": "A 1", "patients": 50, "providers": 6, "group_shares": {"general": 1.0}},
    ]
    with pytest.raises(ScenarioError, match="same name"):
        small_scenario(sites=sites)


def test_more_learning_sessions_than_weeks_of_support_are_refused() -> None:
    with pytest.raises(ScenarioError, match="at most one a week"):
        small_scenario(support_weeks=2, learning_sessions=5)


def test_bad_override_paths_are_refused() -> None:
    with pytest.raises(ScenarioError, match="no entry 'Atlantis'"):
        load_scenario("careqic", ["sites.Atlantis.patients=3"])
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        load_scenario("careqic", ["power_sharing"])


def test_the_model_refuses_bad_keyword_parameters() -> None:
    with pytest.raises(ScenarioError, match="power_sharing"):
        CoproductionModel(power_sharing=0)
    with pytest.raises(ScenarioError, match="unknown field"):
        CoproductionModel(powr_sharing=3)


def test_scenario_is_immutable_and_derives_sizes() -> None:
    s = small_scenario()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        s.power_sharing = 3  # type: ignore[misc]
    assert s.n_sites == 4 and s.n_patients == 540 and s.n_providers == 22
    assert math.isclose(sum(s.sites[0].group_shares.values()), 1.0)


# --- the parameter table -------------------------------------------------------------------------
def test_every_field_has_exactly_one_row_in_the_parameter_table() -> None:
    from coprod_sim.scenario import evidence
    from coprod_sim.scenario.schema import AspectRole, PatientGroup, SiteSpec

    for model, table in (
        (Scenario, evidence.SCENARIO),
        (SiteSpec, evidence.SITE),
        (PatientGroup, evidence.GROUP),
        (AspectRole, evidence.ASPECT_ROLE),
    ):
        assert list(table) == list(model.model_fields), model.__name__
        for name, row in table.items():
            assert row.unit and row.source, (model.__name__, name)


def test_defaults_lie_in_their_plausible_ranges() -> None:
    from coprod_sim.scenario import evidence

    defaults = Scenario()
    ranges = evidence.plausible_ranges()
    assert len(ranges) >= 80
    for name, (low, high) in ranges.items():
        assert low < high, name
        value = getattr(defaults, name)
        assert value is None or low <= value <= high, (name, value, low, high)
        # Each range is one the field accepts on its own: its ends pass the field's checks.
        info = Scenario.model_fields[name]
        field = TypeAdapter(
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        kind = type(info.default)
        for end in (low, high):
            field.validate_python(kind(end) if kind is int else end, strict=True)


def test_docs_parameters_md_is_the_generated_table() -> None:
    from coprod_sim.scenario.evidence import markdown

    docs = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
    assert docs.read_text(encoding="utf-8") == markdown(), (
        "docs/parameters.md is stale: run `coprod parameters --out docs/parameters.md`"
    )
