"""Fixtures for the app's tests: a fresh Solara session per component test, and a real
Solara server with Debian's Chromium, driven by Playwright, for the end-to-end tests.

The server runs ``solara run app/app.py`` on 127.0.0.1 on a free port, with
telemetry off and Solara's CDN pointed at a closed loopback port, so anything
the page asks for that is not in the offline asset folder fails loudly (the
server logs "Could not load URL") instead of being fetched from the internet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
CHROMIUM = Path(os.environ.get("COPROD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--disable-sync", "--no-sandbox"]
#: Environment for an offline, quiet Solara server.
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    # Anything missing from the local asset folder would be fetched from here: a closed
    # port on this machine, so a missing asset fails instead of reaching the internet.
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/",
    # As `make app`: no banner over the page, the project's name in the tab.
    "SOLARA_THEME_SHOW_BANNER": "false",
    "SOLARA_THEME_TITLE": "coprod_sim",
}


# ---------------------------------------------------------------------------------------------
# Component tests: each test is its own browser session (virtual kernel)
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def session() -> Iterator[object]:
    """A fresh Solara kernel context: the app's session state starts from its defaults."""
    # Solara scopes reactive values per kernel only when it sees its server loaded.
    import solara.server.starlette  # noqa: F401
    from solara.server import kernel, kernel_context

    context = kernel_context.VirtualKernelContext(
        id=f"test-{uuid.uuid4()}", kernel=kernel.Kernel(), session_id=f"s-{uuid.uuid4()}"
    )
    with context:
        yield context
    # Not context.close(): outside a server its widgets have no comms to close.


# ---------------------------------------------------------------------------------------------
# End-to-end tests: a real server and a real browser
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(log: Path, timeout: float = 90.0) -> Server:
    """Start ``solara run app/app.py`` on a free loopback port and wait until it answers."""
    port = free_port()
    env = {**os.environ, **OFFLINE_ENV}
    solara = Path(sys.executable).with_name("solara")
    handle = log.open("w")
    process = subprocess.Popen(
        [
            str(solara),
            "run",
            "app/app.py",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-open",
            "--production",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"solara exited early ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:
                if response.status == 200:
                    return Server(url, log, process)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"solara did not answer on {url} within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def app_server() -> Iterator[Server]:
    OUTPUT.mkdir(exist_ok=True)
    server = start_server(OUTPUT / "solara-server.log")
    yield server
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (``playwright install`` cannot fetch one here)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Traffic:
    """Every request a page made, and those that failed or were refused."""

    requests: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    in_flight: int = 0  # requests sent that have neither finished nor failed yet

    def settle(self, page: object, timeout: float = 30.0) -> None:
        """Wait until no request is in flight: navigating away would abort one (a failure
        of the test's making, ``net::ERR_ABORTED``), however long the page took to ask."""
        deadline = time.monotonic() + timeout
        while self.in_flight > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.in_flight} request(s) still in flight after {timeout} s")
            page.wait_for_timeout(50)  # type: ignore[attr-defined]  # Playwright's events run

    def check_offline(self) -> None:
        """No request failed or got an error status, and none left 127.0.0.1."""
        assert self.requests, "the page made no requests at all"
        assert not self.failed, f"failed requests: {self.failed}"
        hosts = {urlparse(u).hostname for u in self.requests if not u.startswith("data:")}
        assert hosts == {"127.0.0.1"}, f"requests to other hosts: {hosts - {'127.0.0.1'}}"


def open_page(browser: object, traffic: Traffic) -> object:
    """A new browser context (its own cookies, hence its own Solara session) and page."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)

    def sent(request: object) -> None:
        traffic.requests.append(request.url)  # type: ignore[attr-defined]
        traffic.in_flight += 1

    def finished(request: object) -> None:
        traffic.in_flight -= 1

    def failed(request: object) -> None:
        traffic.failed.append((request.url, str(request.failure)))  # type: ignore[attr-defined]
        traffic.in_flight -= 1

    page.on("request", sent)
    page.on("requestfinished", finished)
    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda r: traffic.failed.append((r.url, f"HTTP {r.status}")) if r.status >= 400 else None,
    )
    return page


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(chromium: object, traffic: Traffic) -> Iterator[object]:
    page = open_page(chromium, traffic)
    yield page
    page.context.close()  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot of the page under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def element_screenshot(page: object, selector: str, name: str) -> Path:
    """Save a screenshot of one element (the page scrolls inside Solara's layout, which a
    full-page screenshot does not follow)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.locator(selector).first.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


#: In the page: press Step and wait until every chart on it is drawn anew; returns the
#: milliseconds from the click to the last chart redrawn (the benchmark and the tests).
REDRAW_JS = """
async () => {
  // Each chart's widget counts its draws (app/vega.vue): wait until every chart has drawn
  // again since the click, then for the frame that paints it. (Reading the drawings
  // themselves every frame, a canvas encoded as PNG, took the page's time from the charts.)
  const charts = [...document.querySelectorAll('.coprod-chart [data-drawn]')];
  if (!charts.length) throw new Error('no chart has been drawn yet');
  const drawn = () => charts.map(c => Number(c.dataset.drawn));
  const before = drawn();
  const step = [...document.querySelectorAll('button')].find(
      b => b.innerText.trim().toLowerCase() === 'step');
  const start = performance.now();
  step.click();
  await new Promise((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error('no redraw within 10 s')), 10000);
    const check = () => {
      if (drawn().every((n, i) => n > before[i])) { clearTimeout(limit); resolve(); }
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  await new Promise(requestAnimationFrame);
  return performance.now() - start;
}
"""


# ---------------------------------------------------------------------------------------------
# Pages at a projector's size: what scrolls, and how large the text is
# ---------------------------------------------------------------------------------------------
#: Every element that scrolls, and the page's own overflow, at the viewport's size.
SCROLLERS_JS = """() => {
    const out = [];
    const root = document.scrollingElement;
    if (root.scrollHeight > window.innerHeight + 1 || root.scrollWidth > window.innerWidth + 1)
        out.push(`page ${root.scrollWidth}×${root.scrollHeight}`);
    for (const el of document.querySelectorAll('body *')) {
        const style = getComputedStyle(el);
        const scrolls = ['auto', 'scroll'].includes(style.overflowY) ||
                        ['auto', 'scroll'].includes(style.overflowX);
        if (scrolls && el.offsetParent !== null &&
            (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1))
            out.push(`${el.tagName}.${el.className} ${el.scrollWidth}×${el.scrollHeight} in ` +
                     `${el.clientWidth}×${el.clientHeight}`);
    }
    return out;
}"""

#: The font size of every piece of visible text: HTML text and the charts' SVG text.
FONT_SIZES_JS = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const el = node.parentElement;
        if (!node.textContent.trim() || !el) continue;
        const rect = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' ||
            style.display === 'none' || el.closest('[aria-hidden=true], .v-menu__content'))
            continue;
        out.push([node.textContent.trim().slice(0, 40), parseFloat(style.fontSize)]);
    }
    return out;
}"""


def explore_at_week(page: object, server: Server, weeks: int = 0) -> None:
    """Open the explorer, wait until it and its charts are drawn, then step ``weeks`` weeks."""
    # Imported here: that module imports this one (a loop at import time).
    from tests.app.test_browser import load, step, wait_explore

    load(page, server)
    wait_explore(page)
    step(page, weeks)
