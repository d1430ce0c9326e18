"""Closing (or not closing) the feedback loop after a representative speaks.

Sources: Oxehealth (undated article on coproduction): "acknowledge and act on
contributions, and keep people in the loop": it is not essential to act on every point, but everyone
must know their contributions are valued. Ocloo & Matthews (2016): people feel
undervalued when they get no feedback. BMA patient liaison group (2022):
trust is needed for, and a product of, coproduction.

Each contribution a representative makes in a meeting becomes one experience
for that representative's trust (see ``trust``). The team reports back with
probability ``feedback_loop``:

    =============  ===============================  ===========================
                   reported back                    not reported back
    =============  ===============================  ===========================
    acted on       good                             none (they never hear)
    not acted on   good with prob. acknowledgement, bad (input into a void)
                   otherwise none
    =============  ===============================  ===========================

A representative whose idea from an earlier meeting is taken up counts as a
contributor at the meeting that takes it up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def contribution_experience(
    acted: ArrayLike, reported: ArrayLike, valued_draw: ArrayLike, acknowledgement: float
) -> tuple[NDArray, NDArray]:
    """(good, bad) experiences from contributions, per the table above."""
    acted = np.asarray(acted, dtype=bool)
    reported = np.asarray(reported, dtype=bool)
    valued = np.asarray(valued_draw) < acknowledgement
    good = reported & (acted | valued)
    bad = ~reported & ~acted
    return good, bad
