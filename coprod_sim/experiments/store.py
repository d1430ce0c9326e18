"""A sweep's results folder: a header, a manifest of planned runs and Parquet parts.

Layout::

    DIR/experiment.json       what the experiment is (spec, fingerprint, provenance); written
                              last when the folder is created, so its presence marks a folder
                              that belongs to a sweep
    DIR/spec.toml             the resolved spec (with command-line replacements)
    DIR/scenarios/*.toml      each base scenario, fully resolved (``coprod run --scenario``
                              takes it), so the folder holds everything its runs started from
    DIR/manifest.parquet      every planned run: run_id, scenario_id, scenario, replication,
                              seed and the factor values; its metadata keeps a copy of
                              experiment.json (the record) and that copy's SHA-256
    DIR/design.parquet        the raw SALib sample (sampling designs), for the analysis
    DIR/runs/part-*.parquet   one row per completed run: identifiers, factors, final outcomes
    DIR/series/part-*.parquet one row per completed run and kept week
    DIR/errors/part-*.parquet one row per failed attempt, with its error and traceback
    DIR/quarantine/           flushes that could not be counted, kept for inspection, with
                              the reason for each in ``reasons.txt``

What keeps the data whole:

* **Flushes and checksums**: when a flush of parts counts, and how a damaged part is
  found, are in :mod:`coprod_sim.experiments.parts`.
* **The record**: how an edit to experiment.json is found, and a damaged manifest
  rebuilt, is in :mod:`coprod_sim.experiments.record`.
* **The environment.** A folder that cannot be created or resumed (a read-only file
  system, a full disk, no permission) is a :class:`FolderError` naming ``--out``, and a
  new folder that could not be completed is removed again. A flush that cannot be
  written removes what it wrote and raises ``OSError``; the folder stays resumable.

A lock file (``.lock``, held through :mod:`filelock`) keeps two sweeps from writing one
folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from coprod_sim.errors import FolderError, Problem
from coprod_sim.experiments.parts import (
    ERRORS,
    PARTS,
    RUNS,
    SERIES,
    flush_problem,
    part_number,
    rows_to_table,
    table_problem,
    with_flush,
    write_table,
)
from coprod_sim.experiments.record import (
    EXPERIMENT_FILE,
    MANIFEST_FILE,
    record_problem,
    resumed_header,
    with_record,
)

SPEC_FILE = "spec.toml"
DESIGN_FILE = "design.parquet"
LOCK_FILE = ".lock"
SCENARIOS = "scenarios"
QUARANTINE = "quarantine"
#: The posterior draw of each replication, in a folder of a sweep with ``posterior``.
DRAWS_FILE = "draws.parquet"
_OWN_FILES = {
    EXPERIMENT_FILE,
    SPEC_FILE,
    MANIFEST_FILE,
    DESIGN_FILE,
    LOCK_FILE,
    SCENARIOS,
    DRAWS_FILE,
}


@dataclass
class Housekeeping:
    """What opening a folder found and cleaned up."""

    partial_files: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    #: Why each part in ``quarantined`` was set aside.
    reasons: dict[str, str] = field(default_factory=dict)
    #: Files rebuilt from the spec, each with why (``manifest.parquet (it is missing)``).
    rebuilt: list[str] = field(default_factory=list)


class ResultsFolder:
    """An open, locked results folder. Use :meth:`open` and close it when done."""

    def __init__(self, path: Path, header: dict[str, Any], lock: FileLock) -> None:
        self.path = path
        self.header = header
        self._lock = lock
        # Identifier and factor columns keep the manifest's types in every part.
        schema = pq.read_schema(path / MANIFEST_FILE)
        self.types = {name: schema.field(name).type for name in schema.names}
        self.housekeeping = Housekeeping()
        self._next_part = self._first_free_number()

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        header: dict[str, Any],
        manifest: pa.Table,
        spec_toml: str,
        design: pa.Table | None = None,
        scenarios: dict[str, str] | None = None,
    ) -> ResultsFolder:
        """Create ``path`` for a new experiment, or reopen it to resume the same one.

        ``header``, ``manifest`` and ``design`` are the ones the spec gives now;
        ``scenarios`` maps each base scenario's label to its resolved TOML. Reopening checks
        the folder's experiment.json against them and the manifest's record, rebuilds a
        missing or damaged manifest or design, and tidies the parts (module docstring).

        Raises :class:`FolderError` if the folder holds something else, its experiment.json
        was edited, another sweep is writing to it, or it cannot be written (a new folder is
        then removed again).
        """
        check_folder(path, header)
        new = _first_missing(path)  # what this call creates, to remove if it cannot finish
        creating = not (path / EXPERIMENT_FILE).exists()
        lock = FileLock(path / LOCK_FILE, blocking=False, thread_local=False)
        try:
            path.mkdir(parents=True, exist_ok=True)
            # An OS lock (flock on POSIX, msvcrt on Windows), which the system releases when
            # the process dies: a killed sweep never leaves its folder locked.
            lock.acquire()
        except Timeout:  # an OSError too: first
            raise FolderError(
                [Problem("--out", str(path), "another sweep is writing to this folder now")]
            ) from None
        except OSError as error:
            _remove_quietly(new)
            raise _cannot_write(path, error, created=creating) from None
        try:
            rebuilt: list[str] = []
            if creating:
                _create(path, header, manifest, spec_toml, design, scenarios)
            else:
                header = _reopen(path, header, manifest, design, rebuilt)
            for sub in PARTS:
                (path / sub).mkdir(exist_ok=True)
            folder = cls(path, header, lock)
            folder.housekeeping.rebuilt = rebuilt
            folder._tidy()
        except OSError as error:
            lock.release()
            if creating:
                _undo_create(path, new)
            raise _cannot_write(path, error, created=creating) from None
        except BaseException:
            lock.release()
            raise
        return folder

    def close(self) -> None:
        """Release the folder's lock (closing twice is harmless)."""
        self._lock.release()

    def __enter__(self) -> ResultsFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------
    def completed(self) -> set[str]:
        """Run ids with a row in a counted runs part (after :meth:`open`'s tidying, all are)."""
        done: set[str] = set()
        for part in self._parts(RUNS):
            table = pq.read_table(part, columns=["run_id"], page_checksum_verification=True)
            done.update(table.column("run_id").to_pylist())
        return done

    # -- writing ---------------------------------------------------------------------------
    def write(
        self,
        runs: list[dict[str, Any]],
        series: list[dict[str, Any]],
        errors: list[dict[str, Any]],
    ) -> None:
        """Write one flush: a part in each folder it has rows for, each declaring the flush.

        If a part cannot be written (a full disk), the parts already written are removed
        and the ``OSError`` raised: the flush's runs are missing, and a resume runs them.
        """
        name = f"part-{self._next_part:06d}.parquet"
        self._next_part += 1  # never reused, even if this flush fails
        flush = {RUNS: len(runs), SERIES: len(series), ERRORS: len(errors)}
        written: list[Path] = []
        try:
            for sub, rows in ((SERIES, series), (RUNS, runs), (ERRORS, errors)):
                if rows:
                    table = with_flush(rows_to_table(rows, self.types), self._provenance(), flush)
                    write_table(self.path / sub / name, table)
                    written.append(self.path / sub / name)
        except BaseException:
            for part in reversed(written):  # runs first: its runs stop counting at once
                with contextlib.suppress(OSError):
                    part.unlink()
            raise

    def _provenance(self) -> dict[str, Any]:
        keys = ("name", "fingerprint", "version")
        return {k: self.header.get(k) for k in keys}

    # -- housekeeping ----------------------------------------------------------------------
    def _parts(self, sub: str) -> list[Path]:
        return sorted((self.path / sub).glob("part-*.parquet"))

    def _first_free_number(self) -> int:
        return 1 + max((part_number(p) for sub in PARTS for p in self._parts(sub)), default=0)

    def _tidy(self) -> None:
        """Drop partial files and set aside, whole, every flush that does not count."""
        for where in (self.path, self.path / SCENARIOS, *(self.path / sub for sub in PARTS)):
            for tmp in where.glob("*.tmp"):
                tmp.unlink()
                if where != self.path and where.name != SCENARIOS:
                    self.housekeeping.partial_files.append(str(tmp.relative_to(self.path)))
        names = sorted({p.name for sub in PARTS for p in self._parts(sub)})
        for name in names:
            why = flush_problem(self.path, name, self.header)
            if why is None:
                continue
            for sub in PARTS:
                if (self.path / sub / name).exists():
                    self._quarantine(self.path / sub / name, why)
        self._next_part = self._first_free_number()

    def _quarantine(self, part: Path, why: str) -> None:
        target = self.path / QUARANTINE / part.parent.name
        target.mkdir(parents=True, exist_ok=True)
        destination = target / part.name
        n = 1
        while destination.exists():  # set aside before, on an earlier resume: keep both
            destination = target / f"{part.stem}.{n}{part.suffix}"
            n += 1
        shutil.move(part, destination)
        name = str(part.relative_to(self.path))
        self.housekeeping.quarantined.append(name)
        self.housekeeping.reasons[name] = why
        with open(self.path / QUARANTINE / "reasons.txt", "a", encoding="utf-8") as log:
            moment = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            log.write(f"{moment} {name} -> {destination.relative_to(self.path)}: {why}\n")


