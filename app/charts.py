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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Timeline:
    """What happened during a run, for every chart of it: the changes made (week, what)
    and the crisis (first and last week shaded)."""

    changes: tuple[tuple[int, str], ...] = ()
    crisis: tuple[int, int] | None = None

    @classmethod
    def of(cls, scenario: Scenario) -> Timeline:
        """A scenario's changes during the run and its crisis (as a change may set it)."""
        settings = [scenario, *(s for _, s in scenario.settings_from())]
        crisis = None
        for s in settings:  # a crisis may be set, then moved, before it begins
            if s.crisis_week is not None:
                # The crisis acts in steps crisis_week .. crisis_week + duration - 1, which
                # end at the rows crisis_week .. + duration - 1: shade from the row before.
                crisis = (s.crisis_week - 1, s.crisis_week - 1 + s.crisis_duration)
        changes = tuple(
            (i.week, i.label or ", ".join(f"{k} = {v}" for k, v in i.changes.items()))
            for i in sorted(scenario.interventions or (), key=lambda i: i.week)
        )
        return cls(changes, crisis)

    def layers(self) -> list[Spec]:
        """Vega-Lite layers: a grey band over the crisis, a dashed rule per change."""
        out: list[Spec] = []
        if self.crisis is not None:
            start, end = self.crisis
            out.append(
                {
                    "data": {"values": [{"start": start, "end": end, "what": "crisis"}]},
                    "mark": {"type": "rect", "color": "#bab0ac", "opacity": 0.35},
                    "encoding": {
                        "x": {"field": "start", "type": "quantitative"},
                        "x2": {"field": "end"},
                        "tooltip": {"field": "what"},
                    },
                }
            )
        if self.changes:
            out.append(
                {
                    "data": {"values": [{"week": w, "what": t} for w, t in self.changes]},
                    "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#333"},
                    "encoding": {
                        "x": {"field": "week", "type": "quantitative"},
                        "tooltip": {"field": "what"},
                    },
                }
            )
        return out


#: Presenter mode, for a projector at 1024×768: two charts side by side, 18 px text.
PRESENTER_WIDTH, PRESENTER_HEIGHT = 360, 190
PRESENTER_FONT = 18


def presented(spec: Spec) -> Spec:
    """The chart for a projector: larger, 18 px text, thick lines (the colours are already
    colour-blind-safe). Legends go in one column of whole labels, under the chart, so two
    charts fit side by side."""

    def one_column(node: Any) -> Any:
        if isinstance(node, list):
            return [one_column(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: one_column(value) for key, value in node.items()}
        if isinstance(out.get("legend"), dict):
            out["legend"] = {**out["legend"], "columns": 1, "labelLimit": PRESENTER_WIDTH}
        return out

    out = one_column(spec)
    out["width"], out["height"] = PRESENTER_WIDTH, PRESENTER_HEIGHT
    font = PRESENTER_FONT
    out["config"] = {
        **spec.get("config", {}),
        "title": {"fontSize": font + 2},
        "axis": {"labelFontSize": font, "titleFontSize": font, "titleLimit": PRESENTER_HEIGHT},
        "legend": {"labelFontSize": font, "symbolStrokeWidth": 4, "rowPadding": 2},
        "line": {"strokeWidth": 4},
        "rule": {"strokeWidth": 3},
        "point": {"size": 90},
    }
    return out


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
    timeline: Timeline | None = None,
    x_max: int | None = None,
) -> Spec:
    """Several named series over weeks as one line chart (long format). ``x_max`` fixes
    the week axis (the run's horizon), so a live run grows across a still chart; a
    ``timeline`` marks each change made during the run and shades a crisis.

    Straight segments join the weeks: a smoothing curve would turn a count that steps up
    (changes adopted) into an S and invent values between weeks."""
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
    # A long title is cut to the chart's height rather than drawn past it.
    y: dict[str, Any] = {
        "field": "value",
        "type": "quantitative",
        "title": y_title,
        "axis": {"titleLimit": HEIGHT},
    }
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
            "mark": {"type": "line", "interpolate": "linear", "point": len(weeks) < 3},
            "encoding": {
                "x": x,
                "y": y,
                "color": colour,
            },
        }
    ]
    if timeline is not None:
        layers = timeline.layers() + layers
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
    timeline = Timeline.of(scenario)
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
            timeline=timeline,
            x_max=horizon,
        ),
        "stigma": lines(
            weeks,
            stigma,
            title="Provider stigma toward each group",
            y_title="stigma (0–1)",
            colours=stigma_colours,
            y_domain=(0, 1),
            timeline=timeline,
            x_max=horizon,
        ),
        "changes": lines(
            weeks,
            {
                "patient-originated": frame["patient_originated"].to_numpy(),
                "staff-originated": frame["staff_originated"].to_numpy(),
            },
            title="Changes adopted, by who proposed them",
            y_title="changes adopted",
            colours={"patient-originated": "#e15759", "staff-originated": "#79706e"},
            timeline=timeline,
            x_max=horizon,
        ),
        "value": lines(
            weeks,
            value,
            title="Value of care to each group, and the equity gap",
            y_title="value (0–1)",
            colours=value_colours,
            timeline=timeline,
            x_max=horizon,
        ),
        "retention": lines(
            weeks,
            retention,
            title="Retention in care",
            y_title="share in care",
            colours=retention_colours,
            timeline=timeline,
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
    bounds: tuple[float, float] | None = None,
) -> Spec:
    """Each design's mean over replications with its band, on one chart. ``bounds`` are
    the values the outcome can take (0 and 1 for a share): a t interval near a bound can
    reach past it, which no run can, so the band is cut there."""
    values = []
    for name, (mean, low, high) in designs.items():
        if bounds is not None:
            low, high = np.clip(low, *bounds), np.clip(high, *bounds)
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
