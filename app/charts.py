"""Vega-Lite chart specifications built straight from the model's tidy frames.

Specs are plain dicts (Vega-Lite v5), built without Altair: Altair validates
every chart against the JSON schema, which costs tens of milliseconds per chart
and per redraw, while these functions only reshape a few hundred numbers. The
browser draws them with the app's own ``VegaLiteLive`` widget (``vega.py``), which
swaps data in place with no debounce, from the locally served Vega files (see
``scripts/solara_assets.py``).

Every function is pure: the same frame gives the same spec, so the same
scenario and seed give the same charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coprod_sim import Scenario

Spec = dict[str, Any]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier, never fetched
WIDTH, HEIGHT = 330, 160
#: vega-embed reads its options from here: SVG output (crisp, and testable as DOM), and no
#: "..." menu (its export links would point to the online Vega editor).
EMBED = {"embedOptions": {"renderer": "svg", "actions": False}}
#: Colour per patient group (colour-blind-safe Tableau 10), the general group in grey.
GROUP_COLOURS = {
    "general": "#79706e",
    "msm": "#4e79a7",
    "sex_workers": "#e15759",
    "transgender": "#b07aa1",
    "unhoused": "#f28e2b",
}
FALLBACK_COLOURS = ("#59a14f", "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#bab0ac")
DESIGN_COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#b07aa1", "#f28e2b", "#76b7b2")  # A, B, ...


def group_colour(name: str, index: int) -> str:
    """The fixed colour of a patient group (by name; a palette colour for other groups)."""
    return GROUP_COLOURS.get(name, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])


def _rounded(values: np.ndarray, digits: int = 4) -> list[float | None]:
    """JSON-ready numbers: rounded (a smaller message to the browser), NaN as null."""
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def lines(
    weeks: Sequence[int] | np.ndarray,
    series: Mapping[str, np.ndarray],
    *,
    title: str,
    y_title: str,
    colours: Mapping[str, str] | None = None,
    y_domain: tuple[float, float] | None = None,
    marker_week: int | None = None,
    x_max: int | None = None,
) -> Spec:
    """Several named series over weeks as one line chart (long format). ``x_max`` fixes
    the week axis (the run's horizon), so a live run grows across a still chart."""
    weeks = np.asarray(weeks)
    values: list[dict[str, Any]] = []
    for name, ys in series.items():
        values += [
            {"week": int(w), "series": name, "value": y}
            for w, y in zip(weeks, _rounded(np.asarray(ys, dtype=float)), strict=True)
        ]
    names = list(series)
    colour: dict[str, Any] = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "sort": names,
        "legend": {"orient": "bottom", "columns": 3, "labelLimit": 160},
    }
    if colours:
        colour["scale"] = {"domain": names, "range": [colours[n] for n in names]}
    y: dict[str, Any] = {"field": "value", "type": "quantitative", "title": y_title}
    if y_domain is not None:
        y["scale"] = {"domain": list(y_domain)}
    x: dict[str, Any] = {
        "field": "week",
        "type": "quantitative",
        "title": "week",
        "axis": {"format": "d", "tickMinStep": 1},
    }
    if x_max is not None:
        x["scale"] = {"domain": [0, max(int(x_max), int(weeks.max(initial=0)))]}
    layers: list[Spec] = [
        {
            # Points while there are too few weeks to draw a line (week 0 alone).
            "mark": {"type": "line", "interpolate": "monotone", "point": len(weeks) < 3},
            "encoding": {
                "x": x,
                "y": y,
                "color": colour,
            },
        }
    ]
    if marker_week is not None:
        layers.append(
            {
                "data": {"values": [{"week": marker_week}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#999"},
                "encoding": {"x": {"field": "week", "type": "quantitative"}},
            }
        )
    return {
        "$schema": SCHEMA,
        "usermeta": EMBED,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": values},
        "layer": layers,
    }


def _group_series(
    frame: pd.DataFrame, scenario: Scenario, prefix: str
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    series, colours = {}, {}
    for i, group in enumerate(scenario.groups):
        series[group.label] = frame[f"{prefix}_{group.name}"].to_numpy()
        colours[group.label] = group_colour(group.name, i)
    return series, colours


def explore_charts(
    frame: pd.DataFrame, scenario: Scenario, horizon: int | None = None
) -> dict[str, Spec]:
    """The explorer's live charts of one run, by name; ``horizon`` fixes the week axis."""
    weeks = frame["week"].to_numpy()
    crisis = scenario.crisis_week
    stigma, stigma_colours = _group_series(frame, scenario, "stigma")
    value, value_colours = _group_series(frame, scenario, "value")
    retention, retention_colours = _group_series(frame, scenario, "retention")
    retention["all patients"] = frame["retention"].to_numpy()
    retention_colours["all patients"] = "#000000"
    value["equity gap (best − worst group)"] = frame["equity_gap"].to_numpy()
    value_colours["equity gap (best − worst group)"] = "#000000"
    return {
        "trust": lines(
            weeks,
            {
                "patients' trust in providers": frame["patient_trust"].to_numpy(),
                "providers' regard for patients": frame["provider_regard"].to_numpy(),
                "representatives' trust": frame["representative_trust"].to_numpy(),
            },
            title="Trust both ways",
            y_title="trust (0–1)",
            colours={
                "patients' trust in providers": "#4e79a7",
                "providers' regard for patients": "#59a14f",
                "representatives' trust": "#f28e2b",
            },
            y_domain=(0, 1),
            marker_week=crisis,
            x_max=horizon,
        ),
        "stigma": lines(
            weeks,
            stigma,
            title="Provider stigma toward each group",
            y_title="stigma (0–1)",
            colours=stigma_colours,
            y_domain=(0, 1),
            marker_week=crisis,
            x_max=horizon,
        ),
        "changes": lines(
            weeks,
            {
                "patient-originated": frame["patient_originated"].to_numpy(),
                "staff-originated": frame["staff_originated"].to_numpy(),
            },
            title="Changes adopted, by who proposed them",
            y_title="changes adopted (site × change)",
            colours={"patient-originated": "#e15759", "staff-originated": "#79706e"},
            marker_week=crisis,
            x_max=horizon,
        ),
        "value": lines(
            weeks,
            value,
            title="Value of care to each group, and the equity gap",
            y_title="value (0–1)",
            colours=value_colours,
            marker_week=crisis,
            x_max=horizon,
        ),
        "retention": lines(
            weeks,
            retention,
            title="Retention in care",
            y_title="share in care",
            colours=retention_colours,
            marker_week=crisis,
            x_max=horizon,
        ),
    }


def difference_band(
    weeks: np.ndarray,
    mean: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    title: str,
    y_title: str,
) -> Spec:
    """A paired difference over weeks with its confidence band and the zero line."""
    values = [
        {"week": int(w), "mean": m, "low": lo, "high": hi}
        for w, m, lo, hi in zip(
            weeks, _rounded(mean, 5), _rounded(low, 5), _rounded(high, 5), strict=True
        )
    ]
    x = {"field": "week", "type": "quantitative", "title": "week"}
    return {
        "$schema": SCHEMA,
        "usermeta": EMBED,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT - 20,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.25, "color": "#4e79a7"},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative", "title": y_title},
                    "y2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "line", "color": "#4e79a7"},
                "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}},
            },
            {
                "data": {"values": [{"zero": 0}]},
                "mark": {"type": "rule", "color": "#333", "strokeDash": [3, 3]},
                "encoding": {"y": {"field": "zero", "type": "quantitative"}},
            },
        ],
    }


