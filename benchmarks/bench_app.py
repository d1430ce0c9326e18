"""How long one step plus the redraw takes in the scenario explorer, at CaReQIC scale.

Two measurements, each repeated in one run (the machine is noisy: read the
median and the spread, not a single figure):

1. **Server**: pressing Step in a rendered explorer page and its sidebar
   (``solara.render``, no browser): the model's week, the outputs frame, the six chart specs (five
   charts and the site network) and Solara's re-render and widget updates.
   The model's week alone is timed too, to show what the redraw adds.
2. **Browser** (skipped with ``--no-browser``, or when Chromium is missing):
   the real app (``solara run``) in headless Chromium: from the click on Step
   until every chart on the page (the five Vega charts and the network's
   canvas) has been redrawn. This includes the websocket round trip and
   Vega's drawing (the app's ``VegaLiteLive`` widget draws without a debounce).

The target is ≤ 200 ms for one step plus the redraw.

Run: ``make bench-app`` (or ``.venv/bin/python benchmarks/bench_app.py [--steps N]``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 200.0


def describe(name: str, samples_ms: list[float]) -> str:
    a = np.asarray(samples_ms)
    p25, p50, p75 = np.percentile(a, [25, 50, 75])
    return (
        f"{name:<44} median {p50:7.1f} ms   IQR {p25:6.1f}–{p75:6.1f}   "
        f"min {a.min():6.1f}   max {a.max():6.1f}   (n = {a.size})"
    )


def bench_server(steps: int) -> tuple[list[float], list[float]]:
    """Step clicks in a rendered page, and bare model steps, in ms."""
    import ipyvuetify as v
    import solara
    import solara.server.starlette  # per-session state, as in the server
    from solara.server import kernel, kernel_context

    from app import explore, state
    from coprod_sim import CoproductionModel

    @solara.component
    def Explorer() -> None:  # noqa: N802  (a component)
        """The page and its sidebar, as the server draws them."""
        explore.Page()
        explore.Sidebar(state.model.value)

    context = kernel_context.VirtualKernelContext(
        id=f"bench-{uuid.uuid4()}", kernel=kernel.Kernel(), session_id="bench"
    )
    with context:
        state.weeks.set(steps + 10)
        _, rc = solara.render(Explorer(), handle_error=False)
        step = rc.find(v.Btn, children=["Step"]).widget
        for _ in range(3):  # warm-up
            step.click()
        clicks = []
        for _ in range(steps):
            start = time.perf_counter()
            step.click()
            clicks.append((time.perf_counter() - start) * 1000)
        assert state.model.value is not None and state.model.value.week == steps + 3

    model = CoproductionModel.from_scenario("careqic", rng=42)
    model.run_for(3)
    bare = []
    for _ in range(steps):
        start = time.perf_counter()
        model.step()
        bare.append((time.perf_counter() - start) * 1000)
    return clicks, bare


def bench_browser(steps: int) -> list[float]:
    """Click-to-redrawn times in headless Chromium against the real app, in ms."""
    from playwright.sync_api import sync_playwright

    from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, OFFLINE_ENV, REDRAW_JS, start_server

    os.environ.update(OFFLINE_ENV)
    log = ROOT / "test-output" / "bench-app-server.log"
    log.parent.mkdir(exist_ok=True)
    server = start_server(log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(server.url + "/")
            page.wait_for_load_state("networkidle")
            page.locator(".chart-network canvas.marks").wait_for(timeout=60_000)
            times = []
            for i in range(steps + 3):
                elapsed = page.evaluate(REDRAW_JS)
                page.wait_for_timeout(150)  # let the page settle between clicks
                if i >= 3:  # warm-up
                    times.append(float(elapsed))
            browser.close()
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="steps timed per measurement")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser measurement")
    args = parser.parse_args()
    print(f"coprod_sim app benchmark: careqic (26 sites, 8,300 patients), {args.steps} steps")
    clicks, bare = bench_server(args.steps)
    print(describe("model.step() alone", bare))
    print(describe("server: Step click, step + redraw", clicks))
    median = statistics.median(clicks)
    if not args.no_browser:
        from tests.app.conftest import CHROMIUM

        if CHROMIUM.exists():
            browser = bench_browser(min(args.steps, 25))
            print(describe("browser: click to every chart redrawn", browser))
            median = statistics.median(browser)
        else:
            print(f"browser: skipped ({CHROMIUM} not found)")
    verdict = "within" if median <= TARGET_MS else "OVER"
    print(
        f"step + redraw, median of the last measurement: {median:.1f} ms ({verdict} the "
        f"{TARGET_MS:.0f} ms target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
