"""A sweep's results folder: a header, a manifest of planned runs and Parquet parts.

Layout::

    DIR/experiment.json       what the experiment is (spec, fingerprint, provenance); written
                              last when the folder is created, so its presence marks a folder
                              that belongs to a sweep
    DIR/spec.toml             the resolved spec (with command-line replacements)
    DIR/scenarios/*.toml      each base scenario, fully resolved (``coprod run --scenario``
                              takes it), so the folder holds everything its runs started from
    DIR/manifest.parquet      every planned run: run_id, scenario_id, scenario, replication,
                              seed and the factor values
    DIR/design.parquet        the raw SALib sample (sampling designs), for the analysis
    DIR/runs/part-*.parquet   one row per completed run: identifiers, factors, final outcomes
    DIR/series/part-*.parquet one row per completed run and kept week
    DIR/errors/part-*.parquet one row per failed attempt, with its error and traceback
    DIR/quarantine/           parts that could not be read, kept for inspection

Every part has the manifest's column types for the identifiers and factors (a
factor of 0, 1 and 0.5 is a double in every part, not an integer in some), so
DuckDB and pyarrow read the parts as one table.

Parts are written to ``*.tmp`` and renamed into place, and a flush writes its
series part before its runs part, so a run counts as done only once its row is
in a complete runs part. On opening an existing folder, leftover ``*.tmp`` files
(a writer killed mid-write) are deleted, and unreadable parts and series parts
without their runs part are moved to ``quarantine/``: their runs are run again,
never counted twice. A lock file (``.lock``, held through :mod:`filelock`) keeps two
sweeps from writing one folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
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
_OWN_FILES = {EXPERIMENT_FILE, SPEC_FILE, MANIFEST_FILE, DESIGN_FILE, LOCK_FILE, SCENARIOS}
#: Libraries whose versions a results folder records beside the package's own.
LIBRARIES = provenance.LIBRARIES


@dataclass
class Housekeeping:
    """What opening a folder found and cleaned up."""

    partial_files: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


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
        self._next_part = 1 + max(
            (_part_number(p) for sub in (RUNS, SERIES, ERRORS) for p in self._parts(sub)),
            default=0,
        )

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

        ``scenarios`` maps each base scenario's label to its resolved TOML.

        Raises :class:`FolderError` if the folder holds something else, or another
        sweep is writing to it; nothing is written in that case.
        """
        check_folder(path, header)
        path.mkdir(parents=True, exist_ok=True)
        # An OS lock (flock on POSIX, msvcrt on Windows), which the system releases when the
        # process dies: a killed sweep never leaves its folder locked.
        lock = FileLock(path / LOCK_FILE, blocking=False, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise FolderError(
                [Problem("--out", str(path), "another sweep is writing to this folder now")]
            ) from None
        existing = path / EXPERIMENT_FILE
        if existing.exists():
            header = json.loads(existing.read_text())
        else:
            _write_text(path / SPEC_FILE, spec_toml)
            _write_table(path / MANIFEST_FILE, manifest)
            if design is not None:
                _write_table(path / DESIGN_FILE, design)
            for label, text in (scenarios or {}).items():
                (path / SCENARIOS).mkdir(exist_ok=True)
                _write_text(scenario_file(path, label), text)
            _write_text(path / EXPERIMENT_FILE, json.dumps(header, indent=2, default=str))
        for sub in (RUNS, SERIES, ERRORS):
            (path / sub).mkdir(exist_ok=True)
        folder = cls(path, header, lock)
        folder._tidy()
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
        """Run ids with a row in a complete runs part."""
        done: set[str] = set()
        for part in self._parts(RUNS):
            done.update(pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist())
        return done

    # -- writing ---------------------------------------------------------------------------
    def write(
        self,
        runs: list[dict[str, Any]],
        series: list[dict[str, Any]],
        errors: list[dict[str, Any]],
    ) -> None:
        """Write one flush: series first, then runs (which marks the runs done), then errors."""
        name = f"part-{self._next_part:06d}.parquet"
        meta = {b"coprod_sim": json.dumps(self._provenance()).encode()}
        for sub, rows in ((SERIES, series), (RUNS, runs), (ERRORS, errors)):
            if rows:
                table = rows_to_table(rows, self.types).replace_schema_metadata(meta)
                _write_table(self.path / sub / name, table)
        self._next_part += 1

    def _provenance(self) -> dict[str, Any]:
        keys = ("name", "fingerprint", "version")
        return {k: self.header.get(k) for k in keys}

    # -- housekeeping ----------------------------------------------------------------------
    def _parts(self, sub: str) -> list[Path]:
        return sorted((self.path / sub).glob("part-*.parquet"))

    def _tidy(self) -> None:
        """Drop partial files and set aside parts that cannot be counted."""
        for sub in (RUNS, SERIES, ERRORS):
            for tmp in (self.path / sub).glob("*.tmp"):
                tmp.unlink()
                self.housekeeping.partial_files.append(str(tmp.relative_to(self.path)))
        for tmp in self.path.glob("*.tmp"):
            tmp.unlink()
        readable_runs = set()
        for sub in (RUNS, SERIES, ERRORS):
            for part in self._parts(sub):
                try:
                    pq.read_table(part, columns=["run_id"])
                except (pa.ArrowException, OSError):
                    self._quarantine(part)
                    continue
                if sub == RUNS:
                    readable_runs.add(part.name)
        for part in self._parts(SERIES):  # series written, then killed before its runs part
            if part.name not in readable_runs:
                self._quarantine(part)

    def _quarantine(self, part: Path) -> None:
        target = self.path / QUARANTINE / part.parent.name
        target.mkdir(parents=True, exist_ok=True)
        destination = target / part.name
        n = 1
        while destination.exists():  # set aside before, on an earlier resume: keep both
            destination = target / f"{part.stem}.{n}{part.suffix}"
            n += 1
        shutil.move(part, destination)
        self.housekeeping.quarantined.append(str(part.relative_to(self.path)))


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
        except (OSError, json.JSONDecodeError) as error:
            raise FolderError(
                [Problem("--out", str(path), f"has an unreadable {EXPERIMENT_FILE}: {error}")]
            ) from None
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
    others = [
        p.name for p in path.iterdir() if p.name not in _OWN_FILES and not p.name.endswith(".tmp")
    ]
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


def read_dataset(path: Path, sub: str) -> pa.Table | None:
    """All complete parts of ``sub`` (runs, series or errors) as one table, or None.

    The parts are named one by one (a ``*.tmp`` being written is never read), and their
    schemas unified first, so a column that some parts lack is null there and one whose
    type differs between parts (written by an earlier version) takes the wider type.
    """
    parts = sorted((path / sub).glob("part-*.parquet"))
    if not parts:
        return None
    schema = pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
    return ds.dataset([str(p) for p in parts], schema=schema, format="parquet").to_table()


def _part_number(path: Path) -> int:
    try:
        return int(path.stem.removeprefix("part-"))
    except ValueError:
        return 0


def _write_table(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as handle:  # on disk before the rename makes it count
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
