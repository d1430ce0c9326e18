"""The improvement process in one place: teams, their meetings, change ideas, PDSA tests,
scale-up and learning sessions.

===============  ==============================================================
module           what it holds
===============  ==============================================================
``process``      :class:`Improvement`, the component the model calls each week
``teams``        the teams' state: seats, backlogs, tests, the last meeting's record
``changes``      the catalogue of changes, their adoptions and who uses them
===============  ==============================================================
"""

from coprod_sim.improvement.changes import Changes, Origin
from coprod_sim.improvement.process import GroupViews, Improvement, Meeting
from coprod_sim.improvement.teams import EMPTY, Idea, Teams, Test

__all__ = [
    "EMPTY",
    "Changes",
    "GroupViews",
    "Idea",
    "Improvement",
    "Meeting",
    "Origin",
    "Teams",
    "Test",
]
