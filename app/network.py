"""A network view of one site: its manager, providers, representatives and patients.

Who is who is told by **shape**, one symbol per kind (the chart's own legend, "who"):
the manager a square, a provider on the improvement team a diamond, a provider not on
it a hexagon, a patient representative a triangle, a patient a dot (a cross once they
have left care).

Which group a patient belongs to is told by **where they sit**: each provider's patients
fan out beyond them in rings, one ring per patient group, from the inside out in the
scenario's order (the general group's ring is thicker: most patients are in it), each ring
a pale band of the group's fixed colour (the explorer's group palette). Position leaves a
symbol's fill free for the value, so trust or stigma can be read on every patient whatever
their group; an outline in the group's colour was the alternative, but on a 7 px dot it
drowns the fill, and a red outline (sex workers) on a red fill (stigma) reads as stigma. A
third colouring, "group", fills patients with the group palette for a reader who wants the
groups at a glance.
Choosing a group fades every other group's patients and care ties, and in the stigma view
colours each provider by their stigma toward that group: the providers a sex worker would
meet, and how much stigma they hold toward sex workers, side by side.

Ties drawn (the chart's legend, "ties"):

* team: the manager to each member of the site's improvement team (``model.teams.members``);
* contact: each provider on the team to each patient representative on it, the pairs
  between whom the contact mechanism (``mechanisms.contact``, phase 6 of a meeting) can
  move stigma when the representative attends;
* colleagues: the ties between the site's providers (``model.provider_network``), along
  which changes spread and attitudes are exchanged;
* care: each patient to the provider who sees them.

On a projector (presenter mode) the view is drawn smaller and square, with the presenter's
18 px text (``charts.PRESENTER_FONT``), its legends on both sides and a one- or two-line
caption, so that it fits a 1024×768 screen under the explorer's player.

Values are shown out of 10 (the model keeps them between 0 and 1). The layout is fixed
geometry, not a force layout: it is instant, the same every week and for every seed, so a
change of colour is a change in the model, not in the drawing.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
import solara

from app import charts, state
from app.charts import SCHEMA, Spec, group_colour
from app.components import Chart
from app.info import PAGES, InfoPanel
from app.vega import VegaLiteLive, split_data
from coprod_sim import CoproductionModel

ColourBy = Literal["trust", "stigma", "group"]
COLOURINGS: tuple[str, ...] = get_args(ColourBy)
#: The group choice that selects no one group.
EVERY_GROUP = "every group"
PROVIDER_RADIUS = 3.0
REPRESENTATIVE_RADIUS = 1.3
PATIENT_RADIUS = (3.9, 5.8)  # the rings of patients, from the innermost to the outermost
GOLDEN = 0.6180339887
SCALE = 10  # values are shown out of 10
DIGITS = 2  # positions to 1/100 of a unit: a third of a pixel, and a smaller message

#: One symbol per kind of person, in the legend's order.
KINDS = (
    "manager",
    "provider on the team",
    "provider not on the team",
    "patient representative",
    "patient in care",
    "patient out of care",
)
HEXAGON = "M0,-1L0.866,-0.5L0.866,0.5L0,1L-0.866,0.5L-0.866,-0.5Z"
SHAPES = ("square", "diamond", HEXAGON, "triangle-up", "circle", "cross")
SIZES = (320, 230, 170, 210, 44, 44)
#: Tie kinds: colour and dash together, so they differ in grey print too.
EDGE_KINDS = ("team", "contact", "colleagues", "care")
EDGE_COLOURS = ("#333333", "#59a14f", "#8c8c8c", "#d0d0d0")
EDGE_DASHES = ([1, 0], [5, 3], [1, 0], [1, 0])
EDGE_WIDTHS = (1.4, 1.6, 1.0, 0.7)
FADED = 0.12  # opacity of the patients (and care ties) of the groups not chosen
#: On a projector (1024×768), the circle's side in pixels: what is left of the screen's
#: height under the app bar, the explorer's player, its changes and view buttons (about
#: 300 px), the network's choices and a caption of two lines (about 110 px), with a little
#: to spare; the browser tests check that the page does not scroll. The legends beside it
#: take the rest of the width. Symbols and ties are a fifth larger than on a screen.
PRESENTER_SIDE = 300
PRESENTER_GROW = 1.2
#: On a projector the network's choices take one line: no room for a hint under a choice.
PRESENTER_CHOICES_CSS = """
.presenter .network-choices .v-text-field__details { display: none; }
.presenter .network-choices .v-input { margin-top: 0; padding-top: 8px; }
"""


def site_network(
    model: CoproductionModel,
    site: int,
    colour_by: ColourBy = "trust",
    group: str | None = None,
) -> dict[str, Any]:
    """Nodes and ties of one site, laid out for drawing.

    ``colour_by`` picks each node's ``value`` (out of 10): "trust" (patients' trust in
    providers, providers' regard for patients), "stigma" (a patient's felt stigma, their
    provider's stigma toward the patient's group; a provider's stigma toward ``group``, or
    their mean toward the key populations when no group is chosen) or "group" (no value:
    patients are coloured by group). ``group`` (a group's name, e.g. "sex_workers") fades
    the other groups' patients. A site out of range, an unknown group or colouring is
    refused with a :class:`ValueError` naming the value and what is allowed.
    """
    if not 0 <= site < len(model.sites):
        raise ValueError(f"site = {site}: must be 0..{len(model.sites) - 1}")
    if colour_by not in COLOURINGS:
        raise ValueError(f"colour_by = {colour_by!r}: must be one of {', '.join(COLOURINGS)}")
    groups = list(model.parameters.groups)
    names = [g.name for g in groups]
    if group is not None and group not in names:
        raise ValueError(
            f"group = {group!r}: must be one of {', '.join(names)} (or None for every group)"
        )
    chosen = None if group is None else names.index(group)
    group_labels = [g.label for g in groups]
    patients, providers = model.patients, model.providers
    p_span, v_span = patients.at_site(site), providers.at_site(site)
    provider_ids = np.arange(v_span.start, v_span.stop)
    n_providers = provider_ids.size
    staff, reps = model.teams.members(site)
    key = model.key_population

    # Providers on a circle, the manager in the middle, the representatives around them.
    angle = 2 * np.pi * np.arange(n_providers) / max(n_providers, 1)
    provider_xy = np.round(
        PROVIDER_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)]), DIGITS
    )
    provider_pos = {int(i): provider_xy[k] for k, i in enumerate(provider_ids)}
    # Each representative at their seat's place, kept while they hold it.
    seats = model.teams.representatives[site].tolist()
    rep_xy = {}
    for r in reps:
        theta = 2 * np.pi * (seats.index(r) + 0.5) / len(seats)
        rep_xy[r] = np.round(
            REPRESENTATIVE_RADIUS * np.array([np.cos(theta), np.sin(theta)]), DIGITS
        )

    provider_of = patients.provider[p_span]
    group_of = patients.group[p_span].astype(np.int64)
    if colour_by == "trust":
        provider_value = providers.regard(v_span)
        patient_value = patients.trust(p_span)
    elif colour_by == "stigma":
        stigma = providers.stigma[v_span]
        if chosen is not None:
            provider_value = stigma[:, chosen]
        else:
            provider_value = stigma[:, key].mean(axis=1) if key.any() else stigma.mean(axis=1)
        patient_value = providers.stigma[provider_of, group_of]
    else:
        provider_value = patient_value = None

    def out_of_ten(values: np.ndarray | None, n: int) -> list[float | None]:
        if values is None:
            return [None] * n
        return np.round(SCALE * np.asarray(values, dtype=float), 2).tolist()

    nodes: list[dict[str, Any]] = [
        {"x": 0.0, "y": 0.0, "kind": "manager", "value": None, "label": "manager"}
    ]
    staff_set = set(staff)
    nodes += [
        {
            "x": x,
            "y": y,
            "kind": "provider on the team" if i in staff_set else "provider not on the team",
            "value": value,
            "label": f"provider {i}",
        }
        for i, x, y, value in zip(
            provider_ids.tolist(),
            provider_xy[:, 0].tolist(),
            provider_xy[:, 1].tolist(),
            out_of_ten(provider_value, n_providers),
            strict=True,
        )
    ]

    # Patients: rings by group beyond their provider. Patients are stored sorted by
    # (provider, group) cell, so a patient's rank in their cell is their position minus the
    # cell's first position; the golden ratio spreads a cell across its ring's width. Every
    # patient has a place in the rings, representatives too (drawn in the middle while they
    # hold a seat), so no one moves when someone joins or leaves the team.
    index = np.arange(p_span.start, p_span.stop)
    is_rep = np.isin(index, np.asarray(reps, dtype=np.int64))
    local = (provider_of - v_span.start).astype(np.int64)
    cell = patients.cell[p_span]
    first = np.searchsorted(cell, cell, side="left")
    count = np.searchsorted(cell, cell, side="right") - first
    rank = np.arange(cell.size) - first
    # Ring widths by kind of group, the same at every site and for every seed: the general
    # group (most patients) three times a key population's.
    weight = np.where(key, 1.0, 3.0) if key.any() else np.ones(len(groups))
    edges_of_rings = np.concatenate([[0.0], np.cumsum(weight) / weight.sum()])
    low, high = PATIENT_RADIUS
    ring_low = low + (high - low) * edges_of_rings[:-1]
    ring_width = (high - low) * np.diff(edges_of_rings)
    fan = 2 * np.pi / max(n_providers, 1) * 0.85
    theta = angle[local] + fan * ((rank + 0.5) / count - 0.5)
    spread = 0.15 + 0.7 * (((rank + 0.5) * GOLDEN) % 1.0)
    radius = ring_low[group_of] + ring_width[group_of] * spread
    xy = radius[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    for j in np.flatnonzero(is_rep):
        xy[j] = rep_xy[int(index[j])]
    xy = np.round(xy, DIGITS)
    kinds = np.where(
        is_rep,
        "patient representative",
        np.where(patients.in_care[p_span], "patient in care", "patient out of care"),
    )
    xs, ys = xy[:, 0].tolist(), xy[:, 1].tolist()
    labels = [group_labels[k] for k in group_of.tolist()]
    people = [
        {"x": x, "y": y, "kind": kind, "value": value, "group": label, "label": f"patient {i}"}
        for i, x, y, kind, value, label in zip(
            index.tolist(),
            xs,
            ys,
            kinds.tolist(),
            out_of_ten(patient_value, index.size),
            labels,
            strict=True,
        )
    ]
    px, py = provider_xy[local, 0].tolist(), provider_xy[local, 1].tolist()
    care = [
        {"x": x, "y": y, "x2": x2, "y2": y2, "kind": "care"}
        for x, y, x2, y2 in zip(xs, ys, px, py, strict=True)
    ]
    # The other groups, faded: marked only when a group is chosen (a smaller message).
    if chosen is not None:
        for j in np.flatnonzero(group_of != chosen).tolist():
            people[j]["faded"] = care[j]["faded"] = True
    nodes += people

    # Care ties first, so the few team, contact and colleague ties are drawn over them.
    edges: list[dict[str, Any]] = care

    def tie(a: np.ndarray, b: np.ndarray, kind: str, between: tuple[str, str]) -> None:
        edges.append(
            {
                "x": float(a[0]),
                "y": float(a[1]),
                "x2": float(b[0]),
                "y2": float(b[1]),
                "kind": kind,
                "a": between[0],
                "b": between[1],
            }
        )

    graph = model.provider_network
    for a, b in graph.subgraph(provider_ids.tolist()).edges():
        tie(provider_pos[a], provider_pos[b], "colleagues", (f"provider {a}", f"provider {b}"))
    centre = np.zeros(2)
    for member in staff:
        tie(centre, provider_pos[member], "team", ("manager", f"provider {member}"))
    for r in reps:
        tie(centre, rep_xy[r], "team", ("manager", f"patient {r}"))
    # The pairs the contact mechanism works on: every provider on the team with every
    # representative seated (each contact needs the representative to attend that meeting).
    for member in staff:
        for r in reps:
            tie(provider_pos[member], rep_xy[r], "contact", (f"provider {member}", f"patient {r}"))

    return {
        "nodes": nodes,
        "edges": edges,
        "site": model.sites[site].name,
        "colour_by": colour_by,
        "group": None if chosen is None else group_labels[chosen],
        "groups": group_labels,
        "group_colours": [group_colour(name, k) for k, name in enumerate(names)],
        "key_populations": [group_labels[k] for k in np.flatnonzero(key)],
        "representatives": len(reps),
        "team_providers": len(staff),
        "providers": n_providers,
        "patients": index.size,
        "mean_provider_value": None
        if provider_value is None or n_providers == 0
        else float(np.mean(provider_value)) * SCALE,
        "mean_patient_value": None
        if patient_value is None or index.size == 0
        else float(np.mean(patient_value)) * SCALE,
        # Each group's ring, in units (drawn as a pale band of the group's colour).
        "rings": [
            {
                "group": group_labels[k],
                "inner": float(ring_low[k]),
                "outer": float(ring_low[k] + ring_width[k]),
                **({"faded": True} if chosen is not None and k != chosen else {}),
            }
            for k in range(len(groups))
        ],
    }


def value_title(network: dict[str, Any], presenter: bool = False) -> list[str]:
    """What the colour means, in plain words, for the legend (two lines, so a long group
    name does not widen the chart; three on a projector, where its text is larger)."""
    if network["colour_by"] == "trust":
        return ["trust in patients or providers", "(out of 10)"]
    toward = network["group"] or "the key populations"
    if presenter:
        return ["stigma toward", f"{toward},", "held or met (out of 10)"]
    return [f"stigma toward {toward},", "held or met (out of 10)"]


def network_spec(
    network: dict[str, Any], colour_by: ColourBy | None = None, presenter: bool = False
) -> Spec:
    """Vega-Lite spec of a site network from :func:`site_network` (its own colouring unless
    ``colour_by`` is given): shape for who is who, fill for the value or the group, with the
    legends drawn by Vega-Lite. ``presenter`` draws it larger, for a projector."""
    colour_by = colour_by or network["colour_by"]
    # On a projector: a smaller square (see ``PRESENTER_SIDE``), larger symbols, thicker
    # ties and the presenter's text size.
    grow = PRESENTER_GROW if presenter else 1.0
    side = PRESENTER_SIDE if presenter else 440
    symbol = round(140 * grow)  # the legends' symbols, larger than Vega-Lite's 100
    # Every legend's text, and on a projector its symbols, as large as the "who" legend's.
    legend_style = (
        {
            "labelFontSize": charts.PRESENTER_FONT,
            "titleFontSize": charts.PRESENTER_FONT,
            "symbolSize": symbol,
        }
        if presenter
        else {}
    )
    # On a projector (1024 px wide) the legends go on both sides: all on one side would
    # make the chart taller than the screen.
    side_legend = "left" if presenter else "right"
    axis = {"axis": None, "scale": {"domain": [-6.1, 6.1]}}
    position = {
        "x": {"field": "x", "type": "quantitative", **axis},
        "y": {"field": "y", "type": "quantitative", **axis},
    }
    nodes = network["nodes"]
    pixels = side / 2 / axis["scale"]["domain"][1]  # pixels per unit, from the centre
    rings = [
        {
            **ring,
            "inner": round(ring["inner"] * pixels, 1),
            "outer": round(ring["outer"] * pixels, 1),
        }
        for ring in network["rings"]
    ]
    managers = nodes[:1]
    providers = [n for n in nodes[1:] if "group" not in n]
    patients = [n for n in nodes[1:] if "group" in n]
    # One legend of who is who: the shape scale is shared by the three layers of people and
    # lists every kind, so each kind has its symbol in the legend whether or not it is drawn.
    # Size has no legend (see ``size``): the legend draws every symbol the same size.
    shape = {
        "field": "kind",
        "type": "nominal",
        "title": "who",
        "scale": {"domain": list(KINDS), "range": list(SHAPES)},
        "legend": {
            "orient": "right",
            "symbolFillColor": "#c8c8c8",
            "symbolStrokeColor": "#222222",
            "symbolStrokeWidth": 1,
            "symbolSize": symbol,
            "labelLimit": 300,
            **legend_style,
        },
    }

    def size(*kinds: str) -> dict[str, Any]:
        """Each kind's size, as conditions: a size scale would make a legend of its own."""
        sizes = {k: round(n * grow**2) for k, n in zip(KINDS, SIZES, strict=True)}
        *special, usual = kinds
        return {
            "condition": [{"test": f"datum.kind === '{k}'", "value": sizes[k]} for k in special],
            "value": sizes[usual],
        }

    def by_tie_kind(looks: tuple[Any, ...]) -> dict[str, Any]:
        """A tie's colour or dash by its kind: the same field, title and legend for both, so
        Vega-Lite draws one legend of ties, each symbol with its colour and its dash."""
        return {
            "field": "kind",
            "type": "nominal",
            "title": "ties",
            "scale": {"domain": list(EDGE_KINDS), "range": list(looks)},
            "legend": {"orient": side_legend, "symbolStrokeWidth": 2 * grow, **legend_style},
        }

    group_colours = {
        "field": "group",
        "type": "nominal",
        "scale": {"domain": network["groups"], "range": network["group_colours"]},
    }
    if colour_by == "group":
        fill: dict[str, Any] = {
            **group_colours,
            "title": "patient group",
            # One legend for the rings and the patients: in the patients' full colours, with
            # a thin outline (a projector's thick one would hide the colours).
            "legend": {
                "orient": "right",
                "labelLimit": 300,
                "symbolOpacity": 1,
                "symbolStrokeWidth": 1,
                **legend_style,
            },
        }
        provider_fill: dict[str, Any] = {"value": "#c8c8c8"}
    else:
        fill = {
            "field": "value",
            "type": "quantitative",
            "title": value_title({**network, "colour_by": colour_by}, presenter),
            "scale": {"scheme": "blues" if colour_by == "trust" else "reds", "domain": [0, 10]},
            "legend": {
                "orient": "right",
                "titleLimit": 400,
                # On a projector the scale lies across, under its title: upright, it would
                # make the legends beside the circle taller than the screen.
                **(
                    {"direction": "horizontal", "gradientLength": charts.PRESENTER_HEIGHT}
                    if presenter
                    else {}
                ),
                **legend_style,
            },
        }
        provider_fill = fill
    # The other groups' patients faded; their representatives less, to keep the team in view.
    opacity = {
        "condition": [
            {"test": "datum.faded && datum.kind === 'patient representative'", "value": 0.45},
            {"test": "datum.faded", "value": FADED},
        ],
        "value": 0.95,
    }
    value_tip = (
        []
        if colour_by == "group"
        else [{"field": "value", "type": "quantitative", "title": f"{colour_by} (out of 10)"}]
    )
    point = {"type": "point", "filled": True, "stroke": "#222222"}
    spec: Spec = {
        "$schema": SCHEMA,
        # Canvas, not SVG: a site is ~1,000 marks, which a canvas redraws in a fraction of
        # the time the browser takes to rebuild as many SVG elements.
        "usermeta": {"embedOptions": {"renderer": "canvas", "actions": False}},
        # On a projector the site's choice, just above, names it: no title, for room.
        **({} if presenter else {"title": f"{network['site']}: who works with whom"}),
        "width": side,
        "height": side,
        "layer": [
            {
                # The rings of the patient groups: pale bands of each group's colour behind
                # the patients, so every patient's group shows whatever the colouring.
                "data": {"values": rings},
                "mark": {"type": "arc", "theta": 0, "theta2": 2 * np.pi},
                "encoding": {
                    "radius": {"field": "inner", "type": "quantitative", "scale": None},
                    "radius2": {"field": "outer"},
                    # Colouring by group, the rings and the patients share one legend.
                    "color": fill
                    if colour_by == "group"
                    else {
                        **group_colours,
                        "title": "rings: patient group, inside out",
                        "legend": {
                            "orient": side_legend,
                            "labelLimit": 300,
                            "titleLimit": 400,
                            "symbolOpacity": 0.5,
                            **legend_style,
                        },
                    },
                    "opacity": {"condition": {"test": "datum.faded", "value": 0.05}, "value": 0.2},
                },
            },
            {
                "data": {"values": network["edges"]},
                "mark": {"type": "rule"},
                "encoding": {
                    **position,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "stroke": by_tie_kind(EDGE_COLOURS),
                    "strokeDash": by_tie_kind(EDGE_DASHES),
                    "strokeWidth": {
                        "condition": [
                            {"test": f"datum.kind === '{k}'", "value": round(w * grow, 2)}
                            for k, w in zip(EDGE_KINDS[:-1], EDGE_WIDTHS[:-1], strict=True)
                        ],
                        "value": round(EDGE_WIDTHS[-1] * grow, 2),
                    },
                    "opacity": {"condition": {"test": "datum.faded", "value": 0.25}, "value": 1},
                },
            },
            {
                "data": {"values": patients},
                "mark": {**point, "strokeWidth": 0.5 * grow},
                "encoding": {
                    **position,
                    "shape": shape,
                    "size": size(
                        "patient representative", "patient out of care", "patient in care"
                    ),
                    "fill": fill,
                    "opacity": opacity,
                    "tooltip": [
                        {"field": "kind", "type": "nominal", "title": "who"},
                        {"field": "label", "type": "nominal", "title": "patient"},
                        {"field": "group", "type": "nominal", "title": "group"},
                        *value_tip,
                    ],
                },
            },
            {
                "data": {"values": providers},
                "mark": {**point, "strokeWidth": 1.2 * grow},
                "encoding": {
                    **position,
                    "shape": shape,
                    "size": size("provider on the team", "provider not on the team"),
                    "fill": provider_fill,
                    "tooltip": [
                        {"field": "kind", "type": "nominal", "title": "who"},
                        {"field": "label", "type": "nominal", "title": "provider"},
                        *value_tip,
                    ],
                },
            },
            {
                "data": {"values": managers},
                "mark": {**point, "fill": "#444444", "strokeWidth": 1.2 * grow},
                "encoding": {**position, "shape": shape, "size": size("manager")},
            },
        ],
        "config": {"view": {"stroke": None}},
    }
    return presented(spec) if presenter else spec


def presented(spec: Spec) -> Spec:
    """The network for a projector: the text styling of every presenter chart
    (``charts.presented``), with the network's own square, ties and symbols.

    ``charts.presented`` gives every chart its 360×190 px, which would squash the circle into
    an ellipse and misplace the rings (drawn to scale), and one width to every rule and one
    size to every point, which would make the kinds of tie and of people alike: those are
    left as ``network_spec`` drew them (already larger for a projector)."""
    projected = charts.presented(spec)
    config = {k: v for k, v in projected["config"].items() if k not in ("rule", "point")}
    return {**projected, "width": spec["width"], "height": spec["height"], "config": config}


def caption(network: dict[str, Any], short: bool = False) -> str:
    """What the chart shows, in plain words, with the site's values out of 10; ``short``
    (for a projector) only what the colours mean, in two lines at most of a 1024 px
    screen (the legends name the rings, the kinds and the ties)."""
    colour_by, group = network["colour_by"], network["group"]
    patients, providers = network["mean_patient_value"], network["mean_provider_value"]
    if short:
        if colour_by == "trust":
            text = (
                "Colour: trust out of 10 (darker is more). Mean here: patients' trust in "
                f"their providers {patients:.1f}, providers' regard for patients {providers:.1f}."
            )
        elif colour_by == "stigma":
            text = (
                "Colour: stigma out of 10 (darker is more): providers', toward "
                f"{group or 'the key populations'}; patients', met from their provider. "
                f"Providers' mean here: {providers:.1f}."
            )
        else:
            text = "Colour: each patient's group."
        return text + (f" {group} are shown; the other groups are faded." if group else "")
    rings = ", ".join(network["groups"])
    parts = [
        f"{network['site']}: {network['providers']} providers ({network['team_providers']} on "
        f"the improvement team), {network['representatives']} patient representative(s) on "
        f"the team, {network['patients']} patients.",
        f"Patients sit in rings by group beyond their provider, from the inside out: {rings}.",
    ]
    if colour_by == "trust":
        parts.append(
            "Colour: patients' trust in their providers and providers' regard for patients, "
            "out of 10 (darker is more). "
            f"Mean here: patients {patients:.1f}, providers {providers:.1f} out of 10."
        )
    elif colour_by == "stigma":
        toward = group or "the key populations (their mean)"
        parts.append(
            f"Colour: stigma out of 10 (darker is more). Providers: their stigma toward "
            f"{toward}. Patients: the stigma they meet from their provider toward their own "
            f"group. Mean held by the providers here: {providers:.1f} out of 10."
        )
    else:
        parts.append("Colour: each patient's group.")
    if group is not None:
        parts.append(f"{group} are shown; the other groups are faded.")
    return " ".join(parts)


#: The network view's choices, one value per browser session.
chosen_site = solara.reactive(0)
chosen_colouring = solara.reactive("trust")
chosen_group = solara.reactive(EVERY_GROUP)


@solara.component
def NetworkView(model: CoproductionModel) -> None:
    """One site's people and ties, coloured by trust, stigma or group: the choices here,
    the drawing (redrawn every week) in ``NetworkChart``."""
    site_names = [site.name for site in model.sites]
    group_names = [g.name for g in model.parameters.groups]
    group_labels = [g.label for g in model.parameters.groups]
    # Kept per session, not per component: switching presenter mode keeps the choices.
    site, set_site = chosen_site.value, chosen_site.set
    colour_by, set_colour_by = chosen_colouring.value, chosen_colouring.set
    group, set_group = chosen_group.value, chosen_group.set
    site = min(site, len(site_names) - 1)
    if group != EVERY_GROUP and group not in group_labels:  # another scenario's group
        group = EVERY_GROUP
    presenter = state.presenter.value
    if presenter:
        # On a projector the choices take one line (no room under them for a hint).
        solara.Style(PRESENTER_CHOICES_CSS)
    # On a projector the choices, the caption and the chart sit closer, for room.
    with solara.Column(gap="4px" if presenter else "12px", classes=["network-view"]):
        with solara.Row(
            style={"align-items": "center", "flex-wrap": "wrap"}, classes=["network-choices"]
        ):
            with solara.Div(style={"width": "220px"}, classes=["network-site"]):
                solara.Select(
                    "Site",
                    value=site_names[site],
                    values=site_names,
                    on_value=lambda name: set_site(site_names.index(name)),
                    dense=presenter,
                )
            with solara.Div(style={"width": "280px"}, classes=["network-group"]):
                solara.Select(
                    "Patient group",
                    value=group,
                    values=[EVERY_GROUP, *group_labels],
                    on_value=set_group,
                    dense=presenter,
                )
            with solara.Div(classes=["network-colour"]):
                solara.ToggleButtonsSingle(
                    value=colour_by, values=list(COLOURINGS), on_value=set_colour_by
                )
        chosen = None if group == EVERY_GROUP else group_names[group_labels.index(group)]
        NetworkChart(model, site, colour_by, chosen)
        if not presenter:  # on a projector the teacher explains; the room has no space
            InfoPanel(PAGES["network"], title="About the network view")


@solara.component
def NetworkChart(
    model: CoproductionModel, site: int, colour_by: str, group: str | None = None
) -> None:
    """The site network and its caption, redrawn after every step."""
    tick = state.tick.value
    presenter = state.presenter.value
    network = solara.use_memo(
        lambda: site_network(model, site, colour_by, group),  # type: ignore[arg-type]
        dependencies=[id(model), tick, site, colour_by, group],
    )
    solara.Text(
        caption(network, short=presenter),
        classes=["network-caption"],
        style={
            "font-size": "1.1em" if presenter else "0.85em",
            "display": "block",
            "max-width": "980px" if presenter else "640px",
        },
    )
    spec = network_spec(network, presenter=presenter)
    if not presenter:
        Chart("network", spec)
        return
    # Already styled for a projector (``presented``): ``Chart`` would style it again as a
    # 360×190 px line chart. The same wrapper as ``Chart``'s, for the tests and the page.
    shape, data = split_data(spec)
    with solara.Div(classes=["coprod-chart", "chart-network"]):
        VegaLiteLive.element(spec=shape, datasets_json=data)
