"""A plan's report, to hand to a committee: one self-contained HTML page (style inline,
figures as base64 PNG, also saved as PNG and SVG in ``figures/``) that opens offline.

It shows the designs in words and their costs, the futures and the seeds, the robust choice
under the plan's rule with how sure it is, each design's chance of meeting the targets and
its regret, the differences from the reference in the outcomes' units and in people with
verdicts that use the minimum important differences, the outcomes over time and the time
to each target, where the leading designs fail (PRIM), and the caveats.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from coprod_sim.experiments.posterior import describe
from coprod_sim.experiments.report import embed_figure, html_table, markdown_table, replace_file
from coprod_sim.experiments.seeds import replication_seed
from coprod_sim.outputs import COUNT_OF_SHARE
from coprod_sim.planning.costs import ITEMS

if TYPE_CHECKING:
    from coprod_sim.planning.decision import PlanResults
    from coprod_sim.planning.discovery import FailureBox
    from coprod_sim.planning.spec import Plan

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("coprod_sim.planning", "templates"),
    autoescape=True,  # design names, descriptions and commands are user text
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
# Okabe & Ito's colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000")


def write_report(
    plan: Plan, out: Path, results: PlanResults, boxes: list[tuple[str, FailureBox | None]]
) -> Path:
    """Write ``out/report.html`` (and its figures) and return its path."""
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    spec = plan.spec
    currency = spec.costs.currency
    designs = results.designs
    choice = results.choice
    page = {
        "name": spec.name,
        "description": spec.description,
        "provenance": _provenance(plan),
        "designs": html_table(_design_words(plan)),
        "costs": html_table(_cost_table(designs, currency)),
        "context": html_table(_context_table(plan)),
        "posterior_futures": plan.posterior_futures,
        "targets": [t.describe() for t in spec.targets.values()],
        "rule": spec.decision.rule,
        "chosen": choice["design"],
        "chosen_share": choice["shares"][choice["design"]],
        "bootstrap": choice["bootstrap"],
        "ranking": html_table(_ranking(plan, designs, currency)),
        "differences": html_table(_difference_table(results.differences)),
        "comparisons": results.comparisons,
        "level": 1 - 0.05 / max(results.comparisons, 1),
        "reference": plan.reference,
        "time_to_target": html_table(_time_table(results.time_to_target)),
        "outcomes": html_table(_outcome_table(results.outcomes)),
        "failures": [
            {"design": design, "text": box.describe() if box else no_box(results, design)}
            for design, box in boxes
        ],
        "figure_cost": embed_figure(_cost_figure(designs, currency), figures, "cost_targets"),
        "figure_regret": embed_figure(_regret_figure(results), figures, "regret"),
        "figure_time": embed_figure(_time_figure(plan, results), figures, "over_time"),
        "figure_boxes": [
            (design, embed_figure(_box_figure(plan, results, box), figures, f"prim_{k}"))
            for k, (design, box) in enumerate(boxes)
            if box is not None and box.limits
        ],
        "caveats": _caveats(plan, results),
    }
    text = _TEMPLATES.get_template("report.html.j2").render(page)
    path = out / "report.html"
    replace_file(path, text.encode("utf-8"))
    return path


def _provenance(plan: Plan) -> dict[str, str]:
    spec = plan.spec
    seeds = [replication_seed(spec.seed, r) for r in range(spec.replications)]
    rows = {
        "base scenario": spec.scenario,
        "designs": str(len(plan.designs)),
        "futures": f"{spec.context.futures} "
        + ("posterior draws, one run each" if plan.posterior_futures else "(Latin hypercube)"),
        "replications per design and future": str(spec.replications),
        "runs": f"{plan.n_runs:,}",
        "weeks": str(spec.steps),
        "root seed": str(spec.seed),
        "replication seeds": ", ".join(map(str, seeds[:8])) + (" ..." if len(seeds) > 8 else ""),
        "fingerprint": plan.fingerprint()[:16],
    }
    if plan.experiment.posterior:
        rows["parameters"] = describe(plan.experiment.posterior)
    return rows


def _design_words(plan: Plan) -> pd.DataFrame:
    """Each design as overrides of the base scenario, in words."""
    rows = []
    for name, overrides in plan.designs.items():
        changes = "; ".join(f"{k} = {v}" for k, v in overrides.items()) or "as the base scenario"
        stipend = plan.design_costs[name].stipend_per_meeting
        changes += f"; stipend {stipend:g} per representative and meeting"
        rows.append(
            {"design": name, "what it is": plan.descriptions.get(name, ""), "settings": changes}
        )
    return pd.DataFrame(rows)


def _cost_table(designs: pd.DataFrame, currency: str) -> pd.DataFrame:
    columns = {f"cost_{item}": item.replace("_", " ") for item in ITEMS}
    table = designs[["design", *columns, "cost"]].rename(columns=columns)
    return table.rename(columns={"cost": f"total ({currency})"})


def _context_table(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [{"field": k, "low": lo, "high": hi} for k, (lo, hi) in plan.context_bounds().items()]
    )


def _ranking(plan: Plan, designs: pd.DataFrame, currency: str) -> pd.DataFrame:
    objective = plan.spec.decision.objective
    people = COUNT_OF_SHARE.get(objective, objective)
    designs = designs.sort_values("chosen_share", ascending=False, kind="stable")
    table = pd.DataFrame(
        {
            "design": designs["design"],
            "targets met (share of futures)": [
                f"{m:.0%} [{lo:.0%}, {hi:.0%}]"
                for m, lo, hi in designs[
                    ["targets_met_share", "targets_met_low", "targets_met_high"]
                ].itertuples(index=False)
            ],
            f"max regret ({objective})": designs["max_regret"],
            f"mean regret ({objective})": designs["mean_regret"],
            "chosen in resampled futures": designs["chosen_share"].map("{:.0%}".format),
            f"cost ({currency})": designs["cost"],
            f"extra {people} vs {plan.reference}": designs.get("extra_people"),
            f"{currency} per extra {people}": [
                _per_person(design, value, plan.reference)
                for design, value in zip(
                    designs["design"], designs["cost_per_extra_person"], strict=True
                )
            ],
        }
    )
    return table


def _per_person(design: str, value: float, reference: str) -> str:
    """The cost per extra person, or why there is none."""
    if design == reference:
        return "(reference)"
    return "no clear gain" if value != value else f"{value:,.0f}"


def _difference_table(differences: pd.DataFrame) -> pd.DataFrame:
    table = differences.copy()
    table["interval"] = [
        f"[{lo:+.4g}, {hi:+.4g}]" for lo, hi in zip(table.low, table.high, strict=True)
    ]
    table["verdict"] = [
        (f"{v} {m:g}" if m > 0 else f"{v.split()[0]} (no minimum important difference set)")
        if v.endswith("at least")
        else v
        for v, m in zip(table.verdict, table.minimum_important, strict=True)
    ]
    columns = ["design", "outcome", "difference", "interval", "minimum_important", "verdict"]
    if "people" in table:
        table["people (interval)"] = [
            "" if pd.isna(p) else f"{p:+.1f} [{lo:+.1f}, {hi:+.1f}]"
            for p, lo, hi in zip(table.people, table.people_low, table.people_high, strict=True)
        ]
        columns.append("people (interval)")
    return table[columns]


def _time_table(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.rename(columns={"describe": "target", "target": "name"}).copy()
    table["met from kept week (and after)"] = [
        "not within the run" if pd.isna(w) else str(int(w)) for w in table.pop("first_week_met")
    ]
    return table.drop(columns="name")


def _outcome_table(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.pivot(index="outcome", columns="design", values="mean").reset_index()
    return table


def no_box(results: PlanResults, design: str) -> str:
    """Why a design has no failure box, in words."""
    met = results.cells[results.cells["scenario"] == design]["targets_met"]
    if met.all():
        return "meets the targets in every future: there is no failure to locate"
    if not met.any():
        return "meets the targets in no future: the failure is everywhere in the context"
    return "no box found"


def _caveats(plan: Plan, results: PlanResults) -> list[str]:
    spec = plan.spec
    notes = [
        f"Each verdict compares a design with {plan.reference} over {results.comparisons} "
        f"(design, outcome) comparisons; the intervals are Bonferroni-adjusted to "
        f"{1 - 0.05 / max(results.comparisons, 1):.4%} each, so that all of them hold "
        "together with 95% confidence.",
        f"A target counts as met in a future when the mean of its {spec.replications} "
        "replications meets it; the chance of meeting the targets is over the futures, "
        "which are equally likely draws of the context's ranges, not forecasts.",
        "How often a design is the robust choice comes from resampling the futures; it "
        "does not include the uncertainty in the model's own parameters unless a posterior "
        "is given.",
        "Costs are planned costs: meetings a crisis cancels and seats left empty are "
        "counted. A stipend is a cost only: the model has no mechanism through which it "
        "changes who stays.",
        "The model's parameters are illustrative assumptions or calibrated to few targets "
        "(see the parameter table); read the differences between designs, not the levels.",
    ]
    unset = [
        o
        for o in results.differences["outcome"].unique()
        if o not in spec.decision.minimum_important
    ]
    if unset:
        notes.append(
            "The plan set no minimum important difference for "
            f"{', '.join(unset)}: these use the project's default margins (two percentage "
            "points of a share, two points of trust on a 0-100 scale, fifty people, ...), "
            "which are assumptions; set [decision] minimum_important for what matters to you."
        )
    return notes


def _cost_figure(designs: pd.DataFrame, currency: str):
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for k, row in enumerate(designs.itertuples()):
        colour = PALETTE[k % len(PALETTE)]
        err = [
            [row.targets_met_share - row.targets_met_low],
            [row.targets_met_high - row.targets_met_share],
        ]
        ax.errorbar(row.cost, row.targets_met_share, yerr=err, fmt="o", color=colour, capsize=3)
        ax.annotate(
            row.design,
            (row.cost, row.targets_met_share),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xlabel(f"planned cost ({currency})")
    ax.set_ylabel("share of futures meeting every target")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Cost and the chance of meeting the targets (95% Wilson intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def _regret_figure(results: PlanResults):
    cells = results.cells
    names = list(results.designs["design"])
    fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * len(names)))
    ax.boxplot(
        [cells[cells["scenario"] == n]["regret"] for n in names],
        orientation="horizontal",
        tick_labels=names,
    )
    ax.set_xlabel("regret in each future: the best design's outcome minus this one's")
    ax.set_title("Regret across the futures", fontsize=10)
    fig.tight_layout()
    return fig


def _time_figure(plan: Plan, results: PlanResults):
    outcomes = list(dict.fromkeys(t.outcome for t in plan.spec.targets.values()))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.6 * len(outcomes), 3.4), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        mine = results.over_time[results.over_time["outcome"] == outcome]
        for k, (name, rows) in enumerate(mine.groupby("design", sort=False)):
            ax.plot(
                rows["step"], rows["mean"], color=PALETTE[k % len(PALETTE)], label=name, linewidth=2
            )
        for target in plan.spec.targets.values():
            if target.outcome == outcome:
                ax.axvline(target.week, color="#888", linestyle=":", linewidth=1)
        ax.set_title(outcome, fontsize=10)
        ax.set_xlabel("week")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _box_figure(plan: Plan, results: PlanResults, box: FailureBox):
    """The futures on the box's first two fields, failing ones marked, the box drawn."""
    names = list(box.limits)[:2]
    if len(names) == 1:  # the other axis: the next context field, unrestricted
        names += [n for n in plan.context_fields if n not in names][:1]
    cells = results.cells[results.cells["scenario"] == box.design]
    fig, (ax, trade) = plt.subplots(1, 2, figsize=(10, 4))
    fails = ~cells["targets_met"]
    x = cells[names[0]]
    y = cells[names[1]] if len(names) > 1 else pd.Series(0.0, index=cells.index)
    ax.scatter(x[~fails], y[~fails], marker="o", color=PALETTE[0], label="targets met", s=18)
    ax.scatter(x[fails], y[fails], marker="x", color=PALETTE[3], label="targets missed", s=22)
    (x_low, x_high), (y_low, y_high) = (
        _box_side(box, plan, names[0]),
        _box_side(box, plan, names[1]) if len(names) > 1 else (-0.5, 0.5),
    )
    ax.add_patch(
        plt.Rectangle(
            (x_low, y_low),
            x_high - x_low,
            y_high - y_low,
            fill=False,
            edgecolor="#000",
            linewidth=1.5,
        )
    )
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] if len(names) > 1 else "")
    ax.legend(fontsize=7)
    ax.set_title(f"{box.design}: where it misses the targets", fontsize=10)
    trade.plot(box.trajectory["coverage"], box.trajectory["density"], marker=".", color="#555")
    trade.scatter([box.coverage], [box.density], color=PALETTE[3], zorder=3, label="box shown")
    trade.set_xlabel("coverage")
    trade.set_ylabel("density")
    trade.set_title("PRIM's peeling trajectory", fontsize=10)
    trade.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _box_side(box: FailureBox, plan: Plan, name: str) -> tuple[float, float]:
    low, high = box.limits.get(name, (None, None))
    full_low, full_high = plan.context_bounds()[name]
    return (full_low if low is None else low, full_high if high is None else high)


