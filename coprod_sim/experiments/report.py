"""A self-contained HTML report of a results folder, with its figures.

The report embeds its figures as base64 PNG and its style inline, so the one
file opens offline and can be mailed; the figures are also saved as PNG and
SVG in ``figures/``. It shows the provenance, how many runs are done and
failed, each outcome's mean with its 95% interval per design point, paired
differences against the first scenario, series over time, and sensitivity
indices for Sobol and Morris designs.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from coprod_sim.experiments import analysis

MAX_LINES = 12  # more design points than this are tabled, not drawn line by line
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; } .note { color: #555; } code { background: #f6f6f6; }
"""


def write_report(out: str | Path) -> Path:
    """Write ``out/report.html`` (and ``out/figures/``) and return the report's path."""
    out = Path(out)
    header = analysis.read_header(out)
    runs = analysis.load_runs(out)
    errors = analysis.load_errors(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    outcomes = analysis.outcomes_of(header)
    parts = [_provenance(header, runs, errors)]
    if runs.empty:
        parts.append("<p>No run has completed yet.</p>")
    else:
        parts += _summary_section(header, runs, outcomes, figures)
        parts += _difference_section(header, runs, outcomes, figures)
        series = analysis.load_series(out)
        if not series.empty:
            parts += _series_section(header, series, figures)
        if header["design"] in ("sobol", "morris"):
            parts += _sensitivity_section(out, header, figures)
    if not errors.empty:
        parts.append("<h2>Errors</h2>")
        last = errors.groupby("run_id").tail(1)[["run_id", "attempt", "error"]]
        parts.append(_table(last.head(50)))
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(header['name'])}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
    path = out / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def _provenance(header: dict[str, Any], runs: pd.DataFrame, errors: pd.DataFrame) -> str:
    failed = len(set(errors["run_id"]) - set(runs["run_id"])) if not errors.empty else 0
    items = {
        "design": f"{header['design']}, {header['points']} design points × "
        f"{header['replications']} replications",
        "runs": f"{len(runs)} of {header['runs']} done, {failed} failed",
        "factors": ", ".join(header["factors"]) or "(none)",
        "scenarios": ", ".join(header["scenarios"]),
        "weeks": header["spec"]["steps"],
        "root seed": header["spec"]["seed"],
        "coprod_sim": header["version"],
        "created": header["created"],
        "fingerprint": header["fingerprint"][:16],
        "command": header.get("command") or "",
    }
    rows = "".join(
        f"<tr><th>{k}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in items.items()
    )
    description = html.escape(header.get("description") or "")
    return f"<h1>{html.escape(header['name'])}</h1><p>{description}</p><table>{rows}</table>"


def _summary_section(
    header: dict[str, Any], runs: pd.DataFrame, outcomes: list[str], figures: Path
) -> list[str]:
    by = [c for c in analysis.point_columns(header) if c in runs.columns]
    summary = analysis.summarise(runs, outcomes, by)
    parts = ["<h2>Outcomes: mean and 95% interval over replications</h2>"]
    if summary["scenario_id"].nunique() <= 60:
        wide = summary.assign(
            cell=[_cell(r.mean, r.low, r.high) for r in summary.itertuples()]
        ).pivot_table(index=by, columns="outcome", values="cell", aggfunc="first")
        parts.append(_table(wide[outcomes].reset_index()))
    else:
        parts.append(
            f"<p class='note'>{summary['scenario_id'].nunique()} design points: query "
            "<code>runs/*.parquet</code> with DuckDB for the full table.</p>"
        )
    if summary["scenario_id"].nunique() <= 60 and header["design"] == "factorial":
        parts.append(_img(_outcome_figure(header, summary, outcomes), figures, "outcomes"))
    return parts


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
) -> list[str]:
    """Paired differences against the first design point (common random numbers)."""
    points = list(dict.fromkeys(runs.sort_values("scenario_id")["scenario_id"]))
    if len(points) < 2 or len(points) > 60 or header["design"] != "factorial":
        return []
    names = _point_names(header, runs)
    diffs = analysis.paired_differences(runs, outcomes, points[0])
    diffs["versus"] = diffs["scenario_id"].map(names)
    diffs["verdict"] = [analysis.verdict(r.low, r.high) for r in diffs.itertuples()]
    table = diffs[["versus", "outcome", "difference", "low", "high", "n", "verdict"]]
    parts = [
        f"<h2>Paired differences from {html.escape(names[points[0]])}</h2>",
        "<p class='note'>Replication <i>r</i> of every design point shares its random "
        "stream, so each difference is taken within a replication; the interval is the "
        "paired t interval.</p>",
        _table(table),
    ]
    fig = _panels(
        outcomes, lambda ax, outcome: _forest(ax, table[table["outcome"] == outcome]), height=
        0.28 * (len(points) - 1) + 1.2, width=4.6,
    )  # fmt: skip
    fig.suptitle(f"Difference from {names[points[0]]}, 95% paired interval", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    parts.append(_img(fig, figures, "differences"))
    return parts


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


def _series_section(header: dict[str, Any], series: pd.DataFrame, figures: Path) -> list[str]:
    outcomes = analysis.outcomes_of(header, "series")
    if series["scenario_id"].nunique() > MAX_LINES:
        return []
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
    return ["<h2>Over time (mean, 95% band)</h2>", _img(fig, figures, "series")]


def _sensitivity_section(out: Path, header: dict[str, Any], figures: Path) -> list[str]:
    try:
        indices = analysis.sensitivity(out)
    except ValueError as error:
        return ["<h2>Sensitivity</h2>", f"<p>{html.escape(str(error))}</p>"]
    sobol = header["design"] == "sobol"
    first, first_conf, second, second_conf = (
        ("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma", None)
    )
    valid = indices.dropna(subset=[first]) if first in indices else indices.iloc[0:0]
    outcomes = list(dict.fromkeys(valid["outcome"]))
    parts = [
        f"<h2>Sensitivity: {'Sobol indices' if sobol else 'Morris elementary effects'}</h2>",
        "<p class='note'>"
        + (
            "S1: share of the outcome's variance due to the factor alone; ST: including its "
            "interactions. Intervals are bootstrap 95% confidence."
            if sobol
            else "μ*: mean absolute elementary effect (importance); σ: its spread "
            "(non-linearity or interactions)."
        )
        + "</p>",
        _table(indices),
    ]
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
        parts.append(_img(fig, figures, "sensitivity"))
    return parts


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0)


def _img(fig, figures: Path, name: str) -> str:
    """Save ``fig`` as PNG and SVG in ``figures/`` and return it as an inline <img>."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    (figures / f"{name}.png").write_bytes(buffer.getvalue())
    fig.savefig(figures / f"{name}.svg")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f"<img alt='{name}' src='data:image/png;base64,{data}'>"
