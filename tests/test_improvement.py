"""The improvement process as one component: explicit inputs, decisions returned."""

from __future__ import annotations

import numpy as np

from coprod_sim import CoproductionModel
from coprod_sim.improvement import Improvement


def test_a_meeting_returns_what_it_decided() -> None:
    model = CoproductionModel.from_scenario("careqic", rng=3, with_agents=False)
    improvement = model.improvement
    running = sum(len(tests) for tests in improvement.teams.tests)
    meets = np.ones(len(model.sites), dtype=bool)

    meeting = improvement.meet(
        1, model.site_rung, model.site_reporting, meets, model.site_quality()
    )

    assert meeting.tests_started == sum(len(t) for t in improvement.teams.tests) - running > 0
    # At the first meeting nobody has an earlier idea: whoever was acted on was heard today.
    assert set(meeting.acted_on.tolist()) <= set(meeting.heard.tolist())
    assert meeting.acted_on.size > 0
    assert improvement.teams.heard_by_group.sum() == meeting.heard.size
    # Only representatives in care hold a seat, so only they can be heard.
    assert model.patients.in_care[meeting.heard].all()


def test_it_holds_no_reference_to_the_model() -> None:
    model = CoproductionModel.from_scenario("tokenistic", rng=1, with_agents=False)
    improvement = model.improvement
    assert isinstance(improvement, Improvement)
    held = vars(improvement).values()
    assert not any(isinstance(value, CoproductionModel) for value in held)
    # It reads and changes the model's own population arrays, not copies of them.
    assert improvement.patients is model.patients and improvement.rng is model.rng


def test_the_week_comes_from_mesa_time_and_agents_are_optional() -> None:
    with_agents = CoproductionModel.from_scenario("careqic", rng=5)
    without = CoproductionModel.from_scenario("careqic", rng=5, with_agents=False)
    for model in (with_agents, without):
        model.run_for(6)
        assert model.week == model.time == 6
    assert len(without.agents) == 0 and len(with_agents.agents) > 0
    a, b = (m.outputs.collaborative() for m in (with_agents, without))
    assert a.equals(b)
