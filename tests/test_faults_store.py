"""Faults in a results folder: damaged parts, lost manifests, edited records, read-only
folders and full disks. Each is caught, named, and what a resume ends with is exactly what
an uninterrupted sweep writes.

The reference sweep (8 runs, 2 of which fail) is written once; each test damages a copy.
Its flush 2 holds a part of each kind (runs, series and errors), so damaging any of them
must set the whole flush aside.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from coprod_sim.cli import app
from coprod_sim.errors import FolderError
from coprod_sim.experiments import analysis, store
from coprod_sim.experiments.engine import manifest, run_experiment
from coprod_sim.experiments.parts import read_dataset
from coprod_sim.experiments.record import header_for
from coprod_sim.experiments.spec import Experiment, load_experiment
from coprod_sim.experiments.store import ResultsFolder
from coprod_sim.model import CoproductionModel
from tests.experiment_helpers import results, write_spec
from tests.fault_helpers import on_read_only, on_small_disk

ROOT = Path(__file__).parents[1]
runner = CliRunner()
FLUSH = "part-000002.parquet"  # the reference's flush with a runs, series and errors part
KINDS = ("runs", "series", "errors")


@contextlib.contextmanager
def _failing() -> Iterator[None]:
    """Runs at rung 7 with deliberate inclusion crash, so the sweep writes errors parts."""
    original = CoproductionModel.run_for

    def broken(self, steps):
        parameters = self.parameters
        if parameters.power_sharing == 7 and parameters.inclusion == "deliberate":
            raise RuntimeError("simulated fault")
        return original(self, steps)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CoproductionModel, "run_for", broken)
        yield


@dataclass(frozen=True)
class Reference:
    experiment: Experiment
    clean: Path  # the uninterrupted sweep; never changed

    def copy(self, to: Path) -> Path:
        shutil.copytree(self.clean, to)
        return to

    def resume(self, out: Path):
        with _failing():
            return run_experiment(self.experiment, out, executor="sequential", flush_runs=3)

    def open(self, out: Path) -> ResultsFolder:
        e = self.experiment
        return ResultsFolder.open(out, header_for(e), manifest(e), e.spec.to_toml())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("reference")
    experiment = load_experiment(write_spec(root / "spec", replications=2, steps=5))
    ref = Reference(experiment, root / "clean")
    summary = ref.resume(ref.clean)
    assert (summary.completed, summary.failed) == (6, 2)
    for kind in KINDS:  # the layout the tests rely on
        assert (ref.clean / kind / FLUSH).exists(), kind
    return ref


def _same_data(out: Path, clean: Path) -> None:
    """Runs and series exactly as the uninterrupted sweep's; the same failed attempts."""
    for got, want in zip(results(out), results(clean), strict=True):
        pd.testing.assert_frame_equal(got, want)
    keys = ["run_id", "attempt", "error"]
    got = set(analysis.load_errors(out)[keys].itertuples(index=False))
    assert got == set(analysis.load_errors(clean)[keys].itertuples(index=False))


def _flush_parts(name: str = FLUSH) -> list[str]:
    return sorted(f"{kind}/{name}" for kind in KINDS)


def _flip(path: Path, position: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 1 << bit
    path.write_bytes(bytes(data))


def _last_page_bytes(path: Path) -> dict[str, int]:
    """Each column's last byte in the file: the end of its last data page's payload."""
    meta = pq.read_metadata(path)
    ends = {}
    for i in range(meta.num_columns):
        chunk = meta.row_group(0).column(i)
        start = chunk.data_page_offset
        if chunk.has_dictionary_page and chunk.dictionary_page_offset:
            start = min(start, chunk.dictionary_page_offset)
        ends[chunk.path_in_schema] = start + chunk.total_compressed_size - 1
    return ends


# --- damaged parts ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_a_truncated_part_of_any_kind_sets_its_whole_flush_aside(
    reference: Reference, tmp_path: Path, kind: str
) -> None:
    out = reference.copy(tmp_path / "out")
    part = out / kind / FLUSH
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    summary = reference.resume(out)
    assert sorted(summary.quarantined) == _flush_parts()
    assert (summary.already_done, summary.completed) == (4, 2)  # flush 2 held two runs
    assert (out / "quarantine" / kind / FLUSH).exists()
    assert "cannot be read" in (out / "quarantine" / "reasons.txt").read_text()
    _same_data(out, reference.clean)


