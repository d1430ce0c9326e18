"""A self-contained HTML report of a results folder, with its figures.

The report embeds its figures as base64 PNG and its style inline, so the one
file opens offline and can be mailed; the figures are also saved as PNG and
SVG in ``figures/``. It shows the provenance, how many runs are done and
failed, each outcome's mean with its 95% interval per design point, paired
differences against the first scenario, series over time, and sensitivity
indices for Sobol and Morris designs.

The page is the Jinja2 template ``templates/report.html.j2``, rendered with
autoescape on; this module computes what it shows (the tables, as pandas writes
them, and the figures).

A folder that cannot be read is refused with the folder's own :class:`FolderError` (see
:func:`coprod_sim.experiments.record.read_record`); one where the report cannot be written
(read-only, a full disk) is a :class:`FolderError` too, and leaves no ``*.tmp`` behind.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from markupsafe import Markup

from coprod_sim.errors import FolderError, Problem
from coprod_sim.experiments import analysis
from coprod_sim.experiments.decision import better, minimum_important
from coprod_sim.experiments.posterior import describe
from coprod_sim.experiments.stats import decision_verdict
from coprod_sim.experiments.store import os_reason

MAX_LINES = 12  # more design points than this are tabled, not drawn line by line
MAX_POINTS = 60  # more design points than this are not tabled: DuckDB is the way in
TEMPLATE = "report.html.j2"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("coprod_sim.experiments", "templates"),
    autoescape=True,  # names, descriptions, commands and errors are user text
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name in the template fails, not blanks
)


def write_report(out: str | Path) -> Path:
    """Write ``out/report.html`` (and ``out/figures/``) and return the report's path.

    Raises :class:`FolderError` if ``out`` is not a results folder that can be read whole,
    or the report cannot be written there.
    """
    out = Path(out)
    try:
        return _write_report(out)
    except OSError as error:
        raise FolderError(
            [
                Problem(
                    "DIR",
                    str(out),
                    f"cannot hold the report ({os_reason(error)}); report.html, if there was "
                    "one, is as it was",
                )
            ]
        ) from None


def _write_report(out: Path) -> Path:
    header = analysis.read_header(out)
    runs = analysis.load_runs(out)
    errors = analysis.load_errors(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    outcomes = analysis.outcomes_of(header)
    page: dict[str, Any] = {
        "name": header["name"],
        "description": header.get("description") or "",
        "provenance": _provenance(header, runs, errors),
        "completed": not runs.empty,
        "summary": None,
        "differences": None,
        "series": None,
        "sensitivity": None,
        "errors": None,
    }
    if not runs.empty:
        page["summary"] = _summary_section(header, runs, outcomes, figures)
        page["differences"] = _difference_section(header, runs, outcomes, figures)
        series = analysis.load_series(out)
        if not series.empty:
            page["series"] = _series_section(header, series, figures)
        if header["design"] in ("sobol", "morris"):
            page["sensitivity"] = _sensitivity_section(out, header, figures)
    if not errors.empty:
        last = errors.groupby("run_id").tail(1)[["run_id", "attempt", "error"]]
        page["errors"] = html_table(last.head(50))
    text = _TEMPLATES.get_template(TEMPLATE).render(page)
    path = out / "report.html"
    replace_file(path, text.encode("utf-8"))
    return path


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a ``*.tmp``: a reader sees the old file or the new,
    and a failed write (a full disk) leaves the old one and no ``*.tmp``."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _provenance(header: dict[str, Any], runs: pd.DataFrame, errors: pd.DataFrame) -> dict[str, Any]:
    """The rows of the table under the title: what ran, how much of it, from what."""
    failed = len(set(errors["run_id"]) - set(runs["run_id"])) if not errors.empty else 0
    return {
        "design": f"{header['design']}, {header['points']} design points × "
        f"{header['replications']} replications",
        "runs": f"{len(runs)} of {header['runs']} done, {failed} failed",
        "factors": ", ".join(header["factors"]) or "(none)",
        "scenarios": ", ".join(header["scenarios"]),
        "weeks": header["spec"]["steps"],
        "root seed": header["spec"]["seed"],
        "intervals": describe(header.get("posterior"))
        or "over replications: chance alone (parameters fixed at the scenario's values)",
        "coprod_sim": header["version"],
        "created": header["created"],
        "fingerprint": header["fingerprint"][:16],
        "command": header.get("command") or "",
    }


def _summary_section(
    header: dict[str, Any], runs: pd.DataFrame, outcomes: list[str], figures: Path
) -> dict[str, Any]:
    """Each outcome's mean and interval per design point: a table (if not too many points)
    and, for a factorial design, a figure."""
    by = [c for c in analysis.point_columns(header) if c in runs.columns]
    summary = analysis.summarise(runs, outcomes, by)
    points = summary["scenario_id"].nunique()
    section: dict[str, Any] = {"points": points, "table": None, "figure": None}
    if points <= MAX_POINTS:
        wide = summary.assign(
            cell=[_cell(r.mean, r.low, r.high) for r in summary.itertuples()]
        ).pivot_table(index=by, columns="outcome", values="cell", aggfunc="first")
        section["table"] = html_table(wide[outcomes].reset_index())
        if header["design"] == "factorial":
            section["figure"] = embed_figure(
                _outcome_figure(header, summary, outcomes), figures, "outcomes"
            )
    return section


def _cell(mean: float, low: float, high: float) -> str:
    if pd.isna(low):
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def _outcome_figure(header: dict[str, Any], summary: pd.DataFrame, outcomes: list[str]):
    """Each outcome against the first factor (or the scenario), a line per other setting."""
    x_name = header["factors"][0] if header["factors"] else "scenario"
    others = [c for c in ("scenario", *header["factors"]) if c != x_name]
    others = [c for c in others if summary[c].nunique() > 1]
    ncols = 3
    nrows = -(-len(outcomes) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    x_levels = list(dict.fromkeys(summary[x_name]))
    position = {v: i for i, v in enumerate(x_levels)}
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        data = summary[summary["outcome"] == outcome]
        groups = data.groupby(others, sort=True) if others else [((), data)]
        for i, (key, line) in enumerate(groups):
            if i >= MAX_LINES:
                break
            xs = [position[v] for v in line[x_name]]
            label = ", ".join(f"{k}={v}" for k, v in zip(others, _tuple(key), strict=True))
            ax.errorbar(
                xs, line["mean"], yerr=[line["mean"] - line["low"], line["high"] - line["mean"]],
                marker="o", capsize=3, label=label or None,
            )  # fmt: skip
        ax.set_xticks(range(len(x_levels)), [str(v) for v in x_levels])
        ax.set_xlabel(x_name)
        ax.set_title(outcome, fontsize=10)
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.axis("off")
    fig.suptitle("Mean over replications, 95% interval", fontsize=11)
    _legend_below(fig, top=0.97)
    return fig


def _legend_below(fig, top: float = 1.0, ncol: int = 3) -> None:
    """One legend for all panels, under them, with room made for it."""
    handles, labels = fig.axes[0].get_legend_handles_labels()
    bottom = 0.0
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=min(ncol, len(labels)), fontsize=7)
        bottom = (0.16 * -(-len(labels) // ncol) + 0.25) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, top))


def _tuple(key: Any) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _difference_section(
    header: dict[str, Any], runs: pd.DataFrame, outcomes: list[str], figures: Path
) -> dict[str, Any] | None:
    """Paired differences against the first design point (common random numbers)."""
    points = list(dict.fromkeys(runs.sort_values("scenario_id")["scenario_id"]))
    if len(points) < 2 or len(points) > MAX_POINTS or header["design"] != "factorial":
        return None
    names = _point_names(header, runs)
    diffs = analysis.paired_differences(runs, outcomes, points[0])
    diffs["versus"] = diffs["scenario_id"].map(names)
    diffs["verdict"] = [analysis.verdict(r.low, r.high) for r in diffs.itertuples()]
    # The decision's reading beside the statistical one: against each outcome's minimum
    # important difference (coprod_sim.experiments.decision; assumptions).
    diffs["MID"] = [minimum_important(o) for o in diffs["outcome"]]
    diffs["decision"] = [
        decision_verdict(r.low, r.high, r.MID, better(r.outcome)) for r in diffs.itertuples()
    ]
    table = diffs[["versus", "outcome", "difference", "low", "high", "n", "verdict", "MID",
                   "decision"]]  # fmt: skip
    fig = _panels(
        outcomes, lambda ax, outcome: _forest(ax, table[table["outcome"] == outcome]), height=
        0.28 * (len(points) - 1) + 1.2, width=4.6,
    )  # fmt: skip
    fig.suptitle(f"Difference from {names[points[0]]}, 95% paired interval", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return {
        "baseline": names[points[0]],
        "comparisons": len(table),
        "table": html_table(table),
        "figure": embed_figure(fig, figures, "differences"),
    }


def _forest(ax, rows: pd.DataFrame) -> None:
    """Differences with their intervals, one row per design point, and the line of no change."""
    ax.errorbar(
        rows["difference"], range(len(rows)),
        xerr=[rows["difference"] - rows["low"], rows["high"] - rows["difference"]],
        fmt="o", capsize=3,
    )  # fmt: skip
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(rows)), rows["versus"], fontsize=7)
    ax.invert_yaxis()


def _panels(outcomes: list[str], draw, height: float = 3.0, width: float = 4.2, ncols: int = 3):
    """One small panel per outcome, ``ncols`` to a row, drawn by ``draw(ax, outcome)``."""
    ncols = min(ncols, len(outcomes))
    nrows = -(-len(outcomes) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        draw(ax, outcome)
        ax.set_title(outcome, fontsize=10)
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.axis("off")
    return fig


def _point_names(header: dict[str, Any], runs: pd.DataFrame) -> dict[str, str]:
    """A readable name per design point: its scenario (if several) and factor values."""
    first = runs.drop_duplicates("scenario_id").set_index("scenario_id")
    several = len(header["scenarios"]) > 1
    names = {}
    for sid, row in first.iterrows():
        parts = [str(row["scenario"])] if several or not header["factors"] else []
        parts += [f"{f}={row[f]}" for f in header["factors"]]
        names[sid] = ", ".join(parts)
    return names


def _series_section(header: dict[str, Any], series: pd.DataFrame, figures: Path) -> str | None:
    """The series figure (mean and band per design point), if few enough points to draw."""
    outcomes = analysis.outcomes_of(header, "series")
    if series["scenario_id"].nunique() > MAX_LINES:
        return None
    names = _point_names(header, series)
    summary = analysis.series_summary(series, outcomes, "scenario_id")

    def draw(ax, outcome: str) -> None:
        for sid, line in summary[summary["outcome"] == outcome].groupby("scenario_id"):
            (drawn,) = ax.plot(line["step"], line["mean"], marker=".", label=names[sid])
            ax.fill_between(line["step"], line["low"], line["high"], alpha=0.2,
                            color=drawn.get_color())  # fmt: skip
        ax.set_xlabel("week")

    fig = _panels(outcomes, draw, height=3.2, width=4.5)
    _legend_below(fig)
    return embed_figure(fig, figures, "series")


def _sensitivity_section(out: Path, header: dict[str, Any], figures: Path) -> dict[str, Any]:
    """The indices' table and figure, or why there are none."""
    try:
        indices = analysis.sensitivity(out)
    except ValueError as error:
        return {"error": str(error)}
    sobol = header["design"] == "sobol"
    first, first_conf, second, second_conf = (
        ("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma", None)
    )
    valid = indices.dropna(subset=[first]) if first in indices else indices.iloc[0:0]
    outcomes = list(dict.fromkeys(valid["outcome"]))
    section: dict[str, Any] = {
        "error": None,
        "sobol": sobol,
        "table": html_table(indices),
        "figure": None,
        "convergence": None,
    }
    if outcomes:
        ncols = 3
        nrows = -(-len(outcomes) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), squeeze=False)
        for ax, outcome in zip(axes.flat, outcomes, strict=False):
            data = valid[valid["outcome"] == outcome]
            y = range(len(data))
            ax.barh([v - 0.2 for v in y], data[first], 0.4, xerr=data[first_conf], label=first)
            err = data[second_conf] if second_conf else None
            ax.barh([v + 0.2 for v in y], data[second], 0.4, xerr=err, label=second)
            ax.set_yticks(list(y), data["factor"], fontsize=7)
            ax.set_title(outcome, fontsize=10)
        for ax in list(axes.flat)[len(outcomes) :]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        section["figure"] = embed_figure(fig, figures, "sensitivity")
    if sobol and len(header["scenarios"]) == 1:
        section["convergence"] = _convergence_section(out, header, figures)
    return section


