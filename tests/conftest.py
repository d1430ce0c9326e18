"""Shared fixtures: a small collaborative that runs in milliseconds, and hypothesis settings."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from coprod_sim import CoproductionModel, Scenario, load_scenario

settings.register_profile(
    "project",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))

SHARES = {"general": 0.7, "msm": 0.12, "sex_workers": 0.07, "transgender": 0.04, "unhoused": 0.07}
SMALL_SITES = [
    {"name": "North", "count": 2, "patients": 150, "providers": 6, "group_shares": SHARES},
    {"name": "South", "count": 2, "patients": 120, "providers": 5, "group_shares": SHARES},
]


def small_scenario(**overrides: object) -> Scenario:
    """The CaReQIC design on four small sites (540 patients, 22 providers)."""
    return load_scenario("careqic").with_overrides({"sites": SMALL_SITES, **overrides})


def small_model(rng: int = 0, **overrides: object) -> CoproductionModel:
    return CoproductionModel.from_scenario(small_scenario(**overrides), rng=rng)


@pytest.fixture
def small() -> Scenario:
    return small_scenario()


@pytest.fixture(scope="session")
def careqic_run() -> CoproductionModel:
    """One full CaReQIC run (78 weeks), shared by read-only tests."""
    model = CoproductionModel.from_scenario("careqic", rng=11)
    model.run_for(78)
    return model
