"""Planning a collaborative: many designs, their costs, robustness to an unknown context and
where each design fails.

``spec`` (what a plan is), ``costs`` (what a design costs), ``decision`` (from runs to a
robust choice), ``discovery`` (PRIM: where a design fails), ``run`` (the plan's folder) and
``report`` (the page to hand round). ``coprod plan SPEC --out DIR`` runs one.
"""

from coprod_sim.planning.spec import Plan, PlanSpec, load_plan

__all__ = ["Plan", "PlanSpec", "load_plan"]
