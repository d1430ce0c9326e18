"""End-to-end tests: the real app in headless Chromium (Debian's package) via Playwright.

Each test loads pages from a real ``solara run app/app.py`` on 127.0.0.1 and
checks that every request was answered from that server (nothing from a CDN
or any other host), then works the page as a user would. Screenshots go to
``test-output/screenshots/``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from coprod_sim import Scenario, load_scenario
from tests.app.conftest import Server, Traffic, element_screenshot, open_page, screenshot

pytestmark = pytest.mark.browser

BAD_TOML = 'name = "broken"\npower_sharing = 9\ninclusion = "sometimes"\n'


def load(page: object, server: Server, path: str = "/") -> None:
    page.goto(server.url + path)  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]


#: A chart's drawing: the SVG's markup, or the canvas's pixels (the network is a canvas).
DRAWING_JS = """(sel) => {
    const chart = document.querySelector(sel);
    const svg = chart && chart.querySelector('svg.marks');
    if (svg) return svg.innerHTML;
    const canvas = chart && chart.querySelector('canvas.marks');
    return canvas ? canvas.toDataURL() : null;
}"""


def wait_explore(page: object) -> None:
    """The explorer is up: the week counter and the charts are drawn."""
    page.get_by_text(re.compile(r"Week \d+ of \d+")).wait_for()  # type: ignore[attr-defined]
    for name in ("trust", "stigma", "changes", "value", "retention"):
        page.locator(f".chart-{name} svg.marks").first.wait_for()  # type: ignore[attr-defined]
    page.locator(".chart-network canvas.marks").first.wait_for()  # type: ignore[attr-defined]


def week(page: object) -> int:
    text = page.locator(".week-counter").inner_text()  # type: ignore[attr-defined]
    return int(re.match(r"Week (\d+)", text).group(1))  # type: ignore[union-attr]


def svg(page: object, name: str) -> str:
    """The drawing of chart ``name`` (SVG markup or canvas pixels)."""
    drawing = page.evaluate(DRAWING_JS, f".chart-{name}")  # type: ignore[attr-defined]
    assert drawing, f"chart {name} is not drawn"
    return drawing


def wait_svg_change(page: object, name: str, before: str, timeout: float = 15_000) -> str:
    """Wait until a chart's drawing differs from ``before``; return the new drawing."""
    page.wait_for_function(  # type: ignore[attr-defined]
        f"([sel, old]) => {{ const now = ({DRAWING_JS})(sel); return now && now !== old; }}",
        arg=[f".chart-{name}", before],
        timeout=timeout,
    )
    return svg(page, name)


def step(page: object, times: int = 1) -> None:
    for _ in range(times):
        start = week(page)
        page.get_by_role("button", name="Step").click()  # type: ignore[attr-defined]
        page.get_by_text(f"Week {start + 1} of").wait_for()  # type: ignore[attr-defined]


def choose(page: object, label: str, option: str) -> None:
    """Pick an option in a Vuetify select found by its label."""
    page.locator(".v-select", has_text=label).first.click()  # type: ignore[attr-defined]
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()  # type: ignore[attr-defined]


def test_each_page_loads_offline(chromium: object, app_server: Server) -> None:
    def compare_ready(page: object) -> None:
        page.get_by_text("Compare designs").wait_for()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Run comparison").wait_for()  # type: ignore[attr-defined]

    def plan_ready(page: object) -> None:
        page.get_by_text("Plan a collaborative").wait_for()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Run the plan").wait_for()  # type: ignore[attr-defined]

    def teach_ready(page: object) -> None:
        page.get_by_role("button", name="Run this lesson").wait_for()  # type: ignore[attr-defined]

    # Each page in a page of its own: navigating away would abort a request still in flight,
    # a failure of the test's making (net::ERR_ABORTED), whenever the page asked for it.
    requested: list[str] = []
    for path, ready, name in (
        ("/", wait_explore, "explore"),
        ("/compare", compare_ready, "compare"),
        ("/plan", plan_ready, "plan"),
        ("/teach", teach_ready, "teach"),
    ):
        traffic = Traffic()
        page = open_page(chromium, traffic)
        try:
            load(page, app_server, path)
            ready(page)
            screenshot(page, name)
            traffic.settle(page)  # a script asked for late is checked too
            traffic.check_offline()
            requested += traffic.requests
        finally:
            page.context.close()  # type: ignore[attr-defined]
    assert any("/_solara/cdn/vega@5/" in u for u in requested)  # served locally
    assert "Could not load URL" not in app_server.log_text()


#: How far the sidebar reaches over the page's content, in px (0: not at all).
OVERLAP_JS = """() => {
    const drawer = document.querySelector('.v-navigation-drawer').getBoundingClientRect();
    const title = document.querySelector('.explore-title').getBoundingClientRect();
    return Math.max(0, drawer.right - title.left);
}"""