@pytest.mark.parametrize("kind", KINDS)
def test_a_bit_flip_in_any_column_of_any_part_is_caught(
    reference: Reference, tmp_path: Path, kind: str
) -> None:
    ends = _last_page_bytes(reference.clean / kind / FLUSH)
    assert len(ends) >= 10  # identifiers, factors, outcomes: not only run_id
    for column, position in ends.items():
        out = reference.copy(tmp_path / column)
        _flip(out / kind / FLUSH, position)
        # A reader is told which part, and what to do; it never gets the flipped value.
        with pytest.raises(FolderError, match=rf"{kind}/{FLUSH}.*run the sweep command again"):
            read_dataset(out, kind)
        with reference.open(out) as folder:  # a sweep resuming sets the whole flush aside
            assert sorted(folder.housekeeping.quarantined) == _flush_parts(), column
            assert "checksum" in folder.housekeeping.reasons[f"{kind}/{FLUSH}"].lower()
    reference.resume(out)
    _same_data(out, reference.clean)


def test_random_bit_flips_never_change_a_value_unnoticed(
    reference: Reference, tmp_path: Path
) -> None:
    """100 single-bit flips anywhere in the parts (pages, page headers, footers): each is
    caught or changes nothing (without page checksums, about 1 in 12 changed values unnoticed)."""
    out = reference.copy(tmp_path / "out")
    header = analysis.read_header(out)
    parts = sorted(p for kind in ("runs", "series") for p in (out / kind).glob("part-*"))
    wanted = {kind: read_dataset(out, kind, header) for kind in ("runs", "series")}
    rng = random.Random(20260101)
    caught = unchanged = 0
    for _ in range(100):
        part = rng.choice(parts)
        original = part.read_bytes()
        _flip(part, rng.randrange(len(original)), rng.randrange(8))
        try:
            table = read_dataset(out, part.parent.name, header)
        except FolderError:
            caught += 1
        else:
            assert table.equals(wanted[part.parent.name]), "a flip changed values unnoticed"
            unchanged += 1
        part.write_bytes(original)
    assert caught + unchanged == 100 and caught > 50


def test_a_flush_stopped_before_its_last_part_is_set_aside_whole(
    reference: Reference, tmp_path: Path
) -> None:
    out = reference.copy(tmp_path / "out")
    # Killed after the runs part was renamed into place, before the errors part was.
    (out / "errors" / FLUSH).unlink()
    (out / "errors" / f"{FLUSH}.tmp").write_bytes(b"PAR1 half a part")
    # Read before the resume, the flush is left out, as the resume will leave it out.
    assert len(analysis.load_runs(out)) == 4 and len(analysis.load_series(out)) == 12
    summary = reference.resume(out)
    assert summary.partial_files == [f"errors/{FLUSH}.tmp"]
    assert sorted(summary.quarantined) == ["runs/" + FLUSH, "series/" + FLUSH]
    assert "errors part was never written" in (out / "quarantine" / "reasons.txt").read_text()
    _same_data(out, reference.clean)


def test_a_part_written_without_checksums_reads_as_before(
    reference: Reference, tmp_path: Path
) -> None:
    out = reference.copy(tmp_path / "out")
    part = out / "series" / FLUSH
    size = part.stat().st_size
    pq.write_table(pq.read_table(part), part)  # as earlier versions wrote: no checksums
    assert part.stat().st_size < size  # each page header is a checksum shorter
    _same_data(out, reference.clean)
    with reference.open(out) as folder:
        assert folder.housekeeping.quarantined == []


def test_a_folder_from_before_flushes_and_records_is_read_by_the_older_rules(
    reference: Reference, tmp_path: Path
) -> None:
    """Folders written before this version (as in results/validation): no record in the
    manifest, parts without checksums that declare no flush."""
    out = reference.copy(tmp_path / "out")
    header = json.loads((out / "experiment.json").read_text())
    del header["store_format"]
    (out / "experiment.json").write_text(json.dumps(header, indent=2))
    pq.write_table(pq.read_table(out / "manifest.parquet").replace_schema_metadata(None),
                   out / "manifest.parquet")  # fmt: skip
    for part in out.glob("*/part-*.parquet"):
        table = pq.read_table(part)
        old = {k: header[k] for k in ("name", "fingerprint", "version")}
        pq.write_table(table.replace_schema_metadata({"coprod_sim": json.dumps(old)}), part)
    _same_data(out, reference.clean)
    (out / "runs" / "part-000003.parquet").unlink()  # its series part is then an orphan
    assert len(analysis.load_series(out)) == 3 * 5  # five runs, three weeks each
    kept_manifest = (out / "manifest.parquet").read_bytes()
    summary = reference.resume(out)  # by the older rules too, and without rewriting it
    assert sorted(summary.quarantined) == [
        "errors/part-000003.parquet",
        "series/part-000003.parquet",
    ]
    assert (out / "manifest.parquet").read_bytes() == kept_manifest
    _same_data(out, reference.clean)
    header["runs"] = 7
    (out / "experiment.json").write_text(json.dumps(header, indent=2))
    with pytest.raises(FolderError, match=r"runs = 7: does not match manifest.parquet.* 8"):
        analysis.read_header(out)
    kept = next(iter(sorted((ROOT / "results" / "validation").glob("*/experiment.json"))), None)
    if kept is not None:  # a folder this repository keeps, written by an earlier version
        assert not analysis.load_runs(kept.parent).empty