def difference_bands(
    weeks: np.ndarray,
    bands: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    title: str,
    y_title: str,
) -> Spec:
    """Several paired differences over weeks (e.g. B − A and C − A), each with its band, and
    the zero line. Each is coloured as the design compared (design A's colour is skipped)."""
    names = list(bands)
    values = []
    for name, (mean, low, high) in bands.items():
        values += [
            {"week": int(w), "design": name, "mean": m, "low": lo, "high": hi}
            for w, m, lo, hi in zip(
                weeks, _rounded(mean, 5), _rounded(low, 5), _rounded(high, 5), strict=True
            )
        ]
    colour = {
        "field": "design",
        "type": "nominal",
        "title": None,
        "sort": names,
        "scale": {"domain": names, "range": list(DESIGN_COLOURS[1 : len(names) + 1])},
        "legend": {"orient": "bottom", "labelLimit": 200},
    }
    x = {"field": "week", "type": "quantitative", "title": "week"}
    return {
        "$schema": SCHEMA,
        "usermeta": EMBED,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT - 20,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.2},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative", "title": y_title},
                    "y2": {"field": "high"},
                    "color": colour,
                },
            },
            {
                "mark": {"type": "line"},
                "encoding": {
                    "x": x,
                    "y": {"field": "mean", "type": "quantitative"},
                    "color": colour,
                },
            },
            {
                "data": {"values": [{"zero": 0}]},
                "mark": {"type": "rule", "color": "#333", "strokeDash": [3, 3]},
                "encoding": {"y": {"field": "zero", "type": "quantitative"}},
            },
        ],
    }


def designs_band(
    weeks: np.ndarray,
    designs: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    title: str,
    y_title: str,
) -> Spec:
    """Each design's mean over replications with its band, on one chart."""
    values = []
    for name, (mean, low, high) in designs.items():
        values += [
            {"week": int(w), "design": name, "mean": m, "low": lo, "high": hi}
            for w, m, lo, hi in zip(
                weeks, _rounded(mean), _rounded(low), _rounded(high), strict=True
            )
        ]
    names = list(designs)
    colour = {
        "field": "design",
        "type": "nominal",
        "title": None,
        "sort": names,
        "scale": {"domain": names, "range": list(DESIGN_COLOURS[: len(names)])},
        "legend": {"orient": "bottom", "labelLimit": 260},
    }
    x = {"field": "week", "type": "quantitative", "title": "week"}
    return {
        "$schema": SCHEMA,
        "usermeta": EMBED,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.2},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative", "title": y_title},
                    "y2": {"field": "high"},
                    "color": colour,
                },
            },
            {
                "mark": {"type": "line"},
                "encoding": {
                    "x": x,
                    "y": {"field": "mean", "type": "quantitative"},
                    "color": colour,
                },
            },
        ],
    }
