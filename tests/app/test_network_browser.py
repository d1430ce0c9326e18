"""The explorer's network view in real Chromium: its legend, the group and colour choices.

The network is drawn on a canvas, so its legend is read from the running Vega view's
scene graph (the marks Vega drew), not from the DOM. Screenshots go to
``test-output/screenshots/network-*.png``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from app import charts
from app.network import EDGE_KINDS, KINDS
from tests.app.conftest import (
    FONT_SIZES_JS,
    SCREENSHOTS,
    SCROLLERS_JS,
    Server,
    Traffic,
    element_screenshot,
    explore_at_week,
    screenshot,
)
from tests.app.test_browser import choose, step, svg, wait_svg_change

pytestmark = pytest.mark.browser

#: Every legend of the network chart as drawn: its title, its labels and their symbols, and
#: the font size of each of its texts.
LEGENDS_JS = """() => {
    const chart = document.querySelector('.chart-network');
    if (!chart) return null;  // between two renders
    const owner = [chart, ...chart.querySelectorAll('*')]
        .find((el) => el.__vue__ && el.__vue__.view);
    if (!owner) return null;
    const legends = [];
    const walk = (node, legend) => {
        if (!node || typeof node !== 'object') return;
        if (node.marktype) {
            if (node.role === 'legend') {
                for (const item of node.items) {
                    const found = {title: null, labels: [], symbols: [], sizes: []};
                    legends.push(found);
                    walk(item, found);
                }
                return;
            }
            for (const item of node.items || []) {
                if (legend && node.role === 'legend-title') legend.title = item.text;
                if (legend && node.role === 'legend-label') legend.labels.push(item.text);
                if (legend && ['legend-title', 'legend-label'].includes(node.role))
                    legend.sizes.push(item.fontSize);
                if (legend && node.role === 'legend-symbol') {
                    legend.symbols.push({
                        shape: item.shape, fill: item.fill || null,
                        stroke: item.stroke || null, dash: item.strokeDash || null,
                    });
                }
                walk(item, legend);
            }
            return;
        }
        for (const mark of node.items || []) walk(mark, legend);
    };
    walk(owner.__vue__.view.scenegraph().root, null);
    return legends;
}"""


def legends(page: object) -> dict[str, dict[str, Any]]:
    """The chart's legends by title (a title split over lines is joined)."""
    drawn = page.evaluate(LEGENDS_JS)  # type: ignore[attr-defined]
    assert drawn, "the network chart has no Vega view"
    return {
        " ".join(t) if isinstance(t, list) else str(t): legend
        for legend in drawn
        for t in [legend["title"]]
    }


def save_drawing(page: object, name: str) -> None:
    """The chart as Vega drew it (the canvas's own pixels), beside the element screenshot,
    which shows whatever covers the chart on the page."""
    url = page.evaluate("() => document.querySelector('.chart-network canvas.marks').toDataURL()")  # type: ignore[attr-defined]
    (SCREENSHOTS / f"{name}-drawn.png").write_bytes(base64.b64decode(url.split(",", 1)[1]))


#: The plot's size in the running Vega view (without its legends).
VIEW_SIZE_JS = """() => {
    const chart = document.querySelector('.chart-network');
    const owner = [chart, ...chart.querySelectorAll('*')]
        .find((el) => el.__vue__ && el.__vue__.view);
    return [owner.__vue__.view.width(), owner.__vue__.view.height()];
}"""


def wait_legend(page: object, title: str, timeout: float = 15_000) -> dict[str, Any]:
    """Wait until the chart draws a legend whose title contains ``title``; return it."""
    page.wait_for_function(  # type: ignore[attr-defined]
        f"(want) => (({LEGENDS_JS})() || [])"
        ".some((l) => [].concat(l.title).join(' ').includes(want))",
        arg=title,
        timeout=timeout,
    )
    return next(legend for name, legend in legends(page).items() if title in name)


