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

Every part has the manifest's column types for the identifiers and factors (a
factor of 0, 1 and 0.5 is a double in every part, not an integer in some), so
DuckDB and pyarrow read the parts as one table.

What keeps the data whole:

* **Flushes.** A flush writes one part in each of runs/, series/ and errors/ that it has
  rows for, all with one name (``part-NNNNNN.parquet``), and each part's metadata declares
  how many rows the flush wrote to each folder and the part's own columns. A flush counts
  only when every part it declares is in place, readable, passes its page checksums and
  is as declared. On opening a folder to resume, leftover ``*.tmp`` files (a writer killed
  mid-write) are deleted, and a flush that does not count is moved whole to
  ``quarantine/``, so its runs are run again, never counted twice nor kept in part.
  Reading (:func:`read_dataset`) leaves out a flush not all in place, as a resume would,
  and refuses a damaged part, naming it. (Folders written before flushes were declared
  follow the older rule: a runs part marks its runs done, and a flush with a series part
  but no runs part is set aside.)
* **Checksums.** Every Parquet file is written with page checksums (CRC-32) and read with
  them verified; a checksum failure counts as unreadable. A part written before checksums
  has none to check, and reads as before.
* **The record.** On resuming, experiment.json is checked against the spec and against
  the record in the manifest; on reading (:func:`read_record`), against the record and the
  manifest. An edit is refused (:class:`FolderError`, naming the field). On resuming, a
  missing or damaged ``manifest.parquet`` (or ``design.parquet``) is rebuilt from the
  spec; reading refuses it, saying to run the sweep again, which rebuilds it.
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
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from coprod_sim import provenance
from coprod_sim.errors import FolderError, Problem

