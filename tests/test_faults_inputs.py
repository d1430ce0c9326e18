"""Input bombs and bad inputs: every accepted input has a bounded cost, and a bad spec or
scenario is refused quickly with a clear error naming the field, never a traceback.

Each bomb here once ran for 20-110 s into a MemoryError or a RecursionError. The time bounds
are loose (the machine is noisy): the point is that nothing is built before it is refused.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coprod_sim import limits
from coprod_sim.cli import app
from coprod_sim.errors import InputError, ScenarioError, SpecError
from coprod_sim.experiments import spec as spec_module
from coprod_sim.experiments.design import build_design
from coprod_sim.experiments.spec import (
    MAX_POINTS,
    MAX_RUNS,
    design_size,
    load_experiment,
    parse_spec,
    resolve,
)
from coprod_sim.initialization import _unique_pairs
from coprod_sim.model import CoproductionModel
from coprod_sim.scenario import (
    load_scenario,
    preset_names,
    provider_ties,
    scenario_from_text,
)

runner = CliRunner()
#: Generous: a refusal takes milliseconds; the bombs took 20-110 s before they were refused.
QUICK = 10.0
SOME = [round(0.1 + i * 0.01, 2) for i in range(10)]  # ten valid shares
SHARES = ["initial_trust", "feedback_loop", "acknowledgement", "negotiation", "cooperation"]
SHARES += ["common_goals", "authority_support", "contact_rate", "staff_voice", "peer_latitude"]


@contextmanager
def quickly(limit: float = QUICK) -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    assert elapsed < limit, f"took {elapsed:.1f} s; a refusal must not build anything"


def refused(error_type: type[InputError], fn: Callable[[], object], field: str) -> InputError:
    """``fn()`` raises ``error_type`` within QUICK seconds, naming ``field``."""
    with quickly(), pytest.raises(error_type) as caught:
        fn()
    fields = [p.field for p in caught.value.problems]
    assert any(field in f for f in fields), (field, fields)
    return caught.value


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.write_text(data if isinstance(data, str) else tomli_w.dumps(data))
    return path


def site(count: int, patients: int, providers: int) -> dict[str, Any]:
    return {
        "name": "Big",
        "count": count,
        "patients": patients,
        "providers": providers,
        "group_shares": {"general": 1.0},
    }


# --- 1. a spec's run count comes before its design ---------------------------------------------
SPEC_BOMBS = {
    "factorial 10^8": (
        {"name": "f", "replications": 1, "factors": {k: SOME for k in SHARES[:8]}},
        "factors",
    ),
    "sobol 2^19 x 10": (
        {
            "name": "s",
            "replications": 1,
            "design": {"kind": "sobol", "samples": 2**19},
            "factors": {k: {"low": 0.1, "high": 0.9} for k in SHARES},
        },
        "design.samples",
    ),
    "morris 10^6": (
        {
            "name": "m",
            "replications": 1,
            "design": {"kind": "morris", "samples": 1_000_000},
            "factors": {k: {"low": 0.1, "high": 0.9} for k in SHARES[:2]},
        },
        "design.samples",
    ),
    "lhs 10^6": (
        {
            "name": "l",
            "design": {"kind": "lhs", "samples": 1_000_000},
            "factors": {"initial_trust": {"low": 0.1, "high": 0.9}},
        },
        "design.samples",
    ),
    "factorial 10^400": (
        {"name": "f", "factors": {f"x{i}": list(range(10)) for i in range(100)}},
        "factors",
    ),
}


@pytest.mark.parametrize("name", list(SPEC_BOMBS))
def test_a_design_too_large_is_refused_before_it_is_built(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, field = SPEC_BOMBS[name]

    def never(*args: object) -> None:
        raise AssertionError("the design was built before it was counted")

    monkeypatch.setattr("coprod_sim.experiments.design.build_design", never)
    error = refused(SpecError, lambda: load_experiment(write(tmp_path / "s.toml", data)), field)
    assert f"at most {MAX_POINTS:,}" in str(error)


def test_the_cli_refuses_a_sobol_bomb_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    spec = write(tmp_path / "s.toml", SPEC_BOMBS["sobol 2^19 x 10"][0])
    with quickly():
        result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "design.samples" in result.output and "6,291,456 design points" in result.output
    assert not (tmp_path / "out").exists()


def test_too_many_runs_names_the_replications() -> None:
    spec = parse_spec(
        {"name": "r", "replications": 100_000, "factors": {"team_size": list(range(2, 103))}}
    )
    error = refused(SpecError, lambda: resolve(spec, "x"), "replications")
    assert "10,100,000 runs" in str(error) and f"{MAX_RUNS:,}" in str(error)


@pytest.mark.parametrize(
    "design",
    [
        {"kind": "factorial"},
        {"kind": "lhs", "samples": 7},
        {"kind": "sobol", "samples": 8},
        {"kind": "sobol", "samples": 8, "second_order": True},
        {"kind": "morris", "samples": 5, "levels": 4},
    ],
)
def test_the_count_is_the_size_of_the_built_design(design: dict[str, Any]) -> None:
    factorial = design["kind"] == "factorial"
    factors = {
        "initial_trust": [0.2, 0.4, 0.6] if factorial else {"low": 0.2, "high": 0.8},
        "team_size": [4, 5] if factorial else {"low": 4, "high": 8, "integer": True},
        "feedback_loop": [0.5] if factorial else {"low": 0.1, "high": 0.9},
    }
    spec = parse_spec({"name": "c", "design": design, "factors": factors})
    assert design_size(spec) == len(build_design(spec)[0])


def test_the_largest_sweep_allowed_resolves_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """10^7 runs as 10^5 points × 100 replications: the points are checked at a bounded cost."""
    checked = []
    real = spec_module.Scenario.with_overrides

    def counting(self: Any, overrides: Any) -> Any:
        checked.append(1)
        return real(self, overrides)

    monkeypatch.setattr(spec_module.Scenario, "with_overrides", counting)
    values = [round(0.05 + i * 0.0009, 5) for i in range(1000)]
    spec = parse_spec(
        {
            "name": "big",
            "replications": 100,
            "factors": {"initial_trust": [i / 100 for i in range(100)], "feedback_loop": values},
        }
    )
    with quickly():
        experiment = resolve(spec, "x")
    assert experiment.n_runs == MAX_RUNS and len(experiment.points) == MAX_POINTS
    assert len(checked) <= limits.MAX_CHECKED_POINTS + 5


def test_a_large_design_still_finds_a_value_out_of_range_far_from_the_start() -> None:
    """3,600 points, more than are checked one by one: the last value of the first factor
    is out of range, and first met at point 2,400, beyond the first points checked."""
    spec = parse_spec(
        {
            "name": "late",
            "factors": {
                "feedback_loop": [0.5, 0.6, 1.5],
                "team_size": list(range(4, 10)),
                "initial_trust": [i / 250 for i in range(200)],
            },
        }
    )
    assert design_size(spec) == 3600 > 2400 > limits.MAX_CHECKED_POINTS
    error = refused(SpecError, lambda: resolve(spec, "x"), "feedback_loop")
    assert "1.5" in str(error)


def test_a_sampled_factor_out_of_range_is_found_at_its_extreme() -> None:
    spec = parse_spec(
        {
            "name": "s",
            "design": {"kind": "lhs", "samples": 5000},
            "factors": {"feedback_loop": {"low": 0.5, "high": 1.01}},
        }
    )
    refused(SpecError, lambda: resolve(spec, "x"), "feedback_loop")


# --- 2. scenarios this machine cannot build -------------------------------------------------
SCENARIO_BOMBS = {
    "10^8 patients": ({"sites": [site(20, 5_000_000, 100)]}, "sites"),
    "a site of 10^7 patients": ({"sites": [site(1, 10_000_000, 100)]}, "sites[0].patients"),
    "complete network over 100k providers": (
        {"sites": [site(1, 100_000, 100_000)], "provider_network": "complete"},
        "provider_network",
    ),
    "within_site_ties = 1000": (
        {"sites": [site(4, 10_000, 100_000)], "within_site_ties": 1000},
        "within_site_ties",
    ),
    "10^6 providers": ({"sites": [site(10, 1000, 100_000)], "within_site_ties": 0}, "sites"),
    "1001 sites": ({"sites": [site(1000, 10, 5), site(1, 10, 5) | {"name": "b"}]}, "sites"),
    "cross-site ties": (
        {
            "sites": [site(1000, 100, 100)],
            "team_size": 100,
            "cross_site_ties": 100,
            "within_site_ties": 0,
        },
        "cross_site_ties",
    ),
}


@pytest.mark.parametrize("name", list(SCENARIO_BOMBS))
def test_a_scenario_too_large_to_build_is_refused(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides, field = SCENARIO_BOMBS[name]
    data = {"extends": "careqic", "crisis_sites": [], **overrides}
    monkeypatch.setattr(
        "networkx.watts_strogatz_graph", lambda *a, **k: pytest.fail("validation built a network")
    )
    refused(ScenarioError, lambda: load_scenario(write(tmp_path / "big.toml", data)), field)


def test_the_cli_refuses_a_complete_network_over_100k_providers(tmp_path: Path) -> None:
    overrides, _ = SCENARIO_BOMBS["complete network over 100k providers"]
    scenario = write(tmp_path / "big.toml", {"extends": "careqic", "crisis_sites": [], **overrides})
    with quickly():
        result = runner.invoke(
            app, ["run", "--scenario", str(scenario), "--out", str(tmp_path / "out")]
        )
    assert result.exit_code == 2, result.output
    assert "4,999,950,000 ties" in result.output and not (tmp_path / "out").exists()


def test_the_limits_are_the_allowed_sizes() -> None:
    """The largest sizes allowed pass validation (building them is measured, not tested)."""
    at_limit = load_scenario(
        "careqic",
        {
            "sites": [site(10, limits.MAX_PATIENTS // 10, limits.MAX_PROVIDERS // 10)],
            "crisis_sites": [],
            "within_site_ties": 2 * (limits.MAX_TIES // limits.MAX_PROVIDERS) - 2,
        },
    )
    assert at_limit.n_patients == limits.MAX_PATIENTS
    assert provider_ties(at_limit) <= limits.MAX_TIES


@pytest.mark.parametrize(
    "overrides",
    [
        {"provider_network": "complete"},
        {"within_site_ties": 4},
        {"within_site_ties": 5, "cross_site_ties": 0},
        {"within_site_ties": 12},  # sites of 10 providers: complete
        {"within_site_ties": 0},
    ],
)
def test_the_tie_count_bounds_the_ties_built(overrides: dict[str, Any]) -> None:
    scenario = load_scenario("careqic", overrides)
    model = CoproductionModel.from_scenario(scenario, rng=1, with_agents=False)
    built = len(model.network.edges)
    assert built <= provider_ties(scenario)
    if scenario.cross_site_ties == 0:
        assert built == provider_ties(scenario)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=300),
)
def test_unique_pairs_is_the_row_wise_unique(rows: list[tuple[int, int]]) -> None:
    pairs = np.sort(np.array(rows, dtype=np.int64).reshape(-1, 2), axis=1)
    expected = np.unique(pairs, axis=0)
    got = _unique_pairs(pairs, 41)
    assert got.dtype == np.int64 and np.array_equal(got, expected)


# --- 3. validation never builds a full model ------------------------------------------------
def test_validating_a_spec_never_builds_its_big_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "big.toml",
        {"extends": "careqic", "crisis_sites": [], "sites": [site(10, 500_000, 100)]},
    )
    spec = write(
        tmp_path / "s.toml",
        {"name": "b", "scenario": "big.toml", "factors": {"power_sharing": [4]}},
    )
    built: list[int] = []
    real = CoproductionModel.from_scenario.__func__  # type: ignore[attr-defined]

    def recording(cls: Any, scenario: Any, **kwargs: Any) -> Any:
        built.append(scenario.n_patients)
        return real(cls, scenario, **kwargs)

    monkeypatch.setattr(CoproductionModel, "from_scenario", classmethod(recording))
    with quickly():
        experiment = load_experiment(spec)
    assert experiment.bases["careqic"].n_patients == 5_000_000
    assert built and max(built) <= 1000


@pytest.mark.parametrize("name", preset_names())
def test_the_stand_in_gives_the_full_models_columns(name: str) -> None:
    scenario = load_scenario(name)
    frame = CoproductionModel.from_scenario(scenario, rng=0).outputs.collaborative()
    full = tuple(c for c in frame.columns if c not in ("step", "week"))
    assert spec_module.model_columns(scenario) == full


# --- 4. tracebacks that became clear errors -------------------------------------------------
def test_an_extends_chain_500_deep_is_refused(tmp_path: Path) -> None:
    for i in range(500):
        base = f"chain{i + 1}.toml" if i < 499 else "careqic"
        write(tmp_path / f"chain{i}.toml", {"extends": base, "description": str(i)})
    error = refused(ScenarioError, lambda: load_scenario(tmp_path / "chain0.toml"), "extends")
    assert f"at most {limits.MAX_EXTENDS}" in str(error)
    # A chain of MAX_EXTENDS files, the preset at its end among them, is fine.
    longest = tmp_path / f"chain{500 - limits.MAX_EXTENDS + 1}.toml"
    assert load_scenario(longest).description == str(500 - limits.MAX_EXTENDS + 1)


def test_the_cli_refuses_a_deep_extends_chain_with_exit_2(tmp_path: Path) -> None:
    for i in range(100):
        write(tmp_path / f"c{i}.toml", {"extends": f"c{i + 1}.toml" if i < 99 else "careqic"})
    with quickly():
        result = runner.invoke(app, ["run", "--scenario", str(tmp_path / "c0.toml")])
    assert result.exit_code == 2 and "extends chain" in result.output, result.output


DEEP = "[" * 3000 + "]" * 3000
NOT_SO_DEEP = "[" * 60 + "]" * 60  # tomllib reads it; the depth check refuses it


@pytest.mark.parametrize("array", [DEEP, NOT_SO_DEEP], ids=["3000 deep", "60 deep"])
def test_a_deeply_nested_array_is_refused_everywhere(array: str, tmp_path: Path) -> None:
    scenario = tmp_path / "deep.toml"
    scenario.write_text(f'extends = "careqic"\ninitial_trust = {array}\n')
    refused(ScenarioError, lambda: load_scenario(scenario), "(file)")
    refused(ScenarioError, lambda: scenario_from_text(scenario.read_text(), "upload"), "(file)")
    refused(ScenarioError, lambda: load_scenario("careqic", [f"initial_trust={array}"]), "--set")
    spec = tmp_path / "deep_spec.toml"
    spec.write_text(f'name = "d"\n[factors]\ninitial_trust = {array}\n')
    refused(SpecError, lambda: load_experiment(spec), "(file)")
    with quickly():
        result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "deep" in result.output, result.output


@pytest.mark.parametrize(
    "bounds",
    [
        {"low": 1, "high": math.inf, "integer": True},
        {"low": -math.inf, "high": 1},
        {"low": 0.1, "high": math.nan},
        {"low": -1e300, "high": 1e300, "integer": True},
    ],
)
def test_a_sampling_range_must_be_finite(bounds: dict[str, Any], tmp_path: Path) -> None:
    data = {"name": "i", "design": {"kind": "lhs", "samples": 4}, "factors": {"team_size": bounds}}
    refused(SpecError, lambda: load_experiment(write(tmp_path / "s.toml", data)), "team_size")


WRONG_TYPES = {
    "outcomes = 5": ({"outcomes": 5}, "outcomes"),
    "factors = 3": ({"factors": 3}, "factors"),
    'design = "x"': ({"design": "x"}, "design"),
    "scenarios = []": ({"scenarios": []}, "scenarios"),
    "set = 1": ({"set": 1}, "set"),
    "claims = [1]": ({"claims": [1]}, "claims"),
    'outcomes.final = "x"': ({"outcomes": {"final": "x"}}, "outcomes.final"),
    "scenarios.a = 1": ({"scenarios": {"a": 1}}, "scenarios.a"),
    "scenarios.a.set = []": (
        {"scenarios": {"a": {"scenario": "careqic", "set": []}}},
        "scenarios.a.set",
    ),
    "set.sites = 3": ({"set": {"sites": 3}}, "sites"),
    "steps too many": ({"steps": limits.MAX_STEPS + 1}, "steps"),
    "too many factors": ({"factors": {f"f{i}": [1] for i in range(101)}}, "factors"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_a_wrong_type_in_a_spec_is_a_clear_problem(case: str, tmp_path: Path) -> None:
    change, field = WRONG_TYPES[case]
    data = {"name": "w", "factors": {"initial_trust": [0.3]}, **change}
    path = write(tmp_path / "s.toml", data)
    steps = None if "steps" in change else 2  # a --steps would replace the spec's
    refused(SpecError, lambda: load_experiment(path, steps=steps), field)


def test_the_cli_refuses_outcomes_5_with_exit_2(tmp_path: Path) -> None:
    spec = write(tmp_path / "s.toml", {"name": "o", "outcomes": 5})
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "outcomes = 5" in result.output, result.output


def test_a_series_week_that_is_not_a_number_is_refused_not_dropped(tmp_path: Path) -> None:
    data = {
        "name": "a",
        "factors": {"initial_trust": [0.3]},
        "outcomes": {"series": ["patient_trust"], "series_steps": ["a", 1]},
    }
    path = write(tmp_path / "s.toml", data)
    error = refused(SpecError, lambda: load_experiment(path, steps=2), "outcomes.series_steps")
    assert "'a'" in str(error)
    result = runner.invoke(app, ["sweep", str(path), "--steps", "2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "series_steps" in result.output, result.output


def test_whole_series_weeks_are_still_cut_to_the_steps(tmp_path: Path) -> None:
    data = {
        "name": "a",
        "factors": {"initial_trust": [0.3]},
        "outcomes": {"series": ["patient_trust"], "series_steps": [0, 1, 50]},
    }
    experiment = load_experiment(write(tmp_path / "s.toml", data), steps=2)
    assert experiment.spec.outcomes.series_steps == [0, 1, 2]


# --- 5. a campaign of wrong types -----------------------------------------------------------
BAD_VALUES = st.sampled_from(
    [
        3,
        -1,
        10**18,
        1.5,
        math.inf,
        math.nan,
        "x",
        "",
        True,
        [],
        [1, "a"],
        [[1]],
        {},
        {"a": 1},
        {"low": 1, "high": math.inf, "integer": True},
        datetime.date(2020, 1, 1),
    ]
)
SPEC_BASE: dict[str, Any] = {
    "name": "c",
    "replications": 1,
    "steps": 2,
    "set": {"feedback_loop": 0.9},
    "factors": {"initial_trust": [0.3, 0.5]},
    "design": {"kind": "factorial"},
    "outcomes": {"final": ["patient_trust"], "series": ["patient_trust"], "series_steps": [0, 2]},
    "claims": {"c1": {"minimum_effect": 0.1}},
    "scenarios": {"a": {"scenario": "careqic", "set": {"power_sharing": 4}}},
}
SPEC_PLACES = [
    ("name",), ("description",), ("scenario",), ("set",), ("set", "feedback_loop"),
    ("set", "groups.msm.trust_deficit"), ("set", "sites.0.patients"), ("scenarios",),
    ("scenarios", "a"), ("scenarios", "a", "scenario"), ("scenarios", "a", "set"),
    ("scenarios", "a", "set", "power_sharing"), ("factors",), ("factors", "initial_trust"),
    ("factors", "power_sharing"), ("factors", "a..b"), ("design",), ("design", "kind"),
    ("design", "samples"), ("design", "second_order"), ("design", "levels"),
    ("replications",), ("steps",), ("seed",), ("retries",), ("outcomes",),
    ("outcomes", "final"), ("outcomes", "series"), ("outcomes", "series_steps"), ("claims",),
    ("claims", "c1"), ("claims", "c1", "minimum_effect"), ("claims", "c1", "unit"), ("extra",),
]  # fmt: skip


def _set(data: dict[str, Any], place: tuple[str, ...], value: Any) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(data)
    node = out
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = value
    return out


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(place=st.sampled_from(SPEC_PLACES), value=BAD_VALUES, as_list_item=st.booleans())
def test_wrong_types_anywhere_in_a_spec_are_input_errors(
    place: tuple[str, ...], value: Any, as_list_item: bool, tmp_path: Path
) -> None:
    data = _set(SPEC_BASE, place, value)
    if as_list_item:  # or a wrong item in a list that is otherwise right
        data = _set(SPEC_BASE, ("outcomes", "series_steps"), [0, value])
    path = write(tmp_path / "campaign.toml", data)
    try:
        with quickly():
            load_experiment(path, steps=2)
    except InputError:
        pass


SCENARIO_PLACES = [
    ("name",), ("sites",), ("sites", 0), ("sites", 0, "count"), ("sites", 0, "patients"),
    ("sites", 0, "providers"), ("sites", 0, "group_shares"), ("sites", 0, "group_shares", "msm"),
    ("groups",), ("groups", 0), ("groups", 0, "name"), ("groups", 0, "what_matters"),
    ("groups", 0, "what_matters", "respect"), ("staff_assumptions",), ("baseline_quality",),
    ("aspect_roles",), ("aspect_roles", "respect"), ("aspect_roles", "respect", "kind"),
    ("power_sharing",), ("inclusion",), ("history_weeks",), ("crisis_week",),
    ("crisis_sites",), ("within_site_ties",), ("provider_network",), ("team_size",),
    ("extends",), ("extra",),
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(place=st.sampled_from(SCENARIO_PLACES), value=BAD_VALUES)
def test_wrong_types_anywhere_in_a_scenario_are_input_errors(
    place: tuple[Any, ...], value: Any
) -> None:
    data = load_scenario("careqic").to_dict()
    if (place[0] == "aspect_roles" and len(place) > 1) or "what_matters" in place:
        place = tuple(next(iter(data["aspect_roles"])) if p == "respect" else p for p in place)
    data = _set(data, place, value)
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):  # not writable as TOML (e.g. a list of mixed tables)
        return
    for attempt in (
        lambda: scenario_from_text(text, "upload"),
        lambda: load_scenario("careqic", {".".join(map(str, place)): value}),
    ):
        try:
            with quickly():
                attempt()
        except InputError:
            pass