def test_step_play_and_a_control_change_the_charts(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    wait_explore(page)
    assert week(page) == 0
    # The sidebar sits beside the charts, not over them (a long button label once widened it).
    assert page.evaluate(OVERLAP_JS) == 0  # type: ignore[attr-defined]
    trust, stigma, network = svg(page, "trust"), svg(page, "stigma"), svg(page, "network")
    step(page, 3)
    assert week(page) == 3
    wait_svg_change(page, "trust", trust)
    wait_svg_change(page, "stigma", stigma)
    wait_svg_change(page, "network", network)

    # Play runs in the background; the page keeps answering, and Pause stops it.
    page.get_by_role("button", name="Play").click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => /Week ([6-9]|\\d\\d+) of/.test(document.querySelector('.week-counter').innerText)"
    )
    page.get_by_role("button", name="Pause").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Play").wait_for()  # type: ignore[attr-defined]
    paused_at = week(page)
    assert paused_at >= 6
    # Pause stops between weeks: the week under way, if any, still ends, and no other starts.
    # Still playing, 1.5 s would be several weeks (one each 0.15 s plus its redraw); a slow
    # server can only make fewer weeks, so the bound holds whatever the machine's speed.
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    assert paused_at <= week(page) <= paused_at + 1
    screenshot(page, "explore-played")
    element_screenshot(page, ".chart-network", "network-trust")

    # Power sharing one rung down, with the keyboard on the slider: the model is rebuilt.
    page.locator(".control-power_sharing [role=slider]").first.focus()  # type: ignore[attr-defined]
    page.keyboard.press("ArrowLeft")  # type: ignore[attr-defined]
    page.get_by_text("5 · placation").wait_for()  # type: ignore[attr-defined]
    page.get_by_text("Week 0 of").wait_for()  # type: ignore[attr-defined]
    trust = svg(page, "trust")
    step(page, 2)
    wait_svg_change(page, "trust", trust)

    # The network view recolours by stigma.
    network = svg(page, "network")
    page.get_by_role("button", name="stigma").click()  # type: ignore[attr-defined]
    wait_svg_change(page, "network", network)
    element_screenshot(page, ".chart-network", "network-stigma")
    traffic.check_offline()


