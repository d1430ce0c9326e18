"""Shared fixtures: a small collaborative that runs in milliseconds, and hypothesis settings."""

from __future__ import annotations

import os
import warnings

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


@pytest.fixture
def private_mounts() -> None:
    """A private mount namespace for a command (``tests.fault_helpers``): skip, with the
    reason, where the machine gives none."""
    from tests.fault_helpers import mounts_unavailable

    reason = mounts_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def careqic_run() -> CoproductionModel:
    """One full CaReQIC run (78 weeks), shared by read-only tests."""
    model = CoproductionModel.from_scenario("careqic", rng=11)
    model.run_for(78)
    return model


# --- markers: slow, browser, dask, validation (registered in pyproject.toml) ------------------
# `make test` runs everything; `make test-fast` leaves out all four. A test is marked here by
# where it is and which fixtures it uses, so the test files need no decorators.

#: Tests that took about 3 s or more (2.5 s and up) in `pytest --durations=60` on this 2-core
#: machine, 2026-12-01, with other work running beside it; without them `make test-fast`
#: takes about 80 s (625 tests, 2026-12-02). The browser, Dask, install and validation tests
#: are marked apart.
SLOW = {
    "tests/test_calibration.py::test_a_folder_of_another_calibration_is_refused",
    "tests/test_calibration.py::test_the_posterior_has_a_row_per_particle_and_the_report_opens_offline",
    "tests/test_calibration.py::test_local_pool_and_sequential_give_the_same_posterior",
    "tests/test_calibration.py::test_a_larger_budget_continues_the_same_calibration",
    "tests/test_calibration.py::test_a_calibration_killed_with_sigkill_resumes_to_the_uninterrupted_posterior",
    "tests/test_calibration.py::test_a_known_parameter_is_recovered_inside_its_90_percent_interval",
    "tests/test_calibration.py::test_a_sweep_on_a_posterior_runs_each_replication_on_its_draw",
    "tests/test_calibration.py::test_compare_on_a_posterior_says_its_intervals_include_parameter_uncertainty",
    "tests/test_calibration.py::test_a_fact_held_out_of_the_calibration_is_checked_across_its_posterior",
    "tests/test_cli.py::test_earlier_results_are_replaced_only_when_asked",
    "tests/test_cli.py::test_the_installed_command_exits_2_on_bad_input",
    "tests/test_cli.py::test_the_written_scenario_reproduces_the_run",
    "tests/test_docs_site.py::test_every_notebook_has_a_page",
    "tests/test_docs_site.py::test_nothing_is_loaded_from_another_host",
    "tests/test_docs_site.py::test_the_api_reference_documents_the_public_modules",
    "tests/test_docs_site.py::test_the_pages_are_there_and_say_what_their_files_say",
    "tests/test_docs_site.py::test_the_site_builds_with_strict",
    "tests/test_experiments.py::test_local_process_pool_and_sequential_give_the_same_data",
    "tests/test_experiments.py::test_morris_ranks_the_factors_the_same_way",
    "tests/test_experiments.py::test_sobol_indices_find_the_factor_that_matters_and_the_inert_one",
    "tests/test_experiments.py::test_the_report_is_one_self_contained_file",
    "tests/test_model.py::test_same_seed_same_results_in_another_process",
    "tests/test_notebooks.py::test_every_notebook_runs_at_small_size",
    "tests/test_planning.py::test_prim_recovers_a_planted_box",
    "tests/test_planning.py::test_a_plan_killed_with_sigkill_resumes_to_the_uninterrupted_results",
    "tests/test_planning.py::test_the_folder_s_own_spec_resumes_it_from_anywhere",
    "tests/test_planning.py::test_a_posterior_adds_parameter_draws_to_every_future",
    "tests/test_reductions.py::test_model_uptake_follows_discrete_bass_at_sultan_s_mean_coefficients",
    "tests/test_reductions.py::test_model_uptake_follows_the_bass_closed_form_for_small_weekly_hazards",
    "tests/test_sweeps.py::test_a_lost_local_worker_stops_the_sweep_cleanly_and_a_re_run_finishes_it",
    "tests/test_sweeps.py::test_a_sweep_killed_with_sigkill_resumes_to_the_uninterrupted_data",
    "tests/test_sweeps.py::test_an_unreachable_dask_scheduler_is_bad_input",
    "tests/test_sweeps.py::test_compare_prints_each_difference_with_its_interval_and_verdict",
    "tests/test_sweeps.py::test_compare_weighs_three_designs_against_the_first_with_mids_and_people",
    "tests/test_sweeps.py::test_ctrl_c_stops_cleanly_and_the_same_command_resumes",
    "tests/test_sweeps.py::test_replications_and_steps_from_the_command_line_are_a_different_experiment",
    "tests/test_sweeps.py::test_sweep_prints_the_outcomes_writes_a_report_and_resumes_as_a_no_op",
    "tests/test_sweeps.py::test_the_shipped_specs_run_at_reduced_size",
    "tests/test_faults_signals.py::test_sigterm_stops_a_sweep_as_ctrl_c_does_no_process_is_left_and_it_resumes",
    "tests/test_faults_signals.py::test_a_full_disk_mid_sweep_stops_it_with_the_reason_and_loses_no_finished_run",
    "tests/test_faults_signals.py::test_ctrl_c_never_waits_for_runs_in_flight_and_leaves_no_process",
    "tests/test_faults_signals.py::test_kill_9_of_a_sweep_takes_its_pool_with_it",
    "tests/test_faults_signals.py::test_compare_interrupted_keeps_nothing_and_promises_no_resume",
    "tests/test_faults_signals.py::test_run_stopped_while_writing_says_so_and_leaves_no_staging_folder",
    "tests/test_faults_store.py::test_a_full_disk_is_a_message_and_leaves_nothing_half_written",
    "tests/test_faults_store.py::test_a_read_only_folder_is_refused_with_a_message",
    "tests/test_week_cost.py::test_retired_changes_leave_the_hot_arrays_and_they_stay_bounded",
    "tests/test_week_cost.py::test_retiring_changes_no_result",
    "tests/app/test_classroom.py::test_a_comparison_s_download_reproduces_with_its_command",
    "tests/app/test_lessons.py::test_the_full_size_narration_is_in_plain_words",
    "tests/app/test_lessons.py::test_the_real_lesson_follows_its_rule",
    "tests/app/test_lessons.py::test_the_download_has_a_row_per_design_and_replication_and_says_what_ran",
    "tests/test_interventions.py::test_coprod_run_reproduces_a_run_with_interventions",
    "tests/app/test_plan.py::test_cancel_stops_the_plan_leaves_no_process_and_a_rerun_resumes",
    "tests/app/test_plan.py::test_the_session_s_folder_and_plan_go_when_the_session_closes",
    "tests/app/test_plan.py::test_where_a_design_fails_is_said_in_words_and_the_choice_read_from_the_plan",
}
#: Fixtures that drive Debian's Chromium against a real Solara server (tests/app/conftest.py).
BROWSER_FIXTURES = {"page", "chromium", "app_server"}
#: A `dask scheduler` and two `dask worker`s on loopback (tests/test_sweeps.py).
DASK_FIXTURES = {"dask_cluster"}
#: The quick validation study, run once per module (tests/test_validation.py, ~2 minutes).
VALIDATION_FIXTURES = {"study"}
#: Tests of an installed wheel: building, installing and running it (tests/test_install.py).
INSTALL_FIXTURES = {"installed"}
#: Tests that give a command a small disk or a read-only folder in a mount namespace.
MOUNT_FIXTURES = {"private_mounts"}
#: Tests that measure how fast the app answers under a load they make themselves: another
#: test on the other core would be load they did not make. `make test` runs them after the
#: rest, one at a time.
ALONE = {
    "tests/app/test_classroom_browser.py::test_one_session_s_large_run_does_not_slow_another_s_step",
}
#: Tests that run (part of) the validation study without those fixtures.
VALIDATION = {
    "tests/test_install.py::test_the_installed_validate_finds_its_specs_from_an_empty_folder",
}


