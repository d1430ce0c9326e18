"""Entry point of the scenario explorer: ``solara run app/app.py`` (``make app``).

Four pages: Explore (one scenario live), Compare (two to four designs with common
random numbers), Plan (designs weighed across uncertain futures, with costs, targets
and a robust choice) and Teach (guided demonstrations).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `solara run app/app.py` puts app/ itself first on sys.path, where this file would shadow
# the `app` package; the repository root must come first so `import app.explore` finds it.
_ROOT = str(Path(__file__).resolve().parent.parent)
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)

import solara  # noqa: E402

from app import compare, explore, plan, teach  # noqa: E402

TITLE = "coprod_sim · coproduction explorer"


@solara.component
def Layout(children: list) -> None:
    """An app bar with a link per page (Solara's default tabs would call the first
    page "Home"); each page fills its own sidebar."""
    route, routes = solara.use_route()
    solara.Title(TITLE)
    with solara.AppLayout(title=TITLE, navigation=False, color="#3b5f8a"):
        with solara.AppBar():
            for r in routes:
                with solara.Link(solara.resolve_path(r)):
                    solara.Button(
                        r.label,
                        text=True,
                        dark=True,
                        classes=["nav-current" if r is route else "nav-other"],
                        style={"font-weight": "bold" if r is route else "normal"},
                    )
        solara.Column(children=children)


routes = [
    solara.Route(path="/", component=explore.Page, label="Explore", layout=Layout),
    solara.Route(path="compare", component=compare.Page, label="Compare"),
    solara.Route(path="plan", component=plan.Page, label="Plan"),
    solara.Route(path="teach", component=teach.Page, label="Teach"),
]
