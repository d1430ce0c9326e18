"""A results folder's Parquet parts: writing them, reading them, and whether they count.

Every part has the manifest's column types for the identifiers and factors (a
factor of 0, 1 and 0.5 is a double in every part, not an integer in some), so
DuckDB and pyarrow read the parts as one table.

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

The folder's layout is in :mod:`coprod_sim.experiments.store`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from coprod_sim.errors import FolderError, Problem
from coprod_sim.experiments.record import (
    DAMAGE,
    MANIFEST_FILE,
    STORE_FORMAT,
    brief,
    cannot_read,
    read_record,
    rebuild_first,
)

RUNS, SERIES, ERRORS = "runs", "series", "errors"
#: The folders of a flush's parts.
PARTS = (RUNS, SERIES, ERRORS)
_PART_KEY = b"coprod_sim"


class _UnreadableError(Exception):
    """A Parquet file that cannot be trusted; the message says why."""


# -- writing -------------------------------------------------------------------------------
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


def with_flush(table: pa.Table, written_for: dict[str, Any], flush: dict[str, int]) -> pa.Table:
    """``table`` as a part of ``flush``: its metadata declares the experiment it was written
    for, the rows the flush wrote to each folder and its own columns (what reading checks)."""
    meta = {**written_for, "flush": flush, "columns": _columns(table)}
    return table.replace_schema_metadata({_PART_KEY: json.dumps(meta).encode()})


def write_table(path: Path, table: pa.Table) -> None:
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


# -- reading -------------------------------------------------------------------------------
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
            raise cannot_read(path, error) from None
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


def flush_problem(path: Path, name: str, header: dict[str, Any]) -> str | None:
    """Why the flush of parts named ``name`` in the folder ``path`` does not count, or None
    if it does."""
    present = [sub for sub in PARTS if (path / sub / name).exists()]
    flushes = []
    for sub in present:
        try:
            _, flush = _read_part(path / sub / name, header, keep=False)
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
    except DAMAGE as error:
        raise _UnreadableError(f"cannot be read ({brief(error)})") from None
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


def part_number(path: Path) -> int:
    try:
        return int(path.stem.removeprefix("part-"))
    except ValueError:
        return 0


def table_problem(path: Path, wanted: pa.Table) -> str | None:
    """Why the file at ``path`` is not the table ``wanted`` (missing, damaged, other rows)."""
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except FileNotFoundError:
        return "it is missing"
    except PermissionError:
        raise
    except DAMAGE as error:
        return f"it cannot be read: {brief(error)}"
    if not table.equals(wanted):
        return "it does not hold what the spec plans"
    return None


def read_folder_table(path: Path, name: str = MANIFEST_FILE) -> pa.Table:
    """The manifest (or the design, ``name``) of the results folder ``path``, its page
    checksums verified; :class:`FolderError` (run the sweep again) if missing or damaged."""
    try:
        return pq.read_table(path / name, page_checksum_verification=True)
    except FileNotFoundError:
        problem = "is missing"
    except PermissionError as error:
        raise cannot_read(path, error) from None
    except DAMAGE as error:
        problem = f"cannot be read ({brief(error)})"
    raise rebuild_first(path, None, problem, name)
