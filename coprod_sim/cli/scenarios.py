"""``coprod scenarios``: the presets, one line each."""

from __future__ import annotations

from rich.table import Table

from coprod_sim.cli.common import out_console


def scenarios() -> None:
    """List the preset scenarios, one line each."""
    from coprod_sim.scenario import preset_names, preset_summary

    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("preset")
    table.add_column("what it is")
    for name in preset_names():
        table.add_row(name, preset_summary(name))
    out_console.print(table)