# --- the folder's record ------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_lost_manifest_is_refused_by_report_and_rebuilt_by_a_resume(
    reference: Reference, tmp_path: Path, damage: str
) -> None:
    out = reference.copy(tmp_path / "out")
    lost = out / "manifest.parquet"
    if damage == "deleted":
        lost.unlink()
    else:
        lost.write_bytes(lost.read_bytes()[:100])
    refused = runner.invoke(app, ["report", str(out)])
    assert refused.exit_code == 2 and isinstance(refused.exception, SystemExit)
    assert "manifest.parquet" in refused.output and "run the sweep command" in refused.output
    with reference.open(out) as folder:
        assert folder.housekeeping.rebuilt[0].startswith("manifest.parquet (it ")
    assert pq.read_table(lost).equals(pq.read_table(reference.clean / "manifest.parquet"))
    assert analysis.read_header(out) == analysis.read_header(reference.clean)
    _same_data(out, reference.clean)


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("runs", lambda h: h.update(runs=7)),
        ("spec.outcomes.final", lambda h: h["spec"]["outcomes"]["final"].append("made_up")),
        ("description", lambda h: h.update(description="edited by hand")),
    ],
)
def test_an_edited_experiment_json_is_refused_naming_the_field(
    reference: Reference, tmp_path: Path, field: str, edit
) -> None:
    out = reference.copy(tmp_path / "out")
    header = json.loads((out / "experiment.json").read_text())
    edit(header)
    (out / "experiment.json").write_text(json.dumps(header, indent=2))
    refused = runner.invoke(app, ["report", str(out)])
    assert refused.exit_code == 2 and isinstance(refused.exception, SystemExit)
    assert f"{field} = " in refused.output and "changed after the sweep" in refused.output
    with pytest.raises(FolderError, match=rf"{field} = .*changed after the sweep wrote it"):
        reference.resume(out)
    assert not (out / "report.html").exists()


# --- analyses -----------------------------------------------------------------------------
SOBOL = """
name = "sobol"
scenario = "small.toml"
replications = 1
steps = 3
[design]
kind = "sobol"
samples = 8
[factors]
initial_trust = { low = 0.2, high = 0.9 }
crisis_strain = { low = 0.0, high = 0.9 }
[outcomes]
final = ["patient_trust", "value"]
"""


def test_sobol_indices_and_intervals_are_the_same_on_every_analysis_seed_0_included(
    tmp_path: Path,
) -> None:
    from SALib.analyze import sobol

    experiment = load_experiment(write_spec(tmp_path / "spec", text=SOBOL))
    run_experiment(experiment, tmp_path / "out", executor="sequential")
    first = analysis.sensitivity(tmp_path / "out", seed=0)
    assert first["S1_conf"].notna().all() and first["ST_conf"].max() > 0
    pd.testing.assert_frame_equal(first, analysis.sensitivity(tmp_path / "out", seed=0))
    other = analysis.sensitivity(tmp_path / "out", seed=3)
    assert not np.allclose(first["ST_conf"], other["ST_conf"])  # the seed decides them
    # Any other seed gives the intervals SALib gives for it as an int, as before.
    header = analysis.read_header(tmp_path / "out")
    runs = analysis.load_runs(tmp_path / "out").groupby("scenario_id")["patient_trust"].mean()
    direct = sobol.analyze(header["problem"], runs.sort_index().to_numpy(), False, seed=3)
    assert list(other["ST_conf"][:2]) == pytest.approx(list(direct["ST_conf"]), abs=0)


# --- the environment ----------------------------------------------------------------------
def test_a_folder_that_cannot_be_completed_is_removed_and_named(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, text: str) -> None:
        if path.name == "experiment.json":  # the last file: all the others are written
            raise OSError(28, "No space left on device", str(path))
        original(path, text)

    original = store._write_text
    monkeypatch.setattr(store, "_write_text", full)
    new = tmp_path / "new" / "out"
    with pytest.raises(FolderError, match=r"--out = .*cannot be written \(the disk is full"):
        reference.open(new)
    assert not (tmp_path / "new").exists()
    given = tmp_path / "empty"  # a folder the user made: kept, emptied of what was written
    given.mkdir()
    with pytest.raises(FolderError, match="the disk is full"):
        reference.open(given)
    assert [p.name for p in given.iterdir()] == [".lock"]
    monkeypatch.setattr(Path, "mkdir", _refuse)
    with pytest.raises(FolderError, match=r"--out = .*permission denied"):
        reference.open(tmp_path / "other")


