"""The main outcomes of a run as one figure (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the CLI and tests have no display

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def outcomes_figure(
    collaborative: pd.DataFrame, groups: pd.DataFrame, title: str, support_weeks: int | None = None
) -> Figure:
    """Six panels: trust both ways, stigma, changes adopted, value, equity and retention, voice."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex=True, layout="constrained")
    week = collaborative["week"]
    by_group = {name: frame for name, frame in groups.groupby("group", sort=False)}
    labels = {name: frame["label"].iloc[0] for name, frame in by_group.items()}

    def mark(ax: plt.Axes) -> None:
        if support_weeks and support_weeks < week.max():
            ax.axvline(support_weeks, color="grey", ls=":", lw=1)
        crisis = collaborative.loc[collaborative["phase"] == "crisis", "week"]
        if len(crisis):
            ax.axvspan(crisis.min() - 0.5, crisis.max() + 0.5, color="red", alpha=0.08)

    ax = axes[0, 0]
    ax.plot(week, collaborative["patient_trust"], label="patients' trust in providers")
    ax.plot(week, collaborative["provider_regard"], label="providers' regard for patients")
    ax.set(title="Trust, both ways", ylim=(0, 1), ylabel="mean (0-1)")

    ax = axes[0, 1]
    for name, frame in by_group.items():
        ax.plot(frame["step"], frame["provider_stigma"], label=labels[name])
    ax.set(title="Provider stigma toward each group", ylim=(0, 1), ylabel="mean (0-1)")

    ax = axes[0, 2]
    ax.plot(week, collaborative["patient_originated"], label="patient-originated")
    ax.plot(week, collaborative["staff_originated"], label="staff-originated")
    ax.plot(week, collaborative["changes_in_use"], ls="--", color="k", lw=1, label="in use now")
    ax.set(title="Changes adopted (site adoptions)", ylabel="count")

    ax = axes[1, 0]
    for name, frame in by_group.items():
        ax.plot(frame["step"], frame["value"], label=labels[name])
    ax.plot(week, collaborative["equity_gap"], color="k", ls="--", lw=1, label="equity gap")
    ax.set(title="Value of care delivered to each group", ylim=(0, 1), ylabel="0-1", xlabel="week")

    ax = axes[1, 1]
    for name, frame in by_group.items():
        ax.plot(frame["step"], frame["retention"], label=labels[name])
    ax.set(title="Retention in care", ylim=(0, 1), ylabel="share in care", xlabel="week")

    ax = axes[1, 2]
    ax.plot(week, collaborative["voice_share"], label="heard, of those attending")
    ax.plot(week, collaborative["participation"], label="attending, of those seated")
    ax.set(title="Representatives' voice and participation", ylim=(0, 1), xlabel="week")
    twin = ax.twinx()
    twin.plot(week, collaborative["reps_dropped"], color="grey", ls="--", lw=1)
    twin.set_ylabel("representatives who left (grey, dashed)")

    for ax in axes.flat:
        mark(ax)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower left")
    axes[0, 1].legend(fontsize=8, loc="lower left")
    axes[0, 2].legend(fontsize=8, loc="upper left")
    axes[1, 0].legend(fontsize=8, loc="lower right")
    axes[1, 2].legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    return fig


def save_outcomes_figure(
    path: Path,
    collaborative: pd.DataFrame,
    groups: pd.DataFrame,
    title: str,
    support_weeks: int | None = None,
) -> None:
    fig = outcomes_figure(collaborative, groups, title, support_weeks)
    fig.savefig(path, dpi=110)
    plt.close(fig)