def test_the_legend_has_one_symbol_per_kind_and_the_group_choice_recolours(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    explore_at_week(page, app_server, 2)

    # One legend of who is who, drawn by Vega-Lite: every kind, each with its own symbol.
    who = wait_legend(page, "who")
    assert who["labels"] == list(KINDS)
    symbols = [(s["shape"], s["fill"], s["stroke"]) for s in who["symbols"]]
    assert len(symbols) == len(KINDS)
    assert len(set(symbols)) == len(KINDS), f"two kinds share a symbol: {symbols}"
    ties = legends(page)["ties"]
    assert ties["labels"] == list(EDGE_KINDS)
    tie_symbols = [(s["stroke"], str(s["dash"])) for s in ties["symbols"]]
    assert len(set(tie_symbols)) == len(EDGE_KINDS), f"two tie kinds look alike: {tie_symbols}"
    assert "trust in patients or providers (out of 10)" in legends(page)
    element_screenshot(page, ".chart-network", "network-legend-trust")
    save_drawing(page, "network-legend-trust")

    # Choose a group, then colour by stigma: the chart redraws each time, and says so.
    drawing = svg(page, "network")
    choose(page, "Patient group", "Sex workers")
    page.get_by_text("Sex workers are shown; the other groups are faded.").wait_for()  # type: ignore[attr-defined]
    drawing = wait_svg_change(page, "network", drawing)
    page.get_by_role("button", name="stigma", exact=True).click()  # type: ignore[attr-defined]
    wait_legend(page, "stigma toward Sex workers")
    drawing = wait_svg_change(page, "network", drawing)
    caption = page.locator(".network-caption").inner_text()  # type: ignore[attr-defined]
    assert "their stigma toward Sex workers" in caption and "out of 10" in caption
    element_screenshot(page, ".chart-network", "network-stigma-sex-workers")
    save_drawing(page, "network-stigma-sex-workers")

    # A week later the same view redraws with the model's new state.
    step(page, 1)
    drawing = wait_svg_change(page, "network", drawing)

    # Another group: the providers' colours change with it.
    choose(page, "Patient group", "Men who have sex with men")
    wait_legend(page, "stigma toward Men who have sex with men")
    drawing = wait_svg_change(page, "network", drawing)

    # Colour by group: a legend of the groups, with the explorer's group colours.
    page.get_by_role("button", name="group", exact=True).click()  # type: ignore[attr-defined]
    groups = wait_legend(page, "patient group")
    assert "Sex workers" in groups["labels"] and "People living unhoused" in groups["labels"]
    assert len({s["fill"] for s in groups["symbols"]}) == len(groups["labels"])
    wait_svg_change(page, "network", drawing)
    choose(page, "Patient group", "every group")
    page.get_by_text("Colour: each patient's group.").wait_for()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]  # the redraw after the choice
    element_screenshot(page, ".chart-network", "network-groups")
    save_drawing(page, "network-groups")

    # Presenter mode: the network keeps its square (its rings are drawn to scale), and its
    # legend its symbols, in larger text.
    page.get_by_role("button", name="Presenter mode").click()  # type: ignore[attr-defined]
    # The presenter view that shows the network (its name is the explorer's to choose).
    views = page.locator(".presenter-views .v-btn", has_text=re.compile("network", re.I))  # type: ignore[attr-defined]
    views.first.click()
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => { const c = document.querySelector('.network-caption');"
        " return c && c.innerText.startsWith('Colour:'); }"  # the projector's short caption
    )
    who = wait_legend(page, "who")
    assert who["labels"] == list(KINDS)
    width, height = page.evaluate(VIEW_SIZE_JS)  # type: ignore[attr-defined]
    assert width == height, f"the circle is drawn {width}×{height}"
    save_drawing(page, "network-presenter")
    traffic.check_offline()


#: The page's own size, and the window's.
PAGE_SIZE_JS = """() => {
    const root = document.documentElement;
    return [root.scrollWidth, root.scrollHeight, window.innerWidth, window.innerHeight];
}"""


def test_presenter_mode_shows_the_network_large_enough_for_a_projector(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})  # type: ignore[attr-defined]
    explore_at_week(page, app_server, 2)
    page.get_by_role("button", name="Presenter mode").click()  # type: ignore[attr-defined]
    page.locator(".presenter-views .v-btn", has_text=re.compile("network", re.I)).click()  # type: ignore[attr-defined]
    # The tallest the view gets: the longest group's stigma, the longest caption and title.
    page.get_by_role("button", name="stigma", exact=True).click()  # type: ignore[attr-defined]
    choose(page, "Patient group", "People living with HIV (general)")
    wait_legend(page, "stigma toward People living with HIV (general)")
    page.get_by_text("People living with HIV (general) are shown").wait_for()  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # the last redraw lands
    screenshot(page, "network-presenter-1024x768")
    save_drawing(page, "network-presenter-1024x768")

    # The page fits the projector: nothing scrolls, the page no wider or taller than it.
    width, height, inner_width, inner_height = page.evaluate(PAGE_SIZE_JS)  # type: ignore[attr-defined]
    assert width <= inner_width and height <= inner_height, (width, height)
    assert page.evaluate(SCROLLERS_JS) == []  # type: ignore[attr-defined]
    # Text of 18 px or more: the page's, and the network's legends (drawn on its canvas).
    small = [(t, px) for t, px in page.evaluate(FONT_SIZES_JS) if px < 18]  # type: ignore[attr-defined]
    assert small == [], f"text under 18 px: {small[:10]}"
    drawn = legends(page)
    assert len(drawn) == 4, list(drawn)  # rings, ties, who, the value
    for title, legend in drawn.items():
        assert min(legend["sizes"]) >= charts.PRESENTER_FONT, (title, legend["sizes"])
    # One symbol per kind of person, and of tie.
    who = drawn["who"]
    assert who["labels"] == list(KINDS)
    symbols = [(s["shape"], s["fill"], s["stroke"]) for s in who["symbols"]]
    assert len(set(symbols)) == len(KINDS), f"two kinds share a symbol: {symbols}"
    assert drawn["ties"]["labels"] == list(EDGE_KINDS)
    width, height = page.evaluate(VIEW_SIZE_JS)  # type: ignore[attr-defined]
    assert width == height, f"the circle is drawn {width}×{height}"

    # Each colouring fits too.
    for colour_by, legend in (("trust", "trust in patients"), ("group", "patient group")):
        page.get_by_role("button", name=colour_by, exact=True).click()  # type: ignore[attr-defined]
        wait_legend(page, legend)
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        screenshot(page, f"network-presenter-1024x768-{colour_by}")
        assert page.evaluate(SCROLLERS_JS) == [], colour_by  # type: ignore[attr-defined]
        sizes = [px for legend in legends(page).values() for px in legend["sizes"]]
        assert min(sizes) >= charts.PRESENTER_FONT, (colour_by, sizes)
    traffic.check_offline()