def _refuse(self: Path, *args, **kwargs) -> None:
    raise PermissionError(13, "Permission denied", str(self))


def test_a_flush_that_cannot_be_written_leaves_no_tmp_and_no_part(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {k: pq.read_table(reference.clean / k / FLUSH).to_pylist() for k in KINDS}
    original = pq.write_table

    def full(table, where, **kwargs) -> None:
        if "/runs/" in str(where):  # after the series part: the disk fills mid-flush
            Path(where).write_bytes(b"PAR1 a few bytes")
            raise OSError(28, "No space left on device")
        original(table, where, **kwargs)

    with reference.open(tmp_path / "out") as folder:
        monkeypatch.setattr(pq, "write_table", full)
        with pytest.raises(OSError, match="No space left"):
            folder.write(rows["runs"], rows["series"], rows["errors"])
        monkeypatch.undo()
        assert sorted(p.name for p in (tmp_path / "out").rglob("part-*")) == []
        folder.write(rows["runs"], rows["series"], rows["errors"])  # room again
    with reference.open(tmp_path / "out") as folder:
        assert folder.housekeeping.quarantined == [] and len(folder.completed()) == 2


# A few command lines run in one process, in the test's mount namespace: a (printed) list of
# each one's exit code, exception and output, so that tracebacks show as exceptions.
CLI_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from typer.testing import CliRunner
    from coprod_sim.cli import app

    def fill(disk, leave):
        st = os.statvfs(disk)
        with open(Path(disk) / "filler", "wb") as f:
            f.write(b"\\0" * max(0, st.f_bavail * st.f_frsize - leave))

    steps = json.loads(sys.argv[1])
    found = []
    for step in steps:
        if step[0] == "fill":
            fill(step[1], step[2])
            continue
        if step[0] == "unfill":
            os.remove(Path(step[1]) / "filler")
            continue
        if step[0] == "list":
            files = sorted(str(p.relative_to(step[1])) for p in Path(step[1]).rglob("*"))
            found.append({"files": files})
            continue
        if step[0] == "copy":
            import shutil
            shutil.copytree(step[1], step[2])
            continue
        result = CliRunner().invoke(app, step)
        found.append({
            "code": result.exit_code,
            "exception": type(result.exception).__name__,
            "output": result.output,
        })
    print(json.dumps(found))
    """
)


def _cli(run, steps: list[list], where: Path, **kwargs) -> list[dict]:
    done = run([sys.executable, "-c", CLI_SCRIPT, json.dumps(steps)], where, **kwargs, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_read_only_folder_is_refused_with_a_message(
    reference: Reference, tmp_path: Path, private_mounts: None
) -> None:
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    disk = tmp_path / "read-only"
    done = reference.copy(disk / "done")
    before = _files(disk)
    sweep = ["sweep", str(spec), "--executor", "sequential", "--out"]
    new, resume, report = _cli(
        on_read_only,
        [[*sweep, str(disk / "new")], [*sweep, str(done)], ["report", str(done)]],
        disk,
    )
    for found in (new, resume, report):
        assert found["code"] == 2 and found["exception"] == "SystemExit", found
        assert "the file system is read-only" in found["output"], found
    assert "--out" in new["output"] and "nothing was kept" in new["output"]
    assert "--out" in resume["output"] and "cannot hold the report" in report["output"]
    assert _files(disk) == before


def test_a_full_disk_is_a_message_and_leaves_nothing_half_written(
    reference: Reference, tmp_path: Path, private_mounts: None
) -> None:
    spec = write_spec(tmp_path / "spec", replications=2, steps=5)
    disk = tmp_path / "disk"
    steps = [
        ["fill", str(disk), 8192],  # room for two of the new folder's files, not all
        ["sweep", str(spec), "--executor", "sequential", "--out", str(disk / "new")],
        ["list", str(disk)],
        ["unfill", str(disk)],
        ["copy", str(reference.clean), str(disk / "done")],
        ["fill", str(disk), 0],
        ["report", str(disk / "done")],
        ["list", str(disk / "done")],
    ]
    create, after_create, report, after_report = _cli(on_small_disk, steps, disk, size="4m")
    for found in (create, report):
        assert found["code"] == 2 and found["exception"] == "SystemExit", found
        assert "the disk is full" in found["output"], found
    assert "--out" in create["output"] and "nothing was kept" in create["output"]
    assert after_create["files"] == ["filler"]  # the new folder is gone, tmp files too
    assert "cannot hold the report" in report["output"]
    assert after_report["files"] == sorted([*_files(reference.clean), "figures"])  # empty
