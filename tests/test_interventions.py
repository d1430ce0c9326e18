"""Changes made during a run (``Scenario.interventions``, ``CoproductionModel.intervene``):
a change made mid-run is the run its scenario describes, it changes nothing before its
week, and a change the model cannot make is refused, naming the field, with nothing changed.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from coprod_sim import CoproductionModel, Scenario, provenance
from coprod_sim.errors import ScenarioError
from coprod_sim.scenario.rules import CHANGEABLE_MID_RUN
from tests.conftest import small_scenario

WITHDRAW = {"authority_support": 0.05}


def run(scenario: Scenario, weeks: int = 40, seed: int = 3) -> pd.DataFrame:
    model = CoproductionModel.from_scenario(scenario, rng=seed)
    model.run_for(weeks)
    return model.outputs.collaborative()


def with_interventions(*made: dict) -> Scenario:
    return small_scenario().with_overrides({"interventions": list(made)})


def test_no_interventions_leave_the_scenario_and_its_hash_as_they_were() -> None:
    plain = small_scenario()
    assert "interventions" not in plain.to_dict()
    assert plain.settings_from() == []
    assert Scenario.from_toml(plain.to_toml()) == plain
    assert provenance.scenario_sha256(plain) == provenance.scenario_sha256(
        Scenario.model_validate(plain.to_dict())
    )


def test_a_change_made_mid_run_is_the_run_its_scenario_describes() -> None:
    live = CoproductionModel.from_scenario(small_scenario(), rng=3)
    live.run_for(20)
    live.intervene(WITHDRAW, label="Managers withdraw their support")
    assert live.week == 20  # no reset
    live.run_for(20)
    planned = with_interventions({"week": 20, "changes": WITHDRAW, "label": "x"})
    assert_frame_equal(live.outputs.collaborative(), run(planned))
    # The live model's own parameters now hold the change: built again, the same run.
    assert live.parameters.interventions[0].changes == WITHDRAW
    assert_frame_equal(live.outputs.collaborative(), run(live.parameters))


def test_nothing_changes_before_the_week_and_something_after() -> None:
    base = run(small_scenario())
    changed = run(
        with_interventions({"week": 20, "changes": {"power_sharing": 1, "feedback_loop": 0.0}})
    )
    upto = base["week"] <= 20
    assert_frame_equal(base[upto], changed[upto])
    after = ["representative_trust", "patient_originated", "value"]
    assert not base.loc[~upto, after].equals(changed.loc[~upto, after])


def test_a_crisis_begun_mid_run_acts_from_the_next_week() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=3)
    model.run_for(10)
    crisis = {"crisis_week": 11, "crisis_duration": 6}
    model.intervene(crisis)
    assert model.parameters.crisis_week is None  # the scenario's own crisis: none
    model.run_for(2)
    assert model.settings.crisis_week == 11
    assert_frame_equal(
        model.outputs.collaborative(),
        run(with_interventions({"week": 10, "changes": crisis}), 12),
    )


def test_added_seats_enlarge_every_team() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=3)
    seats = model.settings.representative_seats
    model.run_for(5)
    model.intervene({"representative_seats": seats + 2})
    model.run_for(1)
    assert model.settings.representative_seats == seats + 2
    assert model.settings.team_size == small_scenario().team_size + 2
    assert model.improvement.teams.representatives.shape[1] == seats + 2


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"effect_size": 0.5}, "effect_size", "cannot change during a run"),
        ({"authority_support": 2.0}, "authority_support", "less than or equal to 1"),
        ({"representative_seats": 0}, "representative_seats", "not taken away"),
        ({"crisis_week": 5}, "crisis_week", "week 11 or later"),
    ],
)  # fmt: skip
def test_a_change_the_model_cannot_make_is_refused_by_name(
    changes: dict, field: str, says: str
) -> None:
    with pytest.raises(ScenarioError) as refused:
        with_interventions({"week": 10, "changes": changes})
    problems = {p.field: p for p in refused.value.problems}
    field = f"interventions.0.changes.{field}"
    assert field in problems, problems
    assert says in problems[field].allowed
    assert problems[field].value == next(iter(changes.values()))


def test_a_refused_live_change_changes_nothing() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=3)
    model.run_for(10)
    before, settings = model.parameters, model.settings
    with pytest.raises(ScenarioError) as refused:
        model.intervene({"effect_size": 0.5})
    assert refused.value.problems[0].field == "interventions.0.changes.effect_size"
    with pytest.raises(ScenarioError) as past:
        model.intervene(WITHDRAW, week=4)
    assert past.value.problems[0].field == "week"
    assert model.parameters is before and model.settings is settings
    model.run_for(10)
    assert_frame_equal(model.outputs.collaborative(), run(small_scenario(), 20))


def test_only_settings_read_week_by_week_may_change() -> None:
    fields = Scenario.model_fields
    assert set(CHANGEABLE_MID_RUN) <= set(fields)
    assert "sites" not in CHANGEABLE_MID_RUN and "interventions" not in CHANGEABLE_MID_RUN


def test_coprod_run_reproduces_a_run_with_interventions(tmp_path) -> None:
    scenario = with_interventions(
        {"week": 8, "changes": WITHDRAW, "label": "Managers withdraw their support"},
        {"week": 12, "changes": {"crisis_week": 14}},
    )
    path = tmp_path / "changed.toml"
    path.write_text(scenario.to_toml())
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "coprod_sim", "run", "--scenario", str(path), "--seed", "3",
         "--steps", "20", "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    written = pd.read_parquet(out / "collaborative.parquet")
    assert_frame_equal(written, run(scenario, 20), check_dtype=False)
