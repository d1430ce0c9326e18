"""A Vega-Lite widget that redraws without delay and updates data in place (see vega.vue)."""

from __future__ import annotations

from pathlib import Path

import ipyvuetify as v
import traitlets


class VegaLiteLive(v.VuetifyTemplate):
    """Draws ``spec``; a new spec with the same structure only swaps the data."""

    template_file = str(Path(__file__).with_name("vega.vue"))
    spec = traitlets.Dict().tag(sync=True)