def write_plan_markdown(out: str | Path, path: str | Path) -> Path:
    """A complete plan folder's findings as Markdown for the docs, with its figures copied
    beside the page; every number is read from the folder's own tables."""
    import json
    import shutil

    out, path = Path(out), Path(path)
    record = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    spec = record["spec"]
    designs = pd.read_csv(out / "designs.csv")
    differences = pd.read_csv(out / "differences.csv")
    failures = pd.read_csv(out / "failures.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = sorted((out / "figures").glob("*.png"))
    for figure in figures:
        shutil.copyfile(figure, path.parent / figure.name)
    chosen = designs.sort_values("chosen_share", ascending=False, kind="stable").iloc[0]
    currency = spec["costs"]["currency"]
    reference = spec["decision"].get("reference") or designs["design"].iloc[0]
    ranking = designs.sort_values("chosen_share", ascending=False, kind="stable")[
        ["design", "cost", "targets_met_share", "targets_met_low", "targets_met_high",
         "max_regret", "mean_regret", "chosen_share", "extra_people", "cost_per_extra_person"]
    ]  # fmt: skip
    verdicts = differences[
        ["design", "outcome", "difference", "low", "high", "minimum_important", "verdict"]
        + [c for c in ("people", "people_low", "people_high") if c in differences]
    ]
    targets = [
        f"- `{t['outcome']}` "
        + (f"{t['change']:+g} from week 0" if t.get("change") is not None else
           f"at least {t['at_least']:g}" if t.get("at_least") is not None else
           f"at most {t['at_most']:g}")
        + f" by week {t['week']}"
        for t in spec["targets"].values()
    ]  # fmt: skip
    lines = [
        f"# Plan: {spec['name']}",
        "",
        f"Generated from `{out}` by `coprod_sim.planning.report` (coprod_sim "
        f"{record.get('coprod_sim')}; command `{record.get('command') or '(library)'}`). "
        f"{spec.get('description', '')}",
        "",
        f"{len(designs)} designs x {spec['context']['futures']} futures x "
        f"{spec['replications']} replications = {record['runs']:,} runs of {spec['steps']} "
        f"weeks, root seed {spec['seed']}. The futures are a Latin hypercube over: "
        + ", ".join(f"`{k}` {lo:g}-{hi:g}" for k, (lo, hi) in record["context"].items())
        + ".",
        "",
        "## Targets",
        "",
        *targets,
        "",
        "## The robust choice",
        "",
        f"Under the rule **{spec['decision']['rule']}** the robust choice is "
        f"**{chosen['design']}**: the choice in {chosen['chosen_share']:.0%} of "
        f"{spec['decision']['bootstrap']} resamples of the futures. Costs in {currency} "
        "(illustrative unit costs); regret and extra people on "
        f"`{spec['decision']['objective']}`, against `{reference}`.",
        "",
        markdown_table(ranking),
        "",
        "![cost and the chance of meeting the targets](cost_targets.png)",
        "",
        "![regret](regret.png)",
        "",
        "## Where the leading designs fail (PRIM)",
        "",
        *[f"- **{r.design}** {r.where_it_fails}." for r in failures.itertuples()],
        "",
        *[f"![{f.stem}]({f.name})" for f in figures if f.stem.startswith("prim_")],
        "",
        "## Differences from the reference",
        "",
        "Paired on future and replication; Bonferroni-adjusted intervals; verdicts against "
        "each outcome's minimum important difference.",
        "",
        markdown_table(verdicts),
        "",
        "![over time](over_time.png)",
        "",
    ]
    replace_file(path, "\n".join(lines).encode("utf-8"))
    return path
