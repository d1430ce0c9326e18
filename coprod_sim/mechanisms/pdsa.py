"""PDSA testing: test a change small, learn from failure, scale up after it works.

Source: Langley et al. (2009) *The Improvement Guide* (the Model for
Improvement); IHI Breakthrough Series: action periods of PDSA cycles between
learning sessions. Scaling up before a change works is a known failure.

An idea under test has a design quality d, the chance one cycle succeeds when the
team runs it with full capability (see ``capability``: a team realises a share
s = 1 − ρ·(1 − C) of it). Each cycle of ``pdsa_cycle_weeks``:

    success with probability d·s
    on failure the team learns:  d ← d + ℓ·(1 − d)

After ``pdsa_successes_to_scale`` successes the change is scaled up (a
later retest that improves its design quality improves it everywhere); after
``pdsa_max_cycles`` cycles without it, the idea is dropped. With 0 successes
required, a change is scaled up untested, at its first-draft quality.
"""

from __future__ import annotations


def cycle(
    design_quality: float, draw: float, learning: float, realised: float = 1.0
) -> tuple[bool, float]:
    """One PDSA cycle: (succeeded, design quality afterwards). ``draw`` is uniform on [0, 1);
    ``realised`` is the share of the design quality the team's tests realise (``capability``)."""
    if draw < design_quality * realised:
        return True, design_quality
    return False, design_quality + learning * (1.0 - design_quality)