# -- creating and reopening ----------------------------------------------------------------
def check_folder(path: Path, header: dict[str, Any]) -> None:
    """Refuse a folder that holds another experiment, or files that are not a sweep's."""
    if path.exists() and not path.is_dir():
        raise FolderError([Problem("--out", str(path), "is a file; give a folder")])
    if not path.exists():
        return
    existing = path / EXPERIMENT_FILE
    if existing.exists():
        try:
            old = json.loads(existing.read_text())
        except (OSError, ValueError) as error:
            raise FolderError(
                [Problem("--out", str(path), f"has an unreadable {EXPERIMENT_FILE}: {error}")]
            ) from None
        if not isinstance(old, dict):
            raise FolderError(
                [Problem("--out", str(path), f"has an unreadable {EXPERIMENT_FILE}: not an object")]
            )
        if old.get("fingerprint") != header["fingerprint"]:
            changed = _differences(old, header)
            raise FolderError(
                [
                    Problem(
                        "--out",
                        str(path),
                        f"holds a different experiment ({old.get('name')!r}; differs in "
                        f"{changed}); choose another folder, or re-run its own spec to resume",
                    )
                ]
            )
        return
    try:
        names = [p.name for p in path.iterdir()]
    except OSError as error:
        raise FolderError([Problem("--out", str(path), f"cannot be read ({error})")]) from None
    others = [name for name in names if name not in _OWN_FILES and not name.endswith(".tmp")]
    if others:
        raise FolderError(
            [
                Problem(
                    "--out",
                    str(path),
                    f"holds other files ({', '.join(sorted(others)[:5])}); give a new or empty "
                    "folder",
                )
            ]
        )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    spec_old, spec_new = old.get("spec", {}), new.get("spec", {})
    if not isinstance(spec_old, dict):
        spec_old = {}
    keys = sorted(
        k
        for k in set(spec_old) | set(spec_new)
        if spec_old.get(k) != spec_new.get(k) and k not in ("description", "retries")
    )
    if old.get("version") != new.get("version"):
        keys.append(f"coprod_sim version {old.get('version')} -> {new.get('version')}")
    return ", ".join(keys) or "its base scenarios"


