"""What a calibration found: the posterior, the posterior-predictive check, figures and a
self-contained HTML report (style inline, figures as base64 PNG, so it opens offline).

What each table means is in :mod:`~coprod_sim.calibration.analysis`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from coprod_sim.calibration.analysis import (
    effective_sample_size,
    posterior_summary,
    predictive_check,
    weighted_quantile,
)
from coprod_sim.calibration.run import (
    GENERATIONS,
    POSTERIOR,
    PREDICTIVE,
    RECORD,
    STATUS,
)
from coprod_sim.calibration.spec import CalibrationSpec
from coprod_sim.errors import FolderError, Problem
from coprod_sim.experiments.report import embed_figure, html_table, markdown_table, replace_file

REPORT = "report.html"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("coprod_sim.calibration", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def write_calibration_report(out: str | Path) -> Path:
    """Write ``out/report.html`` and ``out/figures/`` from a finished calibration folder."""
    out = Path(out)
    record, spec, status, posterior, generations, predictive, bounds = _read_folder(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    summary = posterior_summary(spec, posterior, bounds)
    check = predictive_check(spec, predictive) if predictive is not None else None
    context = {
        "name": spec.name,
        "description": spec.description,
        "provenance": _provenance(record, status, posterior, generations),
        "posterior": html_table(summary),
        "generations": html_table(_generation_table(generations)),
        "targets": html_table(_target_table(spec)),
        "check": None if check is None else html_table(check),
        "misfits": [] if check is None else list(check.loc[check["fits"] != "yes", "target"]),
        "draws": 0 if predictive is None else len(predictive),
        "marginals": embed_figure(_marginals(spec, generations, bounds), figures, "marginals"),
        "pairs": embed_figure(_pairs(spec, posterior, bounds), figures, "pairs")
        if len(spec.parameters) > 1
        else None,
        "predictive": None
        if predictive is None
        else embed_figure(_predictive_figure(spec, predictive), figures, "predictive"),
    }
    html = _TEMPLATES.get_template("report.html.j2").render(**context)
    path = out / REPORT
    replace_file(path, html.encode("utf-8"))
    return path


def _provenance(record, status, posterior, generations) -> dict[str, Any]:
    return {
        "coprod_sim version": record.get("version"),
        "command": record.get("command") or "(library call)",
        "created": record.get("created"),
        "seed": record["spec"].get("seed"),
        "fingerprint": record.get("fingerprint"),
        "budget": record["spec"].get("budget"),
        "stopped because": status.get("finished", "unknown"),
        "generations": int(generations["generation"].max()) + 1,
        "particles": len(posterior),
        "effective sample size": f"{effective_sample_size(posterior['weight'].to_numpy()):.0f}",
    }


def _generation_table(generations: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for t, g in generations.groupby("generation"):
        w = g["weight"].to_numpy()
        rows.append(
            {
                "generation": t,
                "particles": len(g),
                "largest distance": g["distance"].max(),
                "median distance": float(weighted_quantile(g["distance"].to_numpy(), w, 0.5)),
                "effective sample size": effective_sample_size(w),
            }
        )
    return pd.DataFrame(rows)


def _target_table(spec: CalibrationSpec) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "target": name,
                "scenario": t.scenario,
                "weeks": t.steps,
                "statistic": t.statistic,
                "output": ", ".join(t.outputs),
                "observed": t.observed,
                "sd": t.sd,
                "source": t.source,
            }
            for name, t in spec.targets.items()
        ]
    )


def _grid(n: int, width: float = 3.2, height: float = 2.6):
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _marginals(spec: CalibrationSpec, generations: pd.DataFrame, bounds):
    names = list(spec.parameters)
    fig, axes = _grid(len(names))
    first, last = generations["generation"].min(), generations["generation"].max()
    for ax, name in zip(axes, names, strict=True):
        low, high = bounds[name]
        edges = np.linspace(low, high, 21)
        for t, colour, label in (
            (first, "#bbbbbb", "first generation"),
            (last, "#1f77b4", "posterior"),
        ):
            g = generations[generations["generation"] == t]
            ax.hist(g[name], bins=edges, weights=g["weight"], density=True, color=colour,
                    alpha=0.8 if t == last else 0.6, label=label)  # fmt: skip
        ax.set_title(name, fontsize=9)
        ax.set_xlim(low, high)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    fig.suptitle("Marginal posteriors (x-axis: the prior's range)", fontsize=10)
    fig.tight_layout()
    return fig


def _pairs(spec: CalibrationSpec, posterior: pd.DataFrame, bounds):
    names = list(spec.parameters)[:6]
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.0 * k + 1, 2.0 * k + 1), squeeze=False)
    size = 60 * posterior["weight"] / posterior["weight"].max()
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i][j]
            if i == j:
                ax.hist(posterior[x], bins=15, weights=posterior["weight"], color="#1f77b4")
                ax.set_yticks([])
            elif i > j:
                ax.scatter(posterior[x], posterior[y], s=size, alpha=0.5, color="#1f77b4")
                ax.set_ylim(*bounds[y])
            else:
                ax.set_visible(False)
            ax.set_xlim(*bounds[x])
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(x, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(y, fontsize=7)
    fig.suptitle("Posterior pairs (dot size: weight)", fontsize=10)
    fig.tight_layout()
    return fig


def _predictive_figure(spec: CalibrationSpec, predictive: pd.DataFrame):
    names = list(spec.targets)
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=True):
        target = spec.targets[name]
        ax.hist(predictive[name].dropna(), bins=20, color="#1f77b4", alpha=0.8,
                label="simulated from the posterior")  # fmt: skip
        ax.axvspan(target.observed - target.sd, target.observed + target.sd, color="#d62728",
                   alpha=0.15, label="observed ± sd")  # fmt: skip
        ax.axvline(target.observed, color="#d62728")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    fig.suptitle("Posterior-predictive check", fontsize=10)
    fig.tight_layout()
    return fig


def _read_folder(out: Path) -> tuple:
    """A finished calibration folder's record, spec, status, posterior, generations,
    predictive draws (or None) and prior bounds."""
    missing = [n for n in (RECORD, POSTERIOR, GENERATIONS) if not (out / n).exists()]
    if missing:
        raise FolderError(
            [Problem("--out", str(out), f"has no {', '.join(missing)}: run coprod calibrate")]
        )
    record = json.loads((out / RECORD).read_text())
    spec = CalibrationSpec.model_validate(record["spec"])
    status = json.loads((out / STATUS).read_text()) if (out / STATUS).exists() else {}
    posterior = pd.read_parquet(out / POSTERIOR)
    generations = pd.read_parquet(out / GENERATIONS)
    predictive = pd.read_parquet(out / PREDICTIVE) if (out / PREDICTIVE).exists() else None
    bounds = record.get("bounds") or {
        n: (generations[n].min(), generations[n].max()) for n in spec.parameters
    }
    return record, spec, status, posterior, generations, predictive, bounds


def write_calibration_markdown(out: str | Path, path: str | Path) -> Path:
    """The calibration's findings as Markdown for the docs, with its figures and a copy of
    ``posterior.parquet`` beside it (so ``--posterior`` can name the docs' folder)."""
    out, path = Path(out), Path(path)
    record, spec, status, posterior, generations, predictive, bounds = _read_folder(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path.parent / POSTERIOR, (out / POSTERIOR).read_bytes())
    for name, fig in (
        ("marginals", _marginals(spec, generations, bounds)),
        ("pairs", _pairs(spec, posterior, bounds)),
        *(
            (("predictive", _predictive_figure(spec, predictive)),)
            if predictive is not None
            else ()
        ),
    ):
        fig.savefig(path.parent / f"{name}.png", dpi=100)
        plt.close(fig)
    summary = posterior_summary(spec, posterior, bounds)
    lines = [
        f"# Calibration: {spec.name}",
        "",
        f"Generated from `{out}` by `coprod_sim.calibration.report` (coprod_sim "
        f"{record.get('version')}; command `{record.get('command') or '(library)'}`; seed "
        f"{spec.seed}). Stopped because {status.get('finished', 'unknown')}: "
        f"{int(generations['generation'].max()) + 1} generation(s) of "
        f"{spec.schedule.population} particles. {spec.description}",
        "",
        "## Targets",
        "",
        markdown_table(_target_table(spec)),
        "",
        "## Posterior",
        "",
        "Weighted median and central 90% interval of the last generation, beside the "
        "uniform prior's range; 'interval / prior' well below 1 means the targets narrowed the "
        f"parameter. Effective sample size {effective_sample_size(posterior['weight']):.0f} of "
        f"{len(posterior)} particles. The posterior itself is "
        f"[posterior.parquet]({POSTERIOR}) beside this page: "
        f"`coprod compare A B --posterior {path.parent.as_posix()}` draws from it.",
        "",
        markdown_table(summary),
        "",
        "![marginals](marginals.png)",
        "",
        "![pairs](pairs.png)",
        "",
        "## Generations",
        "",
        markdown_table(_generation_table(generations)),
        "",
    ]
    if predictive is not None:
        check = predictive_check(spec, predictive)
        misfits = list(check.loc[check["fits"] != "yes", "target"])
        lines += [
            "## Posterior-predictive check",
            "",
            f"{len(predictive)} posterior draws simulated again with fresh seeds. A target fits "
            "when its observed value lies in the central 90% of the predictive distribution "
            "(the simulation plus the target's sd). "
            + (f"**Not fitted: {', '.join(misfits)}.**" if misfits else "Every target fits."),
            "",
            markdown_table(check),
            "",
            "![predictive check](predictive.png)",
            "",
        ]
    replace_file(path, "\n".join(lines).encode("utf-8"))
    return path
