"""A network view of one site: its manager, providers, representatives and patients.

Ties drawn:

* colleagues: the ties between the site's providers (``model.provider_network``),
  along which changes spread and attitudes are exchanged;
* the improvement team: the manager, the providers on the team and the
  patient representatives who hold its seats (``model.teams.members``);
* care: each patient to the provider who sees them.

Nodes are coloured by trust (patients' trust in providers, providers' regard
for patients) or by stigma (a patient's felt stigma, i.e. their provider's
stigma toward their group; a provider's mean stigma toward the key
populations). The layout is fixed geometry, not a force layout: it is instant,
the same every week and for every seed, so a change of colour is a change in
the model, not in the drawing.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from app.charts import SCHEMA, Spec
from coprod_sim import CoproductionModel

ColourBy = Literal["trust", "stigma"]
PROVIDER_RADIUS = 3.0
REPRESENTATIVE_RADIUS = 1.3
PATIENT_RADIUS = (4.0, 5.6)
GOLDEN = 0.6180339887


def site_network(model: CoproductionModel, site: int, colour_by: ColourBy = "trust") -> dict:
    """Nodes and ties of one site, laid out for drawing."""
    if not 0 <= site < len(model.sites):
        raise ValueError(f"site = {site}: must be 0..{len(model.sites) - 1}")
    patients, providers = model.patients, model.providers
    p_span, v_span = patients.at_site(site), providers.at_site(site)
    provider_ids = np.arange(v_span.start, v_span.stop)
    n_providers = provider_ids.size
    staff, reps = model.teams.members(site)
    key = model.key_population
    group_labels = [g.label for g in model.parameters.groups]

    # Positions: providers on a circle, each one's patients fanned out beyond them.
    angle = 2 * np.pi * np.arange(n_providers) / max(n_providers, 1)
    provider_xy = PROVIDER_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
    provider_pos = {int(i): provider_xy[k] for k, i in enumerate(provider_ids)}

    if colour_by == "trust":
        provider_value = providers.regard(v_span)
        patient_value = patients.trust(p_span)
    else:
        stigma = providers.stigma[v_span]
        provider_value = stigma[:, key].mean(axis=1) if key.any() else stigma.mean(axis=1)
        patient_value = providers.stigma[patients.provider[p_span], patients.group[p_span]]

    nodes: list[dict[str, Any]] = [
        {"x": 0.0, "y": 0.0, "kind": "manager", "value": None, "label": "manager"}
    ]
    for k, i in enumerate(provider_ids.tolist()):
        on_team = i in staff
        nodes.append(
            {
                "x": round(float(provider_xy[k, 0]), 3),
                "y": round(float(provider_xy[k, 1]), 3),
                "kind": "provider on the team" if on_team else "provider",
                "value": round(float(provider_value[k]), 3),
                "label": f"provider {i}",
            }
        )
    edges: list[dict[str, Any]] = []

    def tie(a: np.ndarray, b: np.ndarray, kind: str) -> None:
        edges.append(
            {
                "x": round(float(a[0]), 3),
                "y": round(float(a[1]), 3),
                "x2": round(float(b[0]), 3),
                "y2": round(float(b[1]), 3),
                "kind": kind,
            }
        )

    graph = model.provider_network
    for a, b in graph.subgraph(provider_ids.tolist()).edges():
        tie(provider_pos[a], provider_pos[b], "colleagues")

    # Patients: a fan beyond their provider; representatives sit in the middle, with the team.
    rep_set = set(reps)
    rep_xy = {}
    for k, r in enumerate(sorted(rep_set)):
        theta = 2 * np.pi * (k + 0.5) / max(len(rep_set), 1)
        rep_xy[r] = REPRESENTATIVE_RADIUS * np.array([np.cos(theta), np.sin(theta)])
    provider_of = patients.provider[p_span]
    group_of = patients.group[p_span]
    in_care = patients.in_care[p_span]
    local = (provider_of - v_span.start).astype(np.int64)
    index = np.arange(p_span.start, p_span.stop)
    is_rep = np.isin(index, np.fromiter(rep_set, dtype=np.int64, count=len(rep_set)))
    # Each patient's place in their provider's fan: patients are stored sorted by provider,
    # so the rank within a provider is the position minus that provider's first position.
    counts = np.bincount(local, minlength=n_providers)
    fan_local = local[~is_rep]
    rank = np.arange(fan_local.size) - np.searchsorted(fan_local, fan_local, side="left")
    fan = 2 * np.pi / max(n_providers, 1) * 0.85
    low, high = PATIENT_RADIUS
    theta = angle[fan_local] + fan * ((rank + 0.5) / np.maximum(counts[fan_local], 1) - 0.5)
    radius = low + (high - low) * ((rank * GOLDEN) % 1.0)
    xy = np.zeros((index.size, 2))
    xy[~is_rep] = radius[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    for j in np.flatnonzero(is_rep):
        xy[j] = rep_xy[int(index[j])]
    kinds = np.where(
        is_rep, "representative", np.where(in_care, "patient in care", "patient out of care")
    )
    xs, ys = np.round(xy[:, 0], 3).tolist(), np.round(xy[:, 1], 3).tolist()
    values = np.round(np.asarray(patient_value, dtype=float), 3).tolist()
    labels = [group_labels[g] for g in group_of.tolist()]
    nodes += [
        {"x": x, "y": y, "kind": kind, "value": value, "label": label}
        for x, y, kind, value, label in zip(xs, ys, kinds.tolist(), values, labels, strict=True)
    ]
    px = np.round(provider_xy[local, 0], 3).tolist()
    py = np.round(provider_xy[local, 1], 3).tolist()
    edges += [
        {"x": x, "y": y, "x2": x2, "y2": y2, "kind": "care"}
        for x, y, x2, y2 in zip(xs, ys, px, py, strict=True)
    ]
    for member in staff:
        tie(np.zeros(2), provider_pos[member], "team")
        for r in reps:
            tie(rep_xy[r], provider_pos[member], "team")
    for r in reps:
        tie(np.zeros(2), rep_xy[r], "team")
    return {
        "nodes": nodes,
        "edges": edges,
        "site": model.sites[site].name,
        "representatives": len(reps),
        "team_providers": len(staff),
        "providers": n_providers,
        "patients": p_span.stop - p_span.start,
    }


KINDS = (
    "manager",
    "provider on the team",
    "provider",
    "representative",
    "patient in care",
    "patient out of care",
)
SHAPES = ("square", "diamond", "diamond", "triangle-up", "circle", "circle")
SIZES = (260, 200, 120, 220, 22, 22)
EDGE_KINDS = ("team", "colleagues", "care")
EDGE_COLOURS = ("#f28e2b", "#555555", "#dddddd")


def network_spec(network: dict, colour_by: ColourBy = "trust") -> Spec:
    """Vega-Lite spec of a site network from :func:`site_network`."""
    scheme = "blues" if colour_by == "trust" else "reds"
    legend_title = "trust / regard (0–1)" if colour_by == "trust" else "stigma, felt or held (0–1)"
    axis = {"axis": None, "scale": {"domain": [-6, 6]}}
    people = [n for n in network["nodes"] if n["value"] is not None]
    managers = [n for n in network["nodes"] if n["value"] is None]
    # Shape and size encode the same field with the same legend, so Vega-Lite draws one
    # legend of who is who (a size legend of its own would say nothing new).
    who = {"field": "kind", "type": "nominal", "title": "who"}
    legend = {"orient": "bottom", "columns": 3}
    shape = {**who, "scale": {"domain": list(KINDS), "range": list(SHAPES)}, "legend": legend}
    size = {**who, "scale": {"domain": list(KINDS), "range": list(SIZES)}, "legend": legend}
    return {
        "$schema": SCHEMA,
        # Canvas, not SVG: a site is ~1,000 marks, which a canvas redraws in a fraction of
        # the time the browser takes to rebuild as many SVG elements.
        "usermeta": {"embedOptions": {"renderer": "canvas", "actions": False}},
        "title": f"{network['site']}: who works with whom",
        "width": 420,
        "height": 420,
        "layer": [
            {
                "data": {"values": network["edges"]},
                "mark": {"type": "rule", "strokeWidth": 1},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative", **axis},
                    "y": {"field": "y", "type": "quantitative", **axis},
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "title": "ties",
                        "scale": {"domain": list(EDGE_KINDS), "range": list(EDGE_COLOURS)},
                        "legend": {"orient": "right"},
                    },
                },
            },
            {
                "data": {"values": people},
                "mark": {"type": "point", "filled": True, "stroke": "#222", "strokeWidth": 0.6},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative", **axis},
                    "y": {"field": "y", "type": "quantitative", **axis},
                    "shape": shape,
                    "size": size,
                    "fill": {
                        "field": "value",
                        "type": "quantitative",
                        "title": legend_title,
                        "scale": {"scheme": scheme, "domain": [0, 1]},
                        "legend": {"orient": "right"},
                    },
                    # Patients who have left care stay on the map, faded.
                    "opacity": {
                        "condition": {"test": "datum.kind === 'patient out of care'", "value": 0.3},
                        "value": 0.95,
                    },
                    "tooltip": [
                        {"field": "kind", "type": "nominal"},
                        {"field": "label", "type": "nominal", "title": "who"},
                        {"field": "value", "type": "quantitative", "title": colour_by},
                    ],
                },
            },
            {
                "data": {"values": managers},
                "mark": {"type": "point", "filled": True, "color": "#444", "stroke": "#000"},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative", **axis},
                    "y": {"field": "y", "type": "quantitative", **axis},
                    "shape": shape,
                    "size": size,
                },
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
    }
