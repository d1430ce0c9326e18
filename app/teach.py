"""Guided demonstrations for a class (see ``app.demos``): pick one, run it, read the story.

Each demonstration runs its prepared pair of designs in a background thread
and then narrates, from the runs, what changed and why.
"""

from __future__ import annotations

import solara
import solara.lab

from app.demos import DEMO_BY_KEY, DEMOS, Demo
from app.explore import Chart
from app.pairs import PairResult, run_pair

# Session state: one value per browser session.
chosen = solara.reactive(DEMOS[0].key)
replications = solara.reactive(3)
root_seed = solara.reactive(7)
progress = solara.reactive(0.0)


@solara.lab.task(prefer_threaded=True)
def demonstration(key: str, reps: int, seed: int) -> tuple[str, PairResult]:
    """Run one demonstration's pair of designs (in a background thread)."""
    demo = DEMO_BY_KEY[key]
    a, b = demo.scenarios()
    progress.set(0.0)
    result = run_pair(
        a,
        b,
        names=demo.names,
        replications=reps,
        weeks=78,
        root_seed=seed,
        progress=progress.set,
        cancelled=lambda: not demonstration.is_current(),
    )
    return key, result


@solara.component
def Story(demo: Demo, result: PairResult) -> None:
    """A demonstration's narration, computed from its runs, and its charts."""
    lines = solara.use_memo(lambda: demo.narrate(result), dependencies=[id(result)])
    specs = solara.use_memo(lambda: demo.charts(result), dependencies=[id(result)])
    solara.Markdown(
        f"**{result.names[0]}** and **{result.names[1]}**, {result.replications} paired "
        f"replications of 78 weeks (root seed {result.root_seed}); bands are 95% intervals."
    )
    with solara.Div(classes=["demo-narration"]):
        for line in lines:
            solara.Text(line, style={"display": "block", "margin-bottom": "8px"})
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for i, spec in enumerate(specs):
            Chart(f"demo-{demo.key}-{i}", spec)


@solara.component
def Page() -> None:
    """The Teach page."""
    solara.Markdown(
        "## Teach\nGuided demonstrations: each runs two versions of the CaReQIC "
        "collaborative that differ in one respect, and explains what changed and why."
    )
    demo = DEMO_BY_KEY[chosen.value]
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.ToggleButtonsSingle(
            value=demo.title,
            values=[d.title for d in DEMOS],
            on_value=lambda title: chosen.set(next(d.key for d in DEMOS if d.title == title)),
        )
    solara.Markdown(
        f"### {demo.title}\n{demo.question}\n\n"
        f"*{demo.names[0]}* against *{demo.names[1]}*. The mechanisms at work: "
        f"`{demo.mechanism}` in `coprod_sim/mechanisms/` (see docs/ODD.md)."
    )
    with solara.Row(style={"align-items": "center"}):
        solara.Button(
            "Run this demonstration",
            color="primary",
            disabled=demonstration.pending,
            on_click=lambda: demonstration(demo.key, replications.value, root_seed.value),
        )
        with solara.Div(style={"width": "200px"}):
            solara.SliderInt(
                f"Replications: {replications.value}",
                value=replications.value,
                min=2,
                max=10,
                on_value=replications.set,
            )

        def set_seed(value: int | None) -> None:
            if value is not None and value >= 0:
                root_seed.set(int(value))

        with solara.Div(style={"width": "120px"}):
            solara.InputInt("Seed", value=root_seed.value, on_value=set_seed)
    if demonstration.pending:
        solara.ProgressLinear(value=progress.value * 100)
        solara.Text(f"Running… {progress.value:.0%}")
    elif demonstration.error:
        solara.Error(f"The demonstration failed: {demonstration.exception}")
    elif demonstration.finished and demonstration.value is not None:
        key, result = demonstration.value
        if key == demo.key:
            Story(DEMO_BY_KEY[key], result)
