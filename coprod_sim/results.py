"""Writing a run's results: Parquet series, the resolved scenario, a figure and provenance.

A results folder holds:

``collaborative.parquet`` ``sites.parquet`` ``groups.parquet`` ``site_groups.parquet``
    the tidy per-step frames (see ``outputs``), each carrying the run's
    provenance in its Parquet metadata under the key ``coprod_sim``;
``scenario.toml``
    the fully resolved scenario: ``coprod run --scenario scenario.toml --seed S``
    reproduces the run;
``outcomes.png``
    the main outcomes;
``run.json``
    provenance (:mod:`coprod_sim.provenance`): package and library versions, seed,
    steps, the scenario's SHA-256, the command, the time.

The folder is written in full to a temporary sibling and then renamed into
place, so an interrupted or failed write never leaves a half-written folder,
and an existing folder is replaced only when asked to.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from coprod_sim.errors import FolderError, Problem
from coprod_sim.figures import save_outcomes_figure
from coprod_sim.model import CoproductionModel
from coprod_sim.provenance import command_line, run_record

FRAMES = ("collaborative", "sites", "groups", "site_groups")
RESULT_FILES = (
    *(f"{name}.parquet" for name in FRAMES),
    "scenario.toml",
    "outcomes.png",
    "run.json",
)


def provenance(
    model: CoproductionModel, seed: int | None, steps: int, command: str | None = None
) -> dict[str, Any]:
    """Everything needed to cite and reproduce a run, with the command that makes it (by
    default this process's command line)."""
    return run_record(model, seed, steps, command_line() if command is None else command)


def reproducing_command(model: CoproductionModel, seed: int | None, scenario_file: str) -> str:
    """The ``coprod run`` command that makes this run again from its scenario saved as
    ``scenario_file`` (changes made during the run are in the scenario)."""
    return shlex.join(
        ["coprod", "run", "--scenario", scenario_file, "--seed", str(seed or 0),
         "--steps", str(model.week)]
    )  # fmt: skip


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse, before anything runs, a results folder that cannot or must not be written.

    ``--overwrite`` replaces only an earlier run's results: a folder holding anything
    else is never deleted.
    """

    def refuse(allowed: str) -> FolderError:
        return FolderError([Problem("--out", str(out), allowed)])

    if any(len(part.encode()) > 255 for part in out.parts):
        raise refuse("has a folder name longer than 255 bytes")
    resolved = out.resolve()
    if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        raise refuse("is the current folder or one above it; give a new or results folder")
    if out.exists() and not out.is_dir():
        raise refuse("is a file; give a folder")
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not existing.is_dir():
        raise refuse(f"cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise refuse(f"cannot be written: no permission to write in {existing}")
    if out.is_dir():
        entries = sorted(p.name for p in out.iterdir())
        foreign = [name for name in entries if name not in RESULT_FILES]
        if foreign:
            raise refuse(
                f"holds files that are not coprod results ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); choose another folder"
            )
        if entries and not overwrite:
            raise refuse(
                "already holds results; choose another folder or pass --overwrite to replace them"
            )


def write_results(
    model: CoproductionModel,
    out: Path,
    seed: int | None,
    overwrite: bool = False,
    command: str | None = None,
) -> Path:
    """Write a finished run's results to ``out`` (atomically); ``command`` is the command
    recorded as having made them (by default this process's command line)."""
    out = Path(out)
    check_out_dir(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = provenance(model, seed, model.week, command)
    frames = model.outputs.frames()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, frame in frames.items():
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"coprod_sim": json.dumps(meta).encode()}
            )
            pq.write_table(table, staging / f"{name}.parquet")
        (staging / "scenario.toml").write_text(model.parameters.to_toml(), encoding="utf-8")
        save_outcomes_figure(
            staging / "outcomes.png",
            frames["collaborative"],
            frames["groups"],
            f"{model.parameters.name} · seed {seed} · {model.week} weeks · "
            f"{len(model.sites)} sites · {model.patients.n:,} patients",
            model.parameters.support_weeks,
        )
        (staging / "run.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        # mkdtemp makes the folder private (0700); results are for sharing, as umask allows.
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        _swap_into_place(staging, out)
    except BaseException:  # Ctrl-C, SIGTERM (as KeyboardInterrupt), a full disk
        with _signals_held():  # a second Ctrl-C must not leave the staging folder behind
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM (delivered when the block ends) while a folder is tidied."""
    held = (signal.SIGINT, signal.SIGTERM)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _swap_into_place(staging: Path, out: Path) -> None:
    """Move the finished folder to ``out``, replacing earlier results; on failure the
    earlier results are put back."""
    if not out.exists():
        staging.rename(out)
        return
    with _signals_held():  # two renames and a removal: never stopped half-way
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        out.rename(trash / out.name)
        try:
            staging.rename(out)
        except BaseException:
            (trash / out.name).rename(out)
            shutil.rmtree(trash, ignore_errors=True)
            raise
        shutil.rmtree(trash)