def markers_for(nodeid: str, fixtures: set[str]) -> list[str]:
    """The markers a test gets from its node id (parameters left out) and fixtures."""
    test = nodeid.split("[", 1)[0]
    path = test.split("::", 1)[0]
    marks = []
    if path == "tests/app/test_browser.py" or fixtures & BROWSER_FIXTURES:
        marks += ["browser", "slow"]
    if fixtures & DASK_FIXTURES:
        marks += ["dask", "slow"]
    in_study = path == "tests/test_validation.py" and fixtures & VALIDATION_FIXTURES
    if test in VALIDATION or in_study:
        marks += ["validation", "slow"]
    if fixtures & MOUNT_FIXTURES:
        marks.append("mounts")
    if test in SLOW or fixtures & INSTALL_FIXTURES:
        marks.append("slow")
    if test in ALONE:
        marks.append("alone")
    return list(dict.fromkeys(marks))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name in markers_for(item.nodeid, set(getattr(item, "fixturenames", ()))):
            item.add_marker(name)
    # A renamed test would silently lose its marker: name the entries that name no test.
    modules = {item.nodeid.split("::", 1)[0]: getattr(item, "module", None) for item in items}
    stale = sorted(
        test
        for test in SLOW | VALIDATION | ALONE
        if (path := test.split("::")[0]) in modules
        and not hasattr(modules[path], test.split("::")[-1])
    )
    if stale:
        warnings.warn(
            pytest.PytestWarning(f"tests/conftest.py marks tests that do not exist: {stale}"),
            stacklevel=1,
        )
