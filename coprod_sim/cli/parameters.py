"""``coprod parameters``: every scenario field with its unit, default, plausible range and
source (the table in docs/parameters.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coprod_sim.cli.common import out_console


def parameters(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the table to this Markdown file instead."),
    ] = None,
) -> None:
    """Print every scenario field: meaning, unit, default, plausible range and source."""
    from coprod_sim.scenario.evidence import markdown

    text = markdown()
    if out is None:
        out_console.print(text, markup=False, highlight=False)
        return
    out.write_text(text, encoding="utf-8")
    out_console.print(f"wrote {out}")