def _convergence_section(out: Path, header: dict[str, Any], figures: Path) -> dict[str, Any] | None:
    """Half-widths against the base sample, and the smallest that converged."""
    table = analysis.sobol_convergence(out)
    if table.empty:
        return None
    outcomes = list(dict.fromkeys(table["outcome"]))
    chosen = analysis.converged_n(table, outcomes)
    bound = analysis.CONVERGED
    verdict = (
        f"Every outcome's half-widths are within {bound:g} from n = {chosen} on."
        if chosen
        else f"Not converged: some half-width is above {bound:g} at the largest n."
    )
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, column in zip(axes, ("S1_half_width", "ST_half_width"), strict=True):
        for outcome in outcomes:
            rows = table[table["outcome"] == outcome]
            ax.plot(rows["N"], rows[column], marker=".", label=outcome)
        ax.axhline(bound, color="#999999", ls="--", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("base sample n")
        ax.set_title(column.replace("_", " "), fontsize=10)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    wide = table.pivot(index="N", columns="outcome", values=["S1_half_width", "ST_half_width"])
    wide.columns = [f"{outcome}: {kind[:2]}" for kind, outcome in wide.columns]
    return {
        "verdict": verdict,
        "table": html_table(wide.reset_index()),
        "figure": embed_figure(fig, figures, "convergence"),
    }


def html_table(frame: pd.DataFrame) -> Markup:
    """A frame as an HTML table; pandas escapes the cells, so the template takes it as is."""
    return Markup(
        frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)
    )


def markdown_table(frame: pd.DataFrame) -> str:
    """A frame as a Markdown table for the docs: numbers to four significant figures,
    missing values blank, pipes escaped."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.4g}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    rows = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    rows += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(rows)


def embed_figure(fig, figures: Path, name: str) -> str:
    """Save ``fig`` as PNG and SVG in ``figures/`` and return the PNG as base64, for the
    page's inline <img>."""
    png, svg = io.BytesIO(), io.BytesIO()
    try:
        fig.savefig(png, format="png", dpi=110)
        fig.savefig(svg, format="svg")
    finally:
        plt.close(fig)
    replace_file(figures / f"{name}.png", png.getvalue())
    replace_file(figures / f"{name}.svg", svg.getvalue())
    return base64.b64encode(png.getvalue()).decode()
