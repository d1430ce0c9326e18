"""Entry point of the scenario explorer: ``solara run app/app.py`` (``make app``).

Four pages: Explore (one scenario live), Compare (two to four designs with common
random numbers), Plan (designs weighed across uncertain futures, with costs, targets
and a robust choice) and Teach (lessons for a class).
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

from app import compare, explore, plan, state, teach  # noqa: E402

TITLE = "coprod_sim · coproduction explorer"


#: Presenter mode for a projector at 1024×768: 18 px text or more everywhere, larger
#: controls, and no page wider than the screen (the charts themselves are drawn larger by
#: ``charts.presented``).
PRESENTER_CSS = """
.presenter, .presenter .v-btn, .presenter .v-label, .presenter input, .presenter textarea,
.presenter .v-select__selection, .presenter .v-list-item__title, .presenter .v-alert,
.presenter .v-messages, .presenter summary, .presenter span, .presenter div {
    font-size: 18px !important;
}
.presenter .explore-title { font-size: 22px !important; }
.presenter .v-label--active { transform: translateY(-24px) scale(1) !important; }
.presenter .v-text-field { margin-top: 10px; }
.presenter .v-btn { min-height: 40px; }
.presenter .v-main__wrap > div { padding-top: 4px !important; padding-bottom: 0 !important; }
"""

#: The app bar's links, in presenter mode (the bar is outside the page's column).
PRESENTER_BAR_CSS = """
.v-toolbar .v-btn, .v-toolbar .v-btn__content, .v-toolbar__title { font-size: 18px !important; }
"""


@solara.component
def Layout(children: list) -> None:
    """An app bar with a link per page (Solara's default tabs would call the first
    page "Home") and the presenter-mode switch; each page fills its own sidebar."""
    route, routes = solara.use_route()
    presenter = state.presenter.value
    solara.Title(TITLE)
    solara.Style(PRESENTER_CSS + (PRESENTER_BAR_CSS if presenter else ""))
    with solara.AppLayout(
        title="coprod_sim" if presenter else TITLE, navigation=False, color="#3b5f8a"
    ):
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
            solara.Button(
                "Leave presenter mode" if presenter else "Presenter mode",
                text=True,
                dark=True,
                outlined=presenter,
                classes=["presenter-switch"],
                on_click=lambda: state.presenter.set(not presenter),
            )
        solara.Column(children=children, classes=["presenter"] if presenter else [])


routes = [
    solara.Route(path="/", component=explore.Page, label="Explore", layout=Layout),
    solara.Route(path="compare", component=compare.Page, label="Compare"),
    solara.Route(path="plan", component=plan.Page, label="Plan"),
    solara.Route(path="teach", component=teach.Page, label="Teach"),
]
