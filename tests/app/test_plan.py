"""The Plan page: in real Chromium against a real Solara server (a plan run to the end and
its report downloaded, a plan cancelled with no process left, a bad setting refused), and
without a browser (the page's checks, its run and cancel, the session's folder)."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import ipyvuetify as v
import psutil
import pytest
import solara
import tomli_w

from app import plan
from tests.app.conftest import Server, Traffic, element_screenshot, screenshot

RUN_TIMEOUT = 240_000  # ms: 48 runs of 52 weeks, the analysis and the report, on 2 busy cores


def load(page: object, server: Server) -> None:
    page.goto(server.url + "/plan")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Run the plan").wait_for()  # type: ignore[attr-defined]


def plan_processes(server: Server) -> list[psutil.Process]:
    """The server's ``coprod_sim plan`` subprocesses and every process they started."""
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "coprod_sim" in command and "plan" in command:
            found += [child, *child.children(recursive=True)]
    return found


def in_group(pgid: int) -> list[int]:
    """Live processes still in process group ``pgid``."""
    left = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return left


# --- in the browser --------------------------------------------------------------------------
def test_a_plan_runs_to_the_end_and_its_report_downloads(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    size = page.locator(".plan-size").inner_text()  # type: ignore[attr-defined]
    assert size == "3 designs × 8 futures × 2 replications = 48 runs of 52 weeks."
    page.get_by_role("button", name="Run the plan").click()  # type: ignore[attr-defined]
    # The runs go on in the background, the progress bar counting them.
    page.locator(".plan-progress", has_text=re.compile(r"of 48 runs")).wait_for()  # type: ignore[attr-defined]
    page.locator(".plan-progress-bar").first.wait_for()  # type: ignore[attr-defined]
    choice = page.locator(".plan-choice")  # type: ignore[attr-defined]
    choice.wait_for(timeout=RUN_TIMEOUT)
    sentence = choice.inner_text()
    chosen = re.search(r"the robust choice is (\S+?):", sentence)
    assert chosen and chosen.group(1) in {"staff-led", "tokenistic", "careqic"}, sentence
    assert "of the 8 futures" in sentence and "USD" in sentence
    ranking = page.locator(".plan-ranking").inner_text()  # type: ignore[attr-defined]
    for name in ("staff-led", "tokenistic", "careqic"):
        assert name in ranking
    assert "power sharing at rung 4 of 8 (consultation)" in ranking  # designs in words
    rows = page.locator(".plan-ranking tr").count()  # type: ignore[attr-defined]
    assert rows == 4  # the header and one row per design
    differences = page.locator(".plan-differences").inner_text()  # type: ignore[attr-defined]
    assert "viral suppression among key populations" in differences
    verdicts = re.findall(
        r"better by at least|worse by at least|no important difference|unclear", differences
    )
    assert len(verdicts) == 2 * 7  # two designs against staff-led, on seven outcomes
    assert re.search(r"[+-]\d+ \([+-]\d+ to [+-]\d+\)", differences)  # people
    failures = page.locator(".plan-failures").inner_text()  # type: ignore[attr-defined]
    assert failures.count("futures") >= 3  # a sentence per design
    assert re.search(r"misses the targets in \d+ of 8 futures|meets every target", failures)
    # The target's outcome over the weeks, a line per design, and its mean level over the run.
    page.locator(".chart-plan-key_suppression svg.marks").first.wait_for()  # type: ignore[attr-defined]
    levels = page.locator(".plan-levels").inner_text()  # type: ignore[attr-defined]
    assert "mean level over the run" in levels and levels.count("viral suppression") == 3
    element_screenshot(page, ".plan-ranking", "plan-ranking")
    element_screenshot(page, ".plan-failures", "plan-failures")
    element_screenshot(page, ".chart-plan-key_suppression", "plan-over-time")
    element_screenshot(page, ".plan-differences", "plan-differences")

    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Download the report (HTML)").click()  # type: ignore[attr-defined]
    assert download.value.suggested_filename == "my-collaborative-report.html"
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "the robust choice is <b>" + chosen.group(1) + "</b>" in report
    assert "Where the leading designs fail" in report and "Caveats" in report
    assert "https://" not in report and "http://" not in report  # it opens offline
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Download the plan (TOML)").click()  # type: ignore[attr-defined]
    spec = Path(download.value.path()).read_text(encoding="utf-8")
    assert 'scenario = "careqic"' in spec and "[designs.tokenistic" in spec
    assert plan_processes(app_server) == []  # the command has finished
    traffic.check_offline()


def test_cancel_stops_a_running_plan_and_leaves_no_process(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    page.get_by_role("button", name="Run the plan").click()  # type: ignore[attr-defined]
    # Mid-way: some runs written, not all.
    page.locator(".plan-progress", has_text=re.compile(r"Running: [1-9]\d* of 48")).wait_for(
        timeout=120_000
    )
    family = plan_processes(app_server)
    assert family, "no coprod_sim plan process found under the server"
    main = family[0]
    assert main.children(recursive=True), "the plan's worker processes were not found"
    page.get_by_role("button", name="Cancel").click()  # type: ignore[attr-defined]
    cancelled = page.locator(".plan-cancelled")  # type: ignore[attr-defined]
    cancelled.wait_for(timeout=60_000)
    text = cancelled.inner_text()
    done = int(re.search(r"Cancelled after (\d+) of 48 runs", text).group(1))  # type: ignore[union-attr]
    assert 1 <= done < 48
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"left behind: {[(p.pid, p.cmdline()[:4]) for p in alive]}"
    assert in_group(main.pid) == []
    assert plan_processes(app_server) == []
    assert page.get_by_role("button", name="Run the plan").is_enabled()  # type: ignore[attr-defined]
    screenshot(page, "plan-cancelled")
    traffic.check_offline()


def test_a_bad_setting_is_shown_beside_its_control_and_nothing_runs(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    field = page.locator(".plan-cost-staff_hour input")  # type: ignore[attr-defined]
    field.fill("-5")
    field.press("Enter")
    message = page.locator(".plan-problem-cost-staff_hour")  # type: ignore[attr-defined]
    message.wait_for()
    assert "costs.staff_hour = -5.0: must be greater than or equal to 0" in message.inner_text()
    page.get_by_role("button", name="Run the plan").click()  # type: ignore[attr-defined]
    refused = page.locator(".plan-refused")  # type: ignore[attr-defined]
    refused.wait_for()
    assert "Nothing was run: 1 setting(s) cannot be used" in refused.inner_text()
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]  # a run would have started by now
    assert plan_processes(app_server) == []
    assert page.locator(".plan-progress").count() == 0  # type: ignore[attr-defined]
    element_screenshot(page, ".plan-costs", "plan-bad-cost")
    # Mended, the message goes.
    field.fill("15")
    field.press("Enter")
    message.wait_for(state="detached")
    traffic.check_offline()


# --- without a browser --------------------------------------------------------------------------
def render_plan() -> object:
    _, rc = solara.render(plan.Page(), handle_error=False)
    return rc


def texts(rc: object, classes: str) -> str:
    """The text of every Html element under the element of exactly ``classes``."""
    found = rc.find(v.Html, class_=classes)  # type: ignore[attr-defined]
    return " ".join(str(c) for w in found.find(v.Html).widgets for c in w.children)


def small_plan() -> None:
    """3 designs x 4 futures x 2 replications of 13 weeks: 24 runs."""
    plan.steps.set(13)
    plan.futures.set(4)
    plan.update_target(0, week=13)


def wait_until(condition, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.1)


@pytest.mark.usefixtures("session")
def test_a_bad_setting_is_named_beside_its_control_and_the_plan_is_refused() -> None:
    rc = render_plan()
    assert texts(rc, "plan-size") == "3 designs × 8 futures × 2 replications = 48 runs of 52 weeks."
    # Five seats on careqic's team of six (a team needs a manager and a provider).
    seats = rc.find(v.Html, class_="control control-representative_seats")  # type: ignore[attr-defined]
    assert len(seats.widgets) == 3  # one per design
    seats.widgets[2].children[1].v_model = 5  # the third design's slider (after its label)
    message = texts(rc, "plan-problem plan-problem-design-2")
    assert "designs.careqic: representative_seats = 5" in message and "must be <= 4" in message
    assert texts(rc, "plan-problem plan-problem-design-0") == ""  # the others are fine
    # Fewer weeks than the target's week: the target says so.
    plan.steps.set(26)
    assert "targets.target_1.week = 52: at most steps = 26" in texts(
        rc, "plan-problem plan-problem-target-0"
    )
    # A context range the field cannot take, and one the wrong way round.
    plan.update_context(0, low=-0.2)
    assert "context.initial_trust.low = -0.2: must be greater than or equal to 0" in texts(
        rc, "plan-problem plan-problem-context-0"
    )
    plan.update_context(0, low=0.9, high=0.4)
    assert "context.initial_trust.low = 0.9: must be below high = 0.4" in texts(
        rc, "plan-problem plan-problem-context-0"
    )
    # Two designs of one name.
    plan.update_design(1, name="careqic")
    assert "another design has this name" in texts(rc, "plan-problem plan-problem-design-1")
    rc.find(v.Btn, children=["Run the plan"]).widget.click()  # type: ignore[attr-defined]
    assert "Nothing was run: 4 setting(s) cannot be used" in texts(rc, "plan-refused")
    assert plan.workspace.value is None and plan.plan_run.not_called  # nothing started

    # Mended, the plan is ready again and the messages go.
    plan.update_design(1, name="tokenistic")
    plan.update_design(2, representative_seats=2)
    plan.steps.set(52)
    plan.update_context(0, low=0.35, high=0.75)
    assert plan.check_plan() == (plan.check_plan()[0], ())
    assert "48 runs" in texts(rc, "plan-size")
    assert not rc.find(v.Html, class_="plan-problem plan-problem-design-2").widgets  # type: ignore[attr-defined]


@pytest.mark.usefixtures("session")
def test_the_page_s_plan_is_the_toml_the_command_reads() -> None:
    """The settings become a plan file that the planning layer reads to the same plan; a
    design from a preset carries the preset's settings, and its levers on top."""
    import tomllib

    from coprod_sim.planning.spec import parse_plan, resolve_plan

    plan.update_design(1, feedback_loop=0.5)
    plan.update_context(2, on=True)
    data = plan.plan_data()
    again = tomllib.loads(tomli_w.dumps(data))
    resolved = resolve_plan(parse_plan(again, "file"), "file")
    checked, problems = plan.check_plan(data)
    assert problems == () and checked is not None
    assert resolved.fingerprint() == checked.fingerprint()
    assert resolved.designs["tokenistic"] == {
        **plan.preset_overrides("tokenistic"),
        "feedback_loop": 0.5,
    }
    assert resolved.designs["tokenistic"]["inclusion"] == "convenience"  # from the preset
    assert set(resolved.ranges) == {
        "initial_trust",
        "authority_support",
        "groups.sex_workers.reachability",
    }
    assert resolved.ranges["initial_trust"] == plan.plausible_ranges()["initial_trust"]
    assert resolved.spec.decision.minimum_important["key_suppressed"] == plan.minimum_of(
        "key_suppressed"
    )
    assert "input reported back 50% of the time" in resolved.descriptions["tokenistic"]
    assert "feedback_loop" not in resolved.descriptions["tokenistic"]  # in words
    assert checked.n_runs == 3 * 8 * 2


def test_where_a_design_fails_is_said_in_words_and_the_choice_read_from_the_plan(
    tmp_path: Path,
) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(4)
    trust, support = rng.uniform(0.35, 0.75, 300), rng.uniform(0.3, 1.0, 300)
    cells = pd.DataFrame(
        {
            "scenario": ["a"] * 300 + ["b"] * 300,
            "future": list(range(300)) * 2,
            "initial_trust": np.r_[trust, trust],
            "authority_support": np.r_[support, support],
            "targets_met": np.r_[trust >= 0.45, np.ones(300, bool)],
        }
    )
    words = plan.failure_sentences(cells, ["initial_trust", "authority_support"])
    assert re.match(
        r"misses the targets in \d+ of 300 futures, mostly when patients' initial trust is "
        r"below 0\.4\d",
        words["a"],
    ), words["a"]
    assert "managers' support" not in words["a"]  # PRIM leaves the irrelevant field alone
    assert words["b"] == "meets every target in all 300 futures: there is no failure to locate."
    (tmp_path / "choice.json").write_text('{"rule": "regret", "design": "x & co"}')
    assert plan.robust_choice(tmp_path) == "x & co"


@pytest.mark.usefixtures("session")
def test_cancel_stops_the_plan_leaves_no_process_and_a_rerun_resumes() -> None:
    rc = render_plan()
    small_plan()
    checked, _ = plan.check_plan()
    assert checked is not None and checked.n_runs == 24
    rc.find(v.Btn, children=["Run the plan"]).widget.click()  # type: ignore[attr-defined]
    wait_until(lambda: plan.progress.value[0] >= 1, "a first run written")
    space = plan.workspace.value
    main = psutil.Process(space.process.pid)  # type: ignore[union-attr]
    family = [main, *main.children(recursive=True)]
    assert len(family) >= 2  # the command and its pool
    rc.find(v.Btn, children=["Cancel"]).widget.click()  # type: ignore[attr-defined]
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"left behind: {alive}"
    assert in_group(main.pid) == []
    wait_until(lambda: not plan.plan_run.pending, "the run to report its end", 30)
    stopped = plan.plan_run.value
    assert stopped is not None and stopped.cancelled and 1 <= stopped.done < 24
    wait_until(lambda: rc.find(v.Alert).widgets, "the cancelled message", 10)  # type: ignore[attr-defined]
    out = space.paths(checked.fingerprint()[:16])[1]  # type: ignore[union-attr]
    kept = plan.runs_done(out)
    assert kept == stopped.done

    # The same settings again: the same folder, resumed from the runs kept.
    rc.find(v.Btn, children=["Run the plan"]).widget.click()  # type: ignore[attr-defined]
    wait_until(lambda: plan.plan_run.finished, "the resumed plan", 240)
    done = plan.plan_run.value
    assert done is not None and not done.cancelled and done.done == 24
    assert plan.runs_done(out) == 24  # no run twice
    log = (space.folder / f"{checked.fingerprint()[:16]}.log").read_text()  # type: ignore[union-attr]
    assert f"({24 - kept} now, {kept} before)" in log
    wait_until(lambda: rc.find(v.Html, class_="plan-choice").widgets, "the results", 10)  # type: ignore[attr-defined]
    assert "the robust choice is " + done.choice in texts_of(rc, "plan-choice")
    # A change to the settings marks the results stale.
    plan.seed.set(2)
    wait_until(lambda: rc.find(v.Html, class_="plan-stale").widgets, "the stale marker", 10)  # type: ignore[attr-defined]
    space.close()  # type: ignore[union-attr]
    assert not space.folder.exists()  # type: ignore[union-attr]


def texts_of(rc: object, classes: str) -> str:
    return " ".join(
        str(c)
        for w in rc.find(v.Html, class_=classes).widgets  # type: ignore[attr-defined]
        for c in w.children
    )


def new_context() -> object:
    import solara.server.starlette  # noqa: F401  # kernels are per session with a server
    from solara.server import kernel, kernel_context

    return kernel_context.VirtualKernelContext(
        id=f"test-{uuid.uuid4()}", kernel=kernel.Kernel(), session_id=f"s-{uuid.uuid4()}"
    )


def test_each_session_has_its_own_plan_and_folder() -> None:
    first, second = new_context(), new_context()
    with first:  # type: ignore[attr-defined]
        plan.futures.set(5)
        plan.update_design(0, name="mine")
        space = plan.session_workspace()
    with second:  # type: ignore[attr-defined]
        assert plan.futures.value == 8 and plan.designs.value[0].name == "staff-led"
        assert plan.workspace.value is None
        other = plan.session_workspace()
    assert other.folder != space.folder and other.folder.exists() and space.folder.exists()
    for context in (first, second):
        context.close(reason="page-close")  # type: ignore[attr-defined]
    assert not space.folder.exists() and not other.folder.exists()


def test_the_session_s_folder_and_plan_go_when_the_session_closes() -> None:
    context = new_context()
    with context:  # type: ignore[attr-defined]
        small_plan()
        checked, problems = plan.check_plan()
        assert checked is not None, problems
        space = plan.session_workspace()
        assert plan.session_workspace() is space  # one per session
        process = space.start(checked.fingerprint()[:16], tomli_w.dumps(plan.plan_data()))
        main = psutil.Process(process.pid)
        wait_until(lambda: main.children(recursive=True), "the plan's pool", 60)
        family = [main, *main.children(recursive=True)]
    with context:  # type: ignore[attr-defined]
        other = plan.workspace.value
    assert other is space and space.folder.exists()
    context.close(reason="page-close")  # type: ignore[attr-defined]
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"left behind: {alive}"
    assert not space.folder.exists() and space.closed
