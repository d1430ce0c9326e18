"""What a design costs: its meetings, stipends, learning sessions, coaching and preparation,
counted from the design's scenario and the planner's unit costs.

For a collaborative of :math:`S` sites over :math:`T` weeks, with :math:`M` team meetings per
site in that time (every ``meeting_interval`` weeks, during support and, if teams go on
meeting, after it: :func:`coprod_sim.model.meeting_due`), teams of :math:`n` members of whom
:math:`r` hold representatives' seats, and :math:`L` learning sessions within the :math:`T`
weeks:

.. math::

    C = S \\Big[ M \\big( (n - r)\\, h\\, c_\\text{staff} + r\\, c_\\text{stipend} \\big)
        + L\\, c_\\text{session} + \\min(W, T)\\, c_\\text{coach} + g\\, c_\\text{prep} \\Big]

with :math:`h` hours per meeting, :math:`W` weeks of external support and :math:`g = 1` when
the design has ground rules and preparatory sessions. These are *planned* costs: a meeting a
crisis cancels is still counted, and a seat left empty is still paid for, as a budget would.
The stipend is a cost only: the model has no mechanism by which a stipend changes who stays
on a team (no source gives its size), so it changes no outcome.
"""

from __future__ import annotations

from coprod_sim.model import learning_session_weeks, meeting_due
from coprod_sim.planning.spec import Costs
from coprod_sim.scenario import Scenario

#: The items of a design's cost, in the report's order.
ITEMS = ("staff_time", "stipends", "learning_sessions", "coaching", "preparation")


def meetings(scenario: Scenario, steps: int) -> int:
    """Team meetings one site plans over ``steps`` weeks."""
    return sum(meeting_due(week, scenario) for week in range(1, steps + 1))


def cost_items(scenario: Scenario, steps: int, costs: Costs) -> dict[str, float]:
    """Each item of the design's planned cost over ``steps`` weeks (see the module docstring)."""
    sites = sum(site.count for site in scenario.sites)
    held = meetings(scenario, steps)
    seats = scenario.representative_seats
    staff = scenario.team_size - seats
    sessions = sum(
        week <= steps
        for week in learning_session_weeks(scenario.support_weeks, scenario.learning_sessions)
    )
    return {
        "staff_time": sites * held * staff * costs.meeting_hours * costs.staff_hour,
        "stipends": sites * held * seats * costs.stipend_per_meeting,
        "learning_sessions": sites * sessions * costs.learning_session,
        "coaching": sites * min(scenario.support_weeks, steps) * costs.coaching_per_site_week,
        "preparation": sites * float(scenario.ground_rules) * costs.preparation_per_site,
    }


def total_cost(scenario: Scenario, steps: int, costs: Costs) -> float:
    """The design's planned cost over ``steps`` weeks."""
    return sum(cost_items(scenario, steps, costs).values())
