"""The explorer in a class, in real Chromium against the real app: presenter mode on a
1024×768 projector, a change made in the middle of a run, and two sessions at once, one
playing the largest scenario a session may run while the other steps.

Screenshots go to ``test-output/screenshots/``; the two-session figures to
``test-output/two-sessions.json``.
"""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from app import state
from coprod_sim import load_scenario
from tests.app.conftest import (
    FONT_SIZES_JS,
    OUTPUT,
    REDRAW_JS,
    SCROLLERS_JS,
    Server,
    Traffic,
    element_screenshot,
    open_page,
    screenshot,
)
from tests.app.test_browser import choose, load, step, svg, wait_explore, wait_svg_change, week

pytestmark = pytest.mark.browser


def test_presenter_mode_fits_a_projector_with_large_text(
    chromium: object, app_server: Server
) -> None:
    traffic = Traffic()
    page = open_page(chromium, traffic)
    page.set_viewport_size({"width": 1024, "height": 768})  # type: ignore[attr-defined]
    try:
        load(page, app_server)
        wait_explore(page)
        page.get_by_role("button", name="Presenter mode").click()  # type: ignore[attr-defined]
        page.locator(".presenter-views").wait_for()  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => document.querySelectorAll('.coprod-chart svg.marks').length === 2"
        )
        step(page, 2)
        page.wait_for_timeout(500)  # type: ignore[attr-defined]  # the last redraw lands
        screenshot(page, "presenter-1024x768")
        assert page.evaluate(SCROLLERS_JS) == []  # type: ignore[attr-defined]
        small = [(t, size) for t, size in page.evaluate(FONT_SIZES_JS) if size < 18]  # type: ignore[attr-defined]
        assert small == [], f"text under 18 px: {small[:10]}"

        # Each other view fits too.
        for view, drawn in (
            ("Changes and value", ".chart-value svg.marks"),
            ("Retention in care", ".chart-retention svg.marks"),
        ):
            page.get_by_role("button", name=view).click()  # type: ignore[attr-defined]
            page.locator(drawn).first.wait_for()  # type: ignore[attr-defined]
            page.wait_for_timeout(500)  # type: ignore[attr-defined]
            screenshot(page, f"presenter-1024x768-{view.split()[-1].lower()}")
            assert page.evaluate(SCROLLERS_JS) == [], view  # type: ignore[attr-defined]
            small = [(t, px) for t, px in page.evaluate(FONT_SIZES_JS) if px < 18]  # type: ignore[attr-defined]
            assert small == [], f"{view}: text under 18 px: {small[:10]}"
        traffic.check_offline()
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_a_change_mid_run_keeps_the_week_and_marks_the_charts(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server)
    wait_explore(page)
    step(page, 5)
    trust = svg(page, "trust")
    choose(page, "Change without starting again", "Managers withdraw their support")
    page.get_by_role("button", name="Make this change at week 5").click()  # type: ignore[attr-defined]
    page.get_by_text("Changes made: week 5: Managers withdraw their support").wait_for()  # type: ignore[attr-defined]
    assert week(page) == 5  # not back to week 0
    wait_svg_change(page, "trust", trust)
    for name in ("trust", "stigma", "changes", "value", "retention"):
        page.locator(f".chart-{name} svg g.mark-rule").first.wait_for()  # type: ignore[attr-defined]
    step(page, 2)
    assert week(page) == 7

    choose(page, "Change without starting again", "A crisis begins (12 weeks)")
    page.get_by_role("button", name="Make this change at week 7").click()  # type: ignore[attr-defined]
    for name in ("trust", "stigma", "changes", "value", "retention"):
        page.locator(f".chart-{name} svg g.mark-rect").first.wait_for()  # type: ignore[attr-defined]
    step(page, 3)
    element_screenshot(page, ".chart-trust", "intervention-trust")
    screenshot(page, "intervention")
    traffic.check_offline()


def largest_session_scenario() -> str:
    """TOML of the largest scenario a session may run: every size at its cap."""
    base = load_scenario("careqic")
    sites = state.MAX_SESSION_SITES
    entry = {
        "name": "Region",
        "count": sites,
        "patients": state.MAX_SESSION_PATIENTS // sites,
        "providers": state.MAX_SESSION_PROVIDERS // sites,
        "group_shares": dict(base.sites[0].group_shares),
    }
    big = base.with_overrides({"sites": [entry], "crisis_sites": [], "name": "largest-allowed"})
    assert not state.session_size_problems(big)
    return big.to_toml()


def step_to_redraw_ms(page: object, steps: int, warm_up: int = 3) -> list[float]:
    """Click-to-redrawn times of ``steps`` presses of Step, after ``warm_up`` presses."""
    times = []
    for i in range(warm_up + steps):
        elapsed = float(page.evaluate(REDRAW_JS))  # type: ignore[attr-defined]
        page.wait_for_timeout(100)  # type: ignore[attr-defined]
        if i >= warm_up:
            times.append(elapsed)
    return times


def test_one_session_s_large_run_does_not_slow_another_s_step(
    chromium: object, app_server: Server
) -> None:
    big_traffic, small_traffic = Traffic(), Traffic()
    big, small = open_page(chromium, big_traffic), open_page(chromium, small_traffic)
    try:
        load(small, app_server)
        wait_explore(small)
        alone = step_to_redraw_ms(small, 20)

        # The other session imports the largest scenario allowed and plays it to week 208.
        load(big, app_server)
        wait_explore(big)
        big.locator(".paste-import textarea").fill(largest_session_scenario())  # type: ignore[attr-defined]
        big.get_by_role("button", name="Import the pasted scenario").click()  # type: ignore[attr-defined]
        big.get_by_text("Imported pasted.toml").wait_for()  # type: ignore[attr-defined]
        big.get_by_text("100 sites · 50,000 patients").wait_for()  # type: ignore[attr-defined]
        big.locator(".horizon [role=slider]").first.focus()  # type: ignore[attr-defined]
        big.keyboard.press("End")  # type: ignore[attr-defined]
        big.get_by_text("Run to week 208").wait_for()  # type: ignore[attr-defined]
        big.get_by_role("button", name="Play").click()  # type: ignore[attr-defined]
        big.get_by_role("button", name="Pause").wait_for()  # type: ignore[attr-defined]
        started = week(big)

        beside = step_to_redraw_ms(small, 40)
        played = week(big) - started
        assert big.get_by_role("button", name="Pause").is_visible()  # type: ignore[attr-defined]
        assert played >= 10, f"the large session played only {played} weeks meanwhile"
        screenshot(big, "two-sessions-large")
        screenshot(small, "two-sessions-small")
    finally:
        big.context.close()  # type: ignore[attr-defined]
        small.context.close()  # type: ignore[attr-defined]

    p95 = float(np.percentile(beside, 95))
    figures = {
        "alone_median_ms": statistics.median(alone),
        "alone_p95_ms": float(np.percentile(alone, 95)),
        "beside_large_median_ms": statistics.median(beside),
        "beside_large_p95_ms": p95,
        "large_session_weeks_played": played,
        "steps_alone": len(alone),
        "steps_beside": len(beside),
    }
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "two-sessions.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    assert p95 <= 300, figures
    big_traffic.check_offline()
    small_traffic.check_offline()
