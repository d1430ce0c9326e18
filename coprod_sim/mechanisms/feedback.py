"""Closing (or not closing) the feedback loop, and tokenism felt as evidence.

Sources: Oxehealth (undated article on coproduction): "acknowledge and act on
contributions, and keep people in the loop": it is not essential to act on every point,
but everyone must know their contributions are valued. Ocloo & Matthews (2016): people
feel undervalued when they get no feedback, and involvement without influence is
tokenism. Arnstein (1969): placation lets people advise while power-holders keep the
right to decide. BMA patient liaison group (2022): trust is needed for, and a product
of, coproduction.

Each contribution a representative makes in a meeting becomes one experience for that
representative's trust (see ``trust``). The team reports back with probability
``feedback_loop``; ``acknowledgement`` (α) is the chance input not acted on still feels
valued when reported back, ``tokenism_sensitivity`` (τ) the chance it is felt as tokenism
otherwise:

    =============  ===============================  ===========================
                   reported back                    not reported back
    =============  ===============================  ===========================
    acted on       good                             none (they never hear)
    not acted on   good with prob. α; otherwise     bad (input into a void)
                   bad with prob. τ (placation)
    =============  ===============================  ===========================

A representative present and willing to speak who gets no turn is unheard: a bad
experience with probability τ (present but unheard, Arnstein's tokenism).

A representative whose idea from an earlier meeting is taken up counts as a
contributor at the meeting that takes it up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def contribution_experience(
    acted: ArrayLike,
    reported: ArrayLike,
    valued_draw: ArrayLike,
    acknowledgement: float,
    tokenism_sensitivity: float = 0.0,
) -> tuple[NDArray, NDArray]:
    """(good, bad) experiences from contributions, per the table above. One uniform
    ``valued_draw`` per contribution decides both whether it feels valued (below α) and,
    if not, whether it feels like tokenism (the top share τ of the rest)."""
    acted = np.asarray(acted, dtype=bool)
    reported = np.asarray(reported, dtype=bool)
    draw = np.asarray(valued_draw)
    valued = draw < acknowledgement
    placated = draw > acknowledgement + (1.0 - acknowledgement) * (1.0 - tokenism_sensitivity)
    good = reported & (acted | valued)
    bad = ~acted & (~reported | placated)
    return good, bad


def unheard_experience(draw: ArrayLike, tokenism_sensitivity: float) -> NDArray[np.bool_]:
    """Whether each representative present and willing but given no turn has a bad
    experience (probability τ, from one uniform ``draw`` each)."""
    return np.asarray(draw) < tokenism_sensitivity
