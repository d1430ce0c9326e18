"""Outputs recorded at the kept steps only (``record_steps``), as the study engine records
them: every value kept is the value the full recording gives, and the run is the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coprod_sim import CoproductionModel, load_scenario
from coprod_sim.experiments.engine import RunTask, _kept_steps, _plain, execute

from .conftest import small_scenario

FRAMES = ("collaborative", "sites", "groups", "site_groups")
#: Columns that depend on more than the state at their step: each (site, change) pair's peak
#: number of users (``sustained_changes``), and counts that only grow.
CUMULATIVE = ("sustained_changes", "reps_dropped", "changes_adopted", "ideas_tested")


def runs(scenario, seed: int, weeks: int, kept: set[int]):
    """The same run recorded at every step and at the ``kept`` steps only."""
    full = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False)
    full.run_for(weeks)
    thin = CoproductionModel.from_scenario(scenario, rng=seed, with_agents=False, record_steps=kept)
    thin.run_for(weeks)
    return full, thin


def assert_same_rows(full: CoproductionModel, thin: CoproductionModel, kept: set[int]) -> None:
    """Each frame of ``thin`` is ``full``'s at the kept steps, cell for cell and type for type;
    and the two runs drew the same numbers."""
    for name in FRAMES:
        whole = getattr(full.outputs, name)()
        expected = whole[whole["step"].isin(kept)].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(thin.outputs, name)(), expected, check_exact=True)
    assert thin.outputs.steps.tolist() == sorted(kept)
    assert thin.rng.bit_generator.state == full.rng.bit_generator.state
    assert np.array_equal(thin.patients.trust(), full.patients.trust())


@pytest.mark.parametrize(
    ("preset", "seed", "kept"),
    [
        ("careqic", 1, {0, 26, 52, 78}),
        # In the crisis fewer providers use some changes than at their peak, which
        # ``sustained_changes`` reads: the peak must be kept up between kept steps.
        ("crisis", 1, {36, 40, 78}),
        ("tokenistic", 3, {78}),
        ("staff-led", 2, {1, 4, 5, 60}),
    ],
)
def test_kept_steps_are_the_full_recordings_rows(preset: str, seed: int, kept: set[int]) -> None:
    weeks = max(kept)
    full, thin = runs(preset, seed, weeks, kept)
    assert_same_rows(full, thin, kept)
    assert thin.datacollector is None  # (Mesa's series need every step)
    rows = full.outputs.collaborative().set_index("step").loc[sorted(kept)]
    assert rows["changes_adopted"].iloc[-1] > 0
    if preset == "crisis":  # the case the peak is for is there
        assert (rows["sustained_changes"] < rows["changes_in_use"]).any()


@settings(max_examples=6)
@given(st.sets(st.integers(0, 30), min_size=1, max_size=6), st.integers(0, 3))
def test_any_kept_steps_give_the_same_values(kept: set[int], seed: int) -> None:
    full, thin = runs(small_scenario(), seed, 30, kept)
    assert_same_rows(full, thin, kept)


def test_a_run_read_midway_holds_the_kept_steps_reached() -> None:
    model = CoproductionModel.from_scenario(
        small_scenario(), rng=4, with_agents=False, record_steps={0, 10, 30}
    )
    model.run_for(20)
    assert model.outputs.collaborative()["step"].tolist() == [0, 10]
    model.run_for(20)
    assert model.outputs.collaborative()["step"].tolist() == [0, 10, 30]
    assert model.outputs.sites()["step"].unique().tolist() == [0, 10, 30]


def test_the_default_records_every_step() -> None:
    model = CoproductionModel.from_scenario(small_scenario(), rng=4)
    model.run_for(5)
    assert model.outputs.steps.tolist() == list(range(6))
    assert len(model.datacollector.get_model_vars_dataframe()) == 6


def same_value(a: object, b: object) -> bool:
    """Equal and of one type; floats to the bit (so -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    return a.hex() == b.hex() if isinstance(a, float) else a == b


@pytest.mark.parametrize(
    ("preset", "steps", "series_steps"),
    [("careqic", 78, (0, 26, 52, 78)), ("crisis", 45, (40,)), ("tokenistic", 20, ())],
)
def test_execute_keeps_the_full_frames_values(preset, steps, series_steps) -> None:
    """The engine's rows, from the kept steps, against the same run's full frame read as
    the engine read it before (the last row, and each series week's)."""
    base = load_scenario(preset)
    model = CoproductionModel.from_scenario(base, rng=9, with_agents=False)
    model.run_for(steps)
    frame = model.outputs.collaborative()
    columns = tuple(c for c in frame.columns if c != "step")
    task = RunTask(
        ids={"run_id": "r", "scenario_id": "s", "scenario": preset, "replication": 0, "seed": 9},
        base=base,
        values={},
        steps=steps,
        final=columns,
        series=columns if series_steps else (),
        series_steps=series_steps,
    )
    assert _kept_steps(task) == {steps, *series_steps}
    result = execute(task)
    assert result.error is None
    last = frame.iloc[-1]
    for k in columns:
        assert same_value(result.row[k], _plain(last[k])), k
    assert [row["step"] for row in result.series] == list(series_steps)
    for row in result.series:
        for k in columns:
            assert same_value(row[k], _plain(frame[k].iat[row["step"]])), (row["step"], k)
    assert set(CUMULATIVE) <= set(columns)


def test_execute_reads_the_whole_frame_for_weeks_it_cannot_keep() -> None:
    task = RunTask(
        ids={"run_id": "r", "seed": 1},
        base=small_scenario(),
        values={},
        steps=5,
        final=("value",),
        series=("value",),
        series_steps=(7,),
    )
    assert _kept_steps(task) is None
