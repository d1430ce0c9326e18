"""A Vega-Lite widget that redraws without delay and updates data in place (see vega.vue).

The chart's structure (``spec``, with every inline dataset replaced by a name) and its data
(``datasets_json``, one JSON string of ``{name: rows}``) are sent separately. A JSON string crosses
to the browser far more cheaply than thousands of small nested dicts, which ipywidgets
would compare, search for binary buffers and encode one by one on every step.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import ipyvuetify as v
import traitlets

Spec = dict[str, Any]


def split_data(spec: Spec) -> tuple[Spec, str]:
    """(the spec with each ``data.values`` replaced by a named dataset, the datasets as JSON).

    Names are ``inline_0``, ``inline_1``, ... in the order met; not ``data_N``, which
    Vega-Lite gives to datasets it derives itself.
    """
    datasets: dict[str, Any] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "data" and isinstance(value, dict) and "values" in value:
                name = f"inline_{len(datasets)}"
                datasets[name] = value["values"]
                out[key] = {"name": name}
            else:
                out[key] = walk(value)
        return out

    shape = walk(spec)
    return shape, json.dumps(datasets, separators=(",", ":"), allow_nan=False)


def join_data(shape: Spec, data: str) -> Spec:
    """The inverse of :func:`split_data` (for tests and debugging)."""
    datasets = json.loads(data)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "data" and isinstance(value, dict) and value.get("name") in datasets:
                out[key] = {"values": datasets[value["name"]]}
            else:
                out[key] = walk(value)
        return out

    return walk(copy.deepcopy(shape))


class VegaLiteLive(v.VuetifyTemplate):
    """Draws ``spec`` with ``datasets_json``; when only the data changes, swaps it in place."""

    template_file = str(Path(__file__).with_name("vega.vue"))
    spec = traitlets.Dict().tag(sync=True)
    # Not "data": Vue reserves that name for a component's own state.
    datasets_json = traitlets.Unicode("{}").tag(sync=True)

    def full_spec(self) -> Spec:
        """The spec with its data back inline, as it was given to :func:`split_data`."""
        return join_data(self.spec, self.datasets_json)