EXPERIMENT_FILE = "experiment.json"
SPEC_FILE = "spec.toml"
MANIFEST_FILE = "manifest.parquet"
DESIGN_FILE = "design.parquet"
LOCK_FILE = ".lock"
SCENARIOS = "scenarios"
RUNS, SERIES, ERRORS, QUARANTINE = "runs", "series", "errors", "quarantine"
#: The folders of a flush's parts.
PARTS = (RUNS, SERIES, ERRORS)
_OWN_FILES = {EXPERIMENT_FILE, SPEC_FILE, MANIFEST_FILE, DESIGN_FILE, LOCK_FILE, SCENARIOS}
#: Libraries whose versions a results folder records beside the package's own.
LIBRARIES = provenance.LIBRARIES
#: The header's ``store_format``: 2, parts declare their flush and the manifest keeps the
#: record. A folder without it was written before, and is read by the older rules.
STORE_FORMAT = 2
_PART_KEY = b"coprod_sim"
_RECORD_KEY = b"coprod_sim.experiment"
_RECORD_SHA_KEY = b"coprod_sim.experiment_sha256"
#: What reading a damaged Parquet file raises (not a missing file or a refused permission,
#: which are not damage, and propagate).
_DAMAGE = (pa.ArrowException, OSError, ValueError, MemoryError, EOFError)
#: Header fields that decide the data, checked against the spec on resuming.
_DECIDING = (
    "name", "fingerprint", "version", "design", "factors", "scenarios", "points",
    "replications", "runs", "problem", "spec",
)  # fmt: skip
#: Header fields that reading a folder needs, with their types.
_SHAPE: dict[tuple[str, ...], type] = {
    ("name",): str,
    ("fingerprint",): str,
    ("version",): str,
    ("created",): str,
    ("design",): str,
    ("factors",): list,
    ("scenarios",): list,
    ("points",): int,
    ("replications",): int,
    ("runs",): int,
    ("spec",): dict,
    ("spec", "steps"): int,
    ("spec", "seed"): int,
    ("spec", "factors"): dict,
    ("spec", "design"): dict,
    ("spec", "outcomes"): dict,
    ("spec", "outcomes", "final"): list,
    ("spec", "outcomes", "series"): list,
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


class _UnreadableError(Exception):
    """A Parquet file that cannot be trusted; the message says why."""


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
                    table = rows_to_table(rows, self.types)
                    meta = {**self._provenance(), "flush": flush, "columns": _columns(table)}
                    table = table.replace_schema_metadata({_PART_KEY: json.dumps(meta).encode()})
                    _write_table(self.path / sub / name, table)
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
        return 1 + max((_part_number(p) for sub in PARTS for p in self._parts(sub)), default=0)

    def _tidy(self) -> None:
        """Drop partial files and set aside, whole, every flush that does not count."""
        for where in (self.path, self.path / SCENARIOS, *(self.path / sub for sub in PARTS)):
            for tmp in where.glob("*.tmp"):
                tmp.unlink()
                if where != self.path and where.name != SCENARIOS:
                    self.housekeeping.partial_files.append(str(tmp.relative_to(self.path)))
        names = sorted({p.name for sub in PARTS for p in self._parts(sub)})
        for name in names:
            why = self._flush_problem(name)
            if why is None:
                continue
            for sub in PARTS:
                if (self.path / sub / name).exists():
                    self._quarantine(self.path / sub / name, why)
        self._next_part = self._first_free_number()

    def _flush_problem(self, name: str) -> str | None:
        """Why the flush of parts named ``name`` does not count, or None if it does."""
        present = [sub for sub in PARTS if (self.path / sub / name).exists()]
        flushes = []
        for sub in present:
            try:
                _, flush = _read_part(self.path / sub / name, self.header, keep=False)
            except _UnreadableError as why:
                return f"{sub}/{name} {why}"
            flushes.append(flush)
        if any(f is not None for f in flushes):
            if any(f != flushes[0] for f in flushes):
                return "its parts disagree about what the flush wrote"
            declared = flushes[0]
            missing = [sub for sub in PARTS if declared.get(sub) and sub not in present]
            if missing:
                return f"its {' and '.join(missing)} part was never written (stopped mid-flush)"
            if any(not declared.get(sub) for sub in present):
                return "it holds a part its flush did not write"
            return None
        if SERIES in present and RUNS not in present:  # a part of an older folder
            return "a series part without its runs part (stopped mid-flush)"
        return None

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
    _write_table(path / MANIFEST_FILE, _with_record(manifest, json.loads(text)))
    if design is not None:
        _write_table(path / DESIGN_FILE, design)
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
    source = str(path / EXPERIMENT_FILE)
    header = _read_header_file(path)
    problems = _misshapen(header) or _spec_differences(header, fresh)
    if problems:
        raise FolderError(problems, source)
    why = _table_problem(path / MANIFEST_FILE, manifest)
    if why is None:
        record, damage = _record_of(pq.read_schema(path / MANIFEST_FILE))
        why = damage
        if record is not None and (edits := _edits(header, record)):
            raise FolderError(edits, source)
        if record is None and damage is None and header.get("store_format", 0) >= STORE_FORMAT:
            why = "it has lost its record of experiment.json"
    if why is not None:  # the header matches the spec: the record is rebuilt from it
        _write_table(path / MANIFEST_FILE, _with_record(manifest, header))
        rebuilt.append(f"{MANIFEST_FILE} ({why})")
    if design is not None and (why := _table_problem(path / DESIGN_FILE, design)):
        _write_table(path / DESIGN_FILE, design)
        rebuilt.append(f"{DESIGN_FILE} ({why})")
    return header


def _table_problem(path: Path, wanted: pa.Table) -> str | None:
    """Why the file at ``path`` is not the table ``wanted`` (missing, damaged, other rows)."""
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except FileNotFoundError:
        return "it is missing"
    except PermissionError:
        raise
    except _DAMAGE as error:
        return f"it cannot be read: {_brief(error)}"
    if not table.equals(wanted):
        return "it does not hold what the spec plans"
    return None


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


# -- the folder's record -------------------------------------------------------------------
def read_record(path: Path) -> dict[str, Any]:
    """The header (experiment.json) of the results folder ``path``, checked.

    It must be whole, match the record kept in ``manifest.parquet`` field for field, and
    agree with the manifest's planned runs. Raises :class:`FolderError` naming the field
    otherwise; a missing or damaged manifest is refused too, with the advice to run the
    sweep command again, which rebuilds it (reading never writes).
    """
    source = str(path / EXPERIMENT_FILE)
    header = _read_header_file(path)
    if problems := _misshapen(header):
        raise FolderError(problems, source)
    manifest = path / MANIFEST_FILE
    try:
        with pq.ParquetFile(manifest, page_checksum_verification=True) as file:
            schema, planned = file.schema_arrow, file.metadata.num_rows
    except FileNotFoundError:
        raise _rebuild_first(path, header, "is missing") from None
    except PermissionError as error:
        raise _cannot_read(path, error) from None
    except _DAMAGE as error:
        raise _rebuild_first(path, header, f"cannot be read ({_brief(error)})") from None
    record, damage = _record_of(schema)
    if damage:
        raise _rebuild_first(path, header, damage)
    if record is not None and (edits := _edits(header, record)):
        raise FolderError(edits, source)
    if record is None and header.get("store_format", 0) >= STORE_FORMAT:
        raise _rebuild_first(path, header, "has lost its record of experiment.json")
    if problems := _consistency(header, planned, schema.names):
        raise FolderError(problems, source)
    return header


def read_folder_table(path: Path, name: str = MANIFEST_FILE) -> pa.Table:
    """The manifest (or the design, ``name``) of the results folder ``path``, its page
    checksums verified; :class:`FolderError` (run the sweep again) if missing or damaged."""
    try:
        return pq.read_table(path / name, page_checksum_verification=True)
    except FileNotFoundError:
        problem = "is missing"
    except PermissionError as error:
        raise _cannot_read(path, error) from None
    except _DAMAGE as error:
        problem = f"cannot be read ({_brief(error)})"
    raise _rebuild_first(path, None, problem, name)


def _read_header_file(path: Path) -> dict[str, Any]:
    file = path / EXPERIMENT_FILE
    if not file.is_file():
        raise FolderError(
            [Problem("DIR", str(path), f"is not a sweep's results folder (no {EXPERIMENT_FILE})")]
        )
    try:
        header = json.loads(file.read_text(encoding="utf-8"))
    except PermissionError as error:
        raise _cannot_read(path, error) from None
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError
        raise FolderError(
            [Problem(EXPERIMENT_FILE, str(file), f"cannot be read ({_brief(error)})")]
        ) from None
    if not isinstance(header, dict):
        raise FolderError(
            [Problem(EXPERIMENT_FILE, str(file), "must hold a JSON object (it was changed)")]
        )
    return header


def _misshapen(header: dict[str, Any]) -> list[Problem]:
    """The fields a reader needs that are missing or of the wrong type."""
    problems = []
    for keys, kind in _SHAPE.items():
        value: Any = header
        for key in keys[:-1]:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            continue  # its parent is missing: reported once, as the parent
        name = ".".join(keys)
        if keys[-1] not in value:
            problems.append(Problem(name, None, "is missing (experiment.json was changed)"))
        elif not isinstance(value[keys[-1]], kind):
            what = {str: "text", int: "a whole number", list: "a list", dict: "a table"}[kind]
            problems.append(
                Problem(name, value[keys[-1]], f"must be {what} (experiment.json was changed)")
            )
    return problems


def _spec_differences(header: dict[str, Any], fresh: dict[str, Any]) -> list[Problem]:
    """Fields of ``header`` that decide the data and differ from what the spec gives now."""
    now = json.loads(json.dumps(fresh, default=str))  # as experiment.json would hold it
    problems = []
    for key in _DECIDING:
        old, new = header.get(key), now.get(key)
        if key == "spec" and isinstance(old, dict) and isinstance(new, dict):
            old, new = (
                _without(old, "description", "retries"),
                _without(new, "description", "retries"),
            )
        for name, was, wanted in _diff(old, new, key):
            problems.append(
                Problem(
                    name,
                    was,
                    f"does not match the spec, which gives {_brief(wanted)}: "
                    f"{EXPERIMENT_FILE} was changed after the sweep wrote it; set it back",
                )
            )
    return problems


def _edits(header: dict[str, Any], record: dict[str, Any]) -> list[Problem]:
    """Fields of ``header`` that differ from the record the manifest keeps."""
    return [
        Problem(
            name,
            now,
            f"was changed after the sweep wrote it: it was {_brief(was)} (the record in "
            f"{MANIFEST_FILE}); set it back",
        )
        for name, now, was in _diff(header, record)
    ][:10]


def _consistency(header: dict[str, Any], planned: int, columns: list[str]) -> list[Problem]:
    """Header fields that disagree with the manifest (for folders without a record)."""
    problems = []
    if header["runs"] != planned:
        problems.append(
            Problem(
                "runs", header["runs"], f"does not match {MANIFEST_FILE}, which plans {planned}"
            )
        )
    elif header["runs"] != header["points"] * header["replications"]:
        problems.append(
            Problem(
                "runs",
                header["runs"],
                f"is not points × replications ({header['points']} × {header['replications']})",
            )
        )
    if header["factors"] != list(header["spec"]["factors"]):
        problems.append(
            Problem("factors", header["factors"], f"must be {list(header['spec']['factors'])}")
        )
    elif missing := [f for f in header["factors"] if f not in columns]:
        problems.append(
            Problem("factors", header["factors"], f"{missing} are not columns of {MANIFEST_FILE}")
        )
    return problems


def _with_record(manifest: pa.Table, header: dict[str, Any]) -> pa.Table:
    """The manifest with ``header`` kept in its metadata (canonical JSON and its SHA-256)."""
    text = _canonical(header)
    meta = {
        **(manifest.schema.metadata or {}),
        _RECORD_KEY: text.encode(),
        _RECORD_SHA_KEY: provenance.sha256(text).encode(),
    }
    return manifest.replace_schema_metadata(meta)


def _record_of(schema: pa.Schema) -> tuple[dict[str, Any] | None, str | None]:
    """The record a manifest's schema keeps (None for a folder written before records), and
    why it is damaged (None if it is not)."""
    meta = schema.metadata or {}
    text, sha = meta.get(_RECORD_KEY), meta.get(_RECORD_SHA_KEY)
    if text is None and sha is None:
        return None, None
    damaged = "has a damaged record of experiment.json"
    if text is None or sha is None or hashlib.sha256(text).hexdigest().encode() != sha:
        return None, damaged
    try:
        record = json.loads(text)
    except ValueError:
        return None, damaged
    return (record, None) if isinstance(record, dict) else (None, damaged)


def _rebuild_first(
    path: Path, header: dict[str, Any] | None, problem: str, name: str = MANIFEST_FILE
) -> FolderError:
    command = (header or {}).get("command") or f"coprod sweep SPEC --out {path}"
    return FolderError(
        [
            Problem(
                name,
                str(path / name),
                f"{problem}; run the sweep command again ({command}): it rebuilds it from the spec",
            )
        ]
    )


def _cannot_read(path: Path, error: OSError) -> FolderError:
    return FolderError([Problem("DIR", str(path), f"cannot be read ({_brief(error)})")])


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _diff(a: Any, b: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Where two JSON values differ: (dotted path, value in ``a``, value in ``b``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _diff(a.get(key), b.get(key), name)
    elif a != b or type(a) is not type(b):
        yield prefix or "(record)", a, b


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def _brief(value: Any, limit: int = 160) -> str:
    text = str(value) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def header_for(experiment: Any, command: str | None = None) -> dict[str, Any]:
    """The provenance header of a new results folder: :func:`coprod_sim.provenance.common`
    and what the experiment is."""
    spec = experiment.spec
    return {
        "name": spec.name,
        "description": spec.description,
        "fingerprint": experiment.fingerprint(),
        **provenance.common(command, LIBRARIES),
        "source": experiment.source,
        "design": spec.design.kind,
        "factors": list(spec.factors),
        "scenarios": list(experiment.bases),
        "points": len(experiment.points),
        "replications": spec.replications,
        "runs": experiment.n_runs,
        "problem": experiment.problem,
        "spec": spec.model_dump(mode="json"),
        "store_format": STORE_FORMAT,
    }


def rows_to_table(
    rows: list[dict[str, Any]], types: dict[str, pa.DataType] | None = None
) -> pa.Table:
    """A table from row dicts, with the columns of the first row and :func:`row_schema`'s
    types; a row without a column holds null there."""
    schema = row_schema(rows, types)
    text = [f.name for f in schema if f.type == pa.string()]
    if text:  # a text column stores any other value as its str(); None stays null
        rows = [{**row, **{k: _text(row.get(k)) for k in text}} for row in rows]
    return pa.Table.from_pylist(rows, schema=schema)


def row_schema(
    rows: list[dict[str, Any]], types: dict[str, pa.DataType] | None = None
) -> pa.Schema:
    """The schema of the first row's columns: the type ``types`` names (the manifest's, for
    identifiers and factors), or else the one pyarrow infers from the column's values; a
    column of mixed types (e.g. "none" and 10) is text."""
    fields = []
    for name in rows[0]:
        wanted = (types or {}).get(name)
        if wanted is None:
            try:  # the array itself is built again by from_pylist; this finds its type
                wanted = pa.array([row.get(name) for row in rows]).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                wanted = pa.string()
        fields.append(pa.field(name, wanted))
    return pa.schema(fields)


def _text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def scenario_file(folder: Path, label: str) -> Path:
    """Where a results folder keeps the base scenario labelled ``label``: its label as a safe
    file name (``A:careqic`` -> ``scenarios/A_careqic.toml``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "scenario"
    return folder / SCENARIOS / f"{name}.toml"


# -- parts ---------------------------------------------------------------------------------
def read_dataset(path: Path, sub: str, header: dict[str, Any] | None = None) -> pa.Table | None:
    """All counted parts of ``sub`` (runs, series or errors) as one table, or None.

    ``header`` is the folder's, as :func:`read_record` gives it (read here if not given).
    The parts are named one by one (a ``*.tmp`` being written is never read), each read
    whole with its page checksums verified, and a part whose flush is not all in place
    (a sweep stopped, or still writing) is left out, as the sweep would leave it out. Their
    schemas are unified, so a column that some parts lack is null there and one whose type
    differs between parts (written by an earlier version) takes the wider type.

    A part that cannot be read, fails a checksum or is not as its flush wrote it is not
    skipped: :class:`FolderError` names it and says to run the sweep again, which sets its
    flush aside and runs those runs again.
    """
    if header is None:
        header = read_record(path)
    tables = []
    for part in sorted((path / sub).glob("part-*.parquet")):
        try:
            table, flush = _read_part(part, header, keep=True)
        except FileNotFoundError:
            raise FolderError(
                [
                    Problem(
                        f"{sub}/{part.name}",
                        str(part),
                        "went while being read (a sweep resuming on the folder sets parts "
                        "aside); read it again once the sweep has started",
                    )
                ]
            ) from None
        except PermissionError as error:
            raise _cannot_read(path, error) from None
        except _UnreadableError as why:
            command = header.get("command") or f"coprod sweep SPEC --out {path}"
            raise FolderError(
                [
                    Problem(
                        f"{sub}/{part.name}",
                        str(part),
                        f"{why}; run the sweep command again ({command}): it sets this part's "
                        "flush aside and runs its runs again",
                    )
                ]
            ) from None
        if _in_place(path, part, flush):
            tables.append(table)
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def _in_place(path: Path, part: Path, flush: dict[str, int] | None) -> bool:
    """Whether every part of ``part``'s flush is there (in older folders, which declare no
    flush: unless it has a series part without its runs part)."""
    if flush is None:
        return (path / RUNS / part.name).exists() or not (path / SERIES / part.name).exists()
    return all((path / sub / part.name).exists() for sub in PARTS if flush.get(sub))


def _read_part(
    path: Path, header: dict[str, Any] | None, *, keep: bool
) -> tuple[pa.Table | None, dict[str, int] | None]:
    """A part, read whole and checked (the table, if ``keep``), and the flush it declares
    (None for a part written before flushes were declared); raises :class:`_UnreadableError`.

    A bit flip in a page fails its checksum; one in the footer (which no checksum covers)
    fails the decoding, or changes what the part declares, its row count or its columns.
    """
    table = None
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as file:
            schema = file.schema_arrow
            if keep:
                table = file.read()
                rows = table.num_rows
            else:  # a row group at a time: memory stays flat
                rows = sum(file.read_row_group(i).num_rows for i in range(file.num_row_groups))
    except (FileNotFoundError, PermissionError):
        raise
    except _DAMAGE as error:
        raise _UnreadableError(f"cannot be read ({_brief(error)})") from None
    return table, _declared_flush(path, schema, rows, header)


def _declared_flush(
    path: Path, schema: pa.Schema, rows: int, header: dict[str, Any] | None
) -> dict[str, int] | None:
    """The flush a part declares, once the part is checked against it and ``header``."""
    raw = (schema.metadata or {}).get(_PART_KEY)
    declares = (header or {}).get("store_format", 0) >= STORE_FORMAT
    try:
        meta = json.loads(raw) if raw is not None else {}
    except ValueError:
        raise _UnreadableError("has a damaged record of its flush") from None
    if not isinstance(meta, dict):
        raise _UnreadableError("has a damaged record of its flush")
    for key in ("name", "fingerprint", "version"):
        if header is not None and key in meta and meta[key] != header.get(key):
            raise _UnreadableError(f"was written for another experiment (its {key} differs)")
    flush = meta.get("flush")
    if flush is None:
        if declares:
            raise _UnreadableError("has lost the record of its flush")
        return None
    if not (
        isinstance(flush, dict)
        and set(flush) == set(PARTS)
        and all(isinstance(n, int) for n in flush.values())
    ):
        raise _UnreadableError("has a damaged record of its flush")
    if rows != flush[path.parent.name]:
        raise _UnreadableError(f"holds {rows} rows where its flush wrote {flush[path.parent.name]}")
    if meta.get("columns") != _columns(schema):
        raise _UnreadableError("does not hold the columns its flush wrote")
    return flush


def _columns(table: pa.Table | pa.Schema) -> list[list[str]]:
    schema = table.schema if isinstance(table, pa.Table) else table
    return [[f.name, str(f.type)] for f in schema]


def _part_number(path: Path) -> int:
    try:
        return int(path.stem.removeprefix("part-"))
    except ValueError:
        return 0


def _write_table(path: Path, table: pa.Table) -> None:
    """Write ``table`` with page checksums to ``*.tmp``, on disk, then rename it into place;
    on any failure the ``*.tmp`` is removed and the error raised."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        pq.write_table(table, tmp, write_page_checksum=True)
        with open(tmp, "rb") as handle:  # on disk before the rename makes it count
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
