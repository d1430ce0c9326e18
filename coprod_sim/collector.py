"""The one adapter to Mesa's DataCollector.

The model records its outputs itself (``outputs.Recorder``); Mesa's
``DataCollector`` gets the same collaborative series so that Mesa's own tools
(``get_model_vars_dataframe``, SolaraViz) work on the model. Mesa 4 is replacing
the DataCollector, so this is the only module that builds one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from coprod_sim.outputs import Recorder


def collaborative_collector(recorder: Recorder) -> mesa.DataCollector:
    """A DataCollector whose model reporters read the recorder's latest collaborative row
    (every column but ``step``); build it once the first row is recorded, and call
    ``collect`` after each ``recorder.record``."""
    return mesa.DataCollector(
        model_reporters={
            name: (lambda _model, name=name: recorder.latest[name])
            for name in recorder.latest
            if name != "step"
        }
    )