def test_a_bad_toml_shows_its_errors_and_the_app_keeps_running(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    wait_explore(page)
    step(page, 1)
    # Drop the file on the drop zone as a user would. A synthetic drop has no file-system
    # entry, so give its item one (Chromium only makes them for drops from the desktop).
    page.evaluate(  # type: ignore[attr-defined]
        """([text, name]) => {
            const file = new File([text], name, {type: 'application/toml'});
            const transfer = new DataTransfer();
            transfer.items.add(file);
            const original = DataTransferItem.prototype.webkitGetAsEntry;
            DataTransferItem.prototype.webkitGetAsEntry = function () {
                const entry = original.call(this);
                const item = this;
                return entry || {isFile: true, file: (ok) => ok(item.getAsFile())};
            };
            document.querySelector('.solara-file-drop').dispatchEvent(
                new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        [BAD_TOML, "bad.toml"],
    )
    errors = page.locator(".import-errors")  # type: ignore[attr-defined]
    errors.wait_for()
    text = errors.inner_text()
    assert "bad.toml was not imported" in text
    assert "power_sharing = 9" in text and "less than or equal to 8" in text
    assert "inclusion = 'sometimes'" in text and "'convenience' or 'deliberate'" in text
    screenshot(page, "import-error")
    element_screenshot(page, ".import-errors", "import-error-list")
    # The previous scenario still runs, and is what a download gives.
    assert page.get_by_text("careqic · 26 sites").count() == 1  # type: ignore[attr-defined]
    assert week(page) == 1
    step(page, 1)
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Scenario (TOML)").click()  # type: ignore[attr-defined]
    saved = Path(download.value.path()).read_text()
    assert Scenario.from_toml(saved) == load_scenario("careqic")
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Results so far (ZIP)").click()  # type: ignore[attr-defined]
    assert download.value.suggested_filename == "careqic-seed42.zip"
    with zipfile.ZipFile(download.value.path()) as bundle:
        folder = "careqic-seed42-week2"
        with bundle.open(f"{folder}/collaborative.csv") as table:
            assert list(pd.read_csv(table)["week"]) == [0, 1, 2]
        readme = bundle.read(f"{folder}/README.txt").decode()
    assert "seed 42, 2 weeks" in readme and "--seed 42" in readme
    traffic.check_offline()


def test_a_comparison_runs_and_says_which_design_did_better(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server, "/compare")
    page.get_by_role("button", name="Run comparison").click()  # type: ignore[attr-defined]
    # The runs happen in the background: the page shows their progress meanwhile.
    page.locator(".compare-progress").wait_for()  # type: ignore[attr-defined]
    summary = page.locator(".compare-summary")  # type: ignore[attr-defined]
    summary.wait_for(timeout=60_000)
    text = summary.inner_text()
    assert "Patients' trust in providers: " in text
    assert "A = tokenistic" in page.inner_text("body")  # type: ignore[attr-defined]
    assert "Equity gap between groups:" in text
    assert "paired replications" in text
    verdicts = r"did (better|worse) than A|no important difference between B and A|unclear whether"
    assert len(re.findall(verdicts, text)) == 8  # one verdict per outcome, after the last week
    assert "people in care" in text  # retention's effect in people
    framing = page.locator(".compare-framing").inner_text()  # type: ignore[attr-defined]
    assert "on 8 outcomes" in framing and "unadjusted" in framing
    assert "mean level over the run" in page.locator(".compare-over-time").inner_text()  # type: ignore[attr-defined]
    for key in ("patient_trust", "key_population_stigma", "equity_gap", "retention"):
        page.locator(f".chart-diff-{key} svg.marks").first.wait_for()  # type: ignore[attr-defined]
    screenshot(page, "compare-results")
    element_screenshot(page, ".compare-summary", "compare-verdicts")
    element_screenshot(page, ".compare-charts", "compare-differences")
    element_screenshot(page, ".chart-diff-key_population_stigma", "compare-stigma-difference")
    traffic.check_offline()


def test_two_sessions_do_not_see_each_other(chromium: object, app_server: Server) -> None:
    first_traffic, second_traffic = Traffic(), Traffic()
    first, second = open_page(chromium, first_traffic), open_page(chromium, second_traffic)
    try:
        load(first, app_server)
        load(second, app_server)
        wait_explore(first)
        wait_explore(second)
        step(first, 2)
        assert week(second) == 0
        choose(second, "Scenario", "tokenistic")
        second.get_by_text("tokenistic · 26 sites").wait_for()  # type: ignore[attr-defined]
        step(second, 1)
        assert week(first) == 2 and week(second) == 1
        assert first.get_by_text("careqic · 26 sites").count() == 1  # type: ignore[attr-defined]
        assert first.get_by_text("6 · partnership").count() == 1  # type: ignore[attr-defined]
        assert second.get_by_text("4 · consultation").count() == 1  # type: ignore[attr-defined]
        screenshot(first, "session-1")
        screenshot(second, "session-2")
        first_traffic.check_offline()
        second_traffic.check_offline()
    finally:
        first.context.close()  # type: ignore[attr-defined]
        second.context.close()  # type: ignore[attr-defined]


def test_compare_three_designs_and_results_go_stale_when_a_design_changes(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server, "/compare")
    page.get_by_role("button", name="Add design C").click()  # type: ignore[attr-defined]
    page.locator(".design-c").wait_for()  # type: ignore[attr-defined]
    assert "C = staff-led" not in page.inner_text("body")  # type: ignore[attr-defined]  # not run yet
    # Fewer, shorter replications: Home takes each slider to its least value (2 and 4 weeks).
    for label, least in (("Replications:", "Replications: 2"), ("Weeks:", "Weeks: 4")):
        page.locator(".v-input", has_text=label).locator("[role=slider]").first.focus()  # type: ignore[attr-defined]
        page.keyboard.press("Home")  # type: ignore[attr-defined]
        page.get_by_text(least).wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Run comparison").click()  # type: ignore[attr-defined]
    summary = page.locator(".compare-summary")  # type: ignore[attr-defined]
    summary.wait_for(timeout=60_000)
    text = summary.inner_text()
    assert "B against A" in text and "C against A" in text
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "C = staff-led: power sharing at rung 3 of 8 (informing)" in body  # in words
    assert "representative_seats" not in body and "feedback_loop" not in body
    framing = page.locator(".compare-framing").inner_text()  # type: ignore[attr-defined]
    assert "B and C are each compared with A (the reference) on 8 outcomes" in framing
    assert page.locator(".compare-stale").count() == 0  # type: ignore[attr-defined]
    for key in ("patient_trust", "retention"):  # one chart per outcome, B − A and C − A on it
        page.locator(f".chart-diff-{key} svg.marks").first.wait_for()  # type: ignore[attr-defined]
    assert "C − A" in page.locator(".chart-diff-retention").inner_text()  # type: ignore[attr-defined]

    # The Bonferroni control changes the framing at once, without a new run.
    page.get_by_text("Bonferroni-adjust the intervals").click()  # type: ignore[attr-defined]
    page.locator(".compare-framing", has_text="Bonferroni-adjusted").wait_for()  # type: ignore[attr-defined]

    # Design C one rung up: the results on the page no longer describe it.
    page.locator(".design-c .control-power_sharing [role=slider]").first.focus()  # type: ignore[attr-defined]
    page.keyboard.press("ArrowRight")  # type: ignore[attr-defined]
    stale = page.locator(".compare-stale")  # type: ignore[attr-defined]
    stale.wait_for()
    assert "stale" in stale.inner_text() and "design C changed" in stale.inner_text()
    element_screenshot(page, ".compare-stale", "compare-stale")
    element_screenshot(page, ".compare-over-time", "compare-over-the-run")
    traffic.check_offline()
