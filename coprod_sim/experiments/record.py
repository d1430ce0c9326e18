"""A results folder's own record: experiment.json, its copy in the manifest, and the checks.

experiment.json says what the experiment is; ``manifest.parquet`` keeps a copy of it (the
record) and that copy's SHA-256, so an edit to either is seen:

* **The record.** On resuming, experiment.json is checked against the spec and against
  the record in the manifest; on reading (:func:`read_record`), against the record and the
  manifest. An edit is refused (:class:`FolderError`, naming the field). On resuming, a
  missing or damaged ``manifest.parquet`` (or ``design.parquet``) is rebuilt from the
  spec; reading refuses it, saying to run the sweep again, which rebuilds it.

The folder's layout is in :mod:`coprod_sim.experiments.store`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from coprod_sim import provenance
from coprod_sim.errors import FolderError, Problem

EXPERIMENT_FILE = "experiment.json"
MANIFEST_FILE = "manifest.parquet"
#: Libraries whose versions a results folder records beside the package's own.
LIBRARIES = provenance.LIBRARIES
#: The header's ``store_format``: 2, parts declare their flush and the manifest keeps the
#: record. A folder without it was written before, and is read by the older rules.
STORE_FORMAT = 2
_RECORD_KEY = b"coprod_sim.experiment"
_RECORD_SHA_KEY = b"coprod_sim.experiment_sha256"
#: What reading a damaged Parquet file raises (not a missing file or a refused permission,
#: which are not damage, and propagate).
DAMAGE = (pa.ArrowException, OSError, ValueError, MemoryError, EOFError)
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


def header_for(experiment: Any, command: str | None = None) -> dict[str, Any]:
    """The provenance header of a new results folder: :func:`coprod_sim.provenance.common`
    and what the experiment is."""
    spec = experiment.spec
    # Only with a posterior: the folders of sweeps without one keep the record they had.
    posterior = {"posterior": experiment.posterior} if experiment.posterior else {}
    return {
        **posterior,
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


# -- reading -------------------------------------------------------------------------------
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
        raise rebuild_first(path, header, "is missing") from None
    except PermissionError as error:
        raise cannot_read(path, error) from None
    except DAMAGE as error:
        raise rebuild_first(path, header, f"cannot be read ({brief(error)})") from None
    record, damage = _record_of(schema)
    if damage:
        raise rebuild_first(path, header, damage)
    if record is not None and (edits := _edits(header, record)):
        raise FolderError(edits, source)
    if record is None and header.get("store_format", 0) >= STORE_FORMAT:
        raise rebuild_first(path, header, "has lost its record of experiment.json")
    if problems := _consistency(header, planned, schema.names):
        raise FolderError(problems, source)
    return header


def _read_header_file(path: Path) -> dict[str, Any]:
    file = path / EXPERIMENT_FILE
    if not file.is_file():
        raise FolderError(
            [Problem("DIR", str(path), f"is not a sweep's results folder (no {EXPERIMENT_FILE})")]
        )
    try:
        header = json.loads(file.read_text(encoding="utf-8"))
    except PermissionError as error:
        raise cannot_read(path, error) from None
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError
        raise FolderError(
            [Problem(EXPERIMENT_FILE, str(file), f"cannot be read ({brief(error)})")]
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


def rebuild_first(
    path: Path, header: dict[str, Any] | None, problem: str, name: str = MANIFEST_FILE
) -> FolderError:
    """The error for a missing or damaged ``name``: reading never writes, so it says to run
    the sweep again, which rebuilds the file from the spec."""
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


def cannot_read(path: Path, error: OSError) -> FolderError:
    """The error for a folder the file system will not let us read (not damage: no advice
    to run the sweep again)."""
    return FolderError([Problem("DIR", str(path), f"cannot be read ({brief(error)})")])


# -- resuming ------------------------------------------------------------------------------
def resumed_header(path: Path, fresh: dict[str, Any]) -> dict[str, Any]:
    """The header of a folder being resumed: whole, and as the spec gives it now (``fresh``);
    :class:`FolderError` naming each field that is not."""
    source = str(path / EXPERIMENT_FILE)
    header = _read_header_file(path)
    problems = _misshapen(header) or _spec_differences(header, fresh)
    if problems:
        raise FolderError(problems, source)
    return header


def record_problem(path: Path, header: dict[str, Any]) -> str | None:
    """Why the record in a resumed folder's (readable) manifest must be rebuilt from
    ``header`` (it is damaged or lost), or None; :class:`FolderError` if ``header`` was
    edited since the record was kept."""
    record, damage = _record_of(pq.read_schema(path / MANIFEST_FILE))
    if record is not None and (edits := _edits(header, record)):
        raise FolderError(edits, str(path / EXPERIMENT_FILE))
    if record is None and damage is None and header.get("store_format", 0) >= STORE_FORMAT:
        return "it has lost its record of experiment.json"
    return damage


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
                    f"does not match the spec, which gives {brief(wanted)}: "
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
            f"was changed after the sweep wrote it: it was {brief(was)} (the record in "
            f"{MANIFEST_FILE}); set it back",
        )
        for name, now, was in _diff(header, record)
    ][:10]


def with_record(manifest: pa.Table, header: dict[str, Any]) -> pa.Table:
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


# -- comparing -----------------------------------------------------------------------------
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


def brief(value: Any, limit: int = 160) -> str:
    """``value`` (an error's message, or a value's repr) cut short enough for a message."""
    text = str(value) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
