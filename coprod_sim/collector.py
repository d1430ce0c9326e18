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


class RowCollector(mesa.DataCollector):
    """A DataCollector whose model reporters each read one column of the recorder's latest
    collaborative row.

    What Mesa's ``collect`` would append, this appends when ``model_vars`` is read: each
    step collected is noted, and its row's values are copied into ``model_vars`` on the
    first read after it (the recorder builds its rows when they are read, too). That
    skips calling ~90 reporters and deep-copying each value at every step: the values
    are Python numbers, booleans and strings, which ``deepcopy`` returns as they are.
    Reporters added or replaced later, or agent reporters, send ``collect`` back to
    Mesa's own.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._pending: list[int] = []  # rows collected, not yet copied into model_vars
        self._model_vars: dict[str, list] = {}
        self._columns = [name for name in recorder.latest if name != "step"]
        super().__init__(
            model_reporters={
                name: (lambda _model, name=name: recorder.latest[name]) for name in self._columns
            }
        )
        self._own_reporters = dict(self.model_reporters)

    @property
    def model_vars(self) -> dict[str, list]:
        """Each model reporter's values, one per collect (as Mesa's)."""
        if self._pending:
            self._copy_pending()
        return self._model_vars

    @model_vars.setter
    def model_vars(self, value: dict[str, list]) -> None:
        self._pending = []
        self._model_vars = value

    def _copy_pending(self) -> None:
        pending, self._pending = self._pending, []
        rows = self._recorder.rows()
        for name in self._columns:
            self._model_vars[name].extend(rows[i][name] for i in pending)

    def collect(self, model: mesa.Model) -> None:
        if (
            self.agent_reporters
            or self.agenttype_reporters
            or self.model_reporters != self._own_reporters
        ):
            super().collect(model)  # reads model_vars: pending rows are copied first
            return
        self._validated = True  # the reporters read a row that exists: nothing to check
        self._collection_steps.append(model.time)
        self._pending.append(self._recorder.n_steps - 1)


def collaborative_collector(recorder: Recorder) -> mesa.DataCollector:
    """A DataCollector whose model reporters read the recorder's latest collaborative row
    (every column but ``step``); build it once the first row is recorded, and call
    ``collect`` after each ``recorder.record``."""
    return RowCollector(recorder)