def _create(
    path: Path,
    header: dict[str, Any],
    manifest: pa.Table,
    spec_toml: str,
    design: pa.Table | None,
    scenarios: dict[str, str] | None,
) -> None:
    """Write a new folder's files, experiment.json last (it marks the folder complete)."""
    text = json.dumps(header, indent=2, default=str)
    _write_text(path / SPEC_FILE, spec_toml)
    write_table(path / MANIFEST_FILE, with_record(manifest, json.loads(text)))
    if design is not None:
        write_table(path / DESIGN_FILE, design)
    for label, toml in (scenarios or {}).items():
        (path / SCENARIOS).mkdir(exist_ok=True)
        _write_text(scenario_file(path, label), toml)
    _write_text(path / EXPERIMENT_FILE, text)


def _reopen(
    path: Path,
    fresh: dict[str, Any],
    manifest: pa.Table,
    design: pa.Table | None,
    rebuilt: list[str],
) -> dict[str, Any]:
    """The header of a folder being resumed, once checked against the spec (``fresh``) and
    the manifest's record; a manifest or design that is missing, damaged or not the spec's
    is rebuilt (and named in ``rebuilt``)."""
    header = resumed_header(path, fresh)
    why = table_problem(path / MANIFEST_FILE, manifest)
    if why is None:
        why = record_problem(path, header)
    if why is not None:  # the header matches the spec: the record is rebuilt from it
        write_table(path / MANIFEST_FILE, with_record(manifest, header))
        rebuilt.append(f"{MANIFEST_FILE} ({why})")
    if design is not None and (why := table_problem(path / DESIGN_FILE, design)):
        write_table(path / DESIGN_FILE, design)
        rebuilt.append(f"{DESIGN_FILE} ({why})")
    return header


def scenario_file(folder: Path, label: str) -> Path:
    """Where a results folder keeps the base scenario labelled ``label``: its label as a safe
    file name (``A:careqic`` -> ``scenarios/A_careqic.toml``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "scenario"
    return folder / SCENARIOS / f"{name}.toml"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` (itself included) that does not exist yet."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing = folder
    return missing


def _undo_create(path: Path, new: Path | None) -> None:
    """Remove what creating ``path`` wrote: all of it if this call made the folder, else its
    own files (never a file the folder held before; check_folder allowed only ours)."""
    if new is not None:
        _remove_quietly(new)
        return
    for name in (EXPERIMENT_FILE, SPEC_FILE, MANIFEST_FILE, DESIGN_FILE):
        with contextlib.suppress(OSError):
            (path / name).unlink(missing_ok=True)
    for tmp in path.glob("*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
    _remove_quietly(path / SCENARIOS)
    for sub in PARTS:
        with contextlib.suppress(OSError):
            (path / sub).rmdir()  # only if empty


def _remove_quietly(path: Path | None) -> None:
    if path is not None and path.exists():
        shutil.rmtree(path, ignore_errors=True)


# -- the environment -----------------------------------------------------------------------
def os_reason(error: OSError) -> str:
    """Why the file system refused, in words a user acts on, and the file it refused."""
    reasons = {
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }
    reason = reasons.get(error.errno) or error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


def _cannot_write(path: Path, error: OSError, *, created: bool) -> FolderError:
    """The folder error for a file system that refused a write (or a read) under ``path``."""
    reason = os_reason(error)
    if created:
        then = "nothing was kept; choose a folder you can write to, or free some space"
    else:
        then = "no finished run was lost; resume once the folder can be written"
    return FolderError([Problem("--out", str(path), f"cannot be written ({reason}); {then}")])
