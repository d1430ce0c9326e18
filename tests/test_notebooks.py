"""The tutorial notebooks in notebooks/ run, at their small size, in a real kernel of this
environment, each in an empty working folder, and compute what they say they compute.

Each notebook reads its size from ``COPROD_NOTEBOOK_SIZE`` (``small`` here: few weeks and
replications, the sequential executor). The kernel is this interpreter, from a kernelspec
written for the test, so no kernel installed elsewhere on the machine can stand in for it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import duckdb
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "coprod-sim-tests"
SMALL_WEEKS = 26  # the notebooks' small size


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernels folder holding one kernelspec: this interpreter running ipykernel."""
    folder = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec = folder / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "coprod_sim (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


def test_there_are_notebooks_and_they_are_stored_without_outputs() -> None:
    assert NOTEBOOKS, "no notebooks in notebooks/"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                where = f"{path.name}, cell {cell.get('id')}"
                assert cell.outputs == [], f"{where} is stored with outputs (strip them)"
                assert cell.execution_count is None, f"{where} is stored with a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_runs_at_small_size(
    path: Path, kernels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("COPROD_NOTEBOOK_SIZE", "small")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # no profile in $HOME
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.read(path, as_version=4)
    probe = new_code_cell("import os, sys\nprint(sys.executable)\nprint(os.getcwd())")
    nb.cells.insert(0, probe)
    specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    # Sockets in the test's folder, not TCP ports (an absolute path: the kernel runs in work/).
    ipc = str(tmp_path / "kernel")
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs, transport="ipc", ip=ipc)
    client = NotebookClient(
        nb,
        km=manager,
        kernel_name=KERNEL,
        timeout=120,
        allow_errors=False,  # any cell error fails the test, with the cell and traceback
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()

    executable, cwd = _stdout(probe).split()
    assert Path(executable) == Path(sys.executable), "the kernel is not this environment's"
    assert Path(cwd).resolve() == work.resolve()
    CHECKS[path.stem](nb, work)


# --- what each notebook computed -------------------------------------------------------------


def _cell(nb: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    (cell,) = (c for c in nb.cells if tag in c.get("metadata", {}).get("tags", []))
    return cell


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def _html(cell: nbformat.NotebookNode) -> str:
    (html,) = (o.data["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
    return html


def _headers(html: str) -> set[str]:
    """The text of every <th> of a pandas table: its column names and its row labels."""
    return {re.sub(r"\s+", " ", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)}


def _body_rows(html: str) -> int:
    (body,) = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    return body.count("<tr")


def _figures(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def check_scenario(nb: nbformat.NotebookNode, work: Path) -> None:
    cascade = _html(_cell(nb, "cascade-table"))
    stages = {"retention", "adherence", "testing_coverage", "suppression", "suppression_enrolled"}
    assert {"week 0", f"week {SMALL_WEEKS}", "change", *stages} <= _headers(cascade)
    assert _body_rows(cascade) == len(stages)
    groups = _html(_cell(nb, "groups-table"))
    assert {"retention", "suppression_enrolled", "provider_stigma"} <= _headers(groups)
    assert _body_rows(groups) == 5  # the general population and four key populations
    assert _stdout(_cell(nb, "reproducible")).strip() == "identical: True"
    assert _figures(nb) == 2


def check_sweep(nb: nbformat.NotebookNode, work: Path) -> None:
    runs = 2 * 2 * 2  # rungs x inclusion policies x replications, at the small size
    lines = _stdout(_cell(nb, "run")).splitlines()
    assert lines == [
        f"first: {runs} of {runs} runs done ({runs} now, 0 before), 0 failed",
        f"again: {runs} of {runs} runs done (0 now, {runs} before), 0 failed",
    ]
    table = _html(_cell(nb, "by-design-point"))
    columns = {"power_sharing", "inclusion", "trust", "equity_gap", "sex_workers_heard", "n"}
    assert columns <= _headers(table)
    assert _body_rows(table) == 4
    gain = _html(_cell(nb, "paired-gain"))
    assert {"gain", "se", "pairs", "same_seeds"} <= _headers(gain)
    assert "False" not in gain  # every pair shares its seed
    # The folder the notebook queried is real Parquet, with one row per run.
    out = work / "results" / "tutorial-sweep-small"
    query = f"SELECT count(*), count(DISTINCT seed) FROM '{out}/runs/*.parquet'"
    assert duckdb.sql(query).fetchall() == [(runs, 2)]
    assert (out / "report.html").is_file()
    library = _stdout(_cell(nb, "library"))
    gap = float(re.search(r"DuckDB vs pandas: (\S+)", library).group(1))
    assert gap < 1e-12


def check_comparison(nb: nbformat.NotebookNode, work: Path) -> None:
    from coprod_sim.experiments.spec import DEFAULT_OUTCOMES

    assert _stdout(_cell(nb, "crn")).splitlines()[0] == "same seed in every pair: True"
    table = _html(_cell(nb, "differences"))
    columns = {"staff-led", "careqic", "difference", "low", "high", "n", "verdict"}
    assert columns | set(DEFAULT_OUTCOMES) <= _headers(table)
    assert _body_rows(table) == len(DEFAULT_OUTCOMES) + 1  # and key_suppression_enrolled
    assert {"correlation", "ratio"} <= _headers(_html(_cell(nb, "spread")))
    assert _figures(nb) == 1
    assert not any(work.iterdir()), "the comparison keeps its runs in a temporary folder"


def check_calibration(nb: nbformat.NotebookNode, work: Path) -> None:
    import pandas as pd

    line = _stdout(_cell(nb, "run")).strip()
    simulations, generations = map(
        int, re.match(r"(\d+) simulations, (\d+) generations", line).groups()
    )
    assert simulations <= 80 and generations >= 1
    out = work / "results" / "tutorial-calibration-small"
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 12 and abs(posterior["weight"].sum() - 1) < 1e-9
    summary = _html(_cell(nb, "posterior"))
    assert {"parameter", "median", "90% low", "90% high", "interval / prior"} <= _headers(summary)
    assert _body_rows(summary) == 3
    check = _html(_cell(nb, "check"))
    assert {"target", "observed", "predictive 5%", "predictive 95%", "fits"} <= _headers(check)
    assert _body_rows(check) == 1
    assert "intervals include parameter uncertainty" in _stdout(_cell(nb, "comparison"))
    assert _body_rows(_html(_cell(nb, "comparison"))) == 3
    assert _figures(nb) == 1


CHECKS = {
    "01_scenario": check_scenario,
    "02_sweep_duckdb": check_sweep,
    "03_paired_comparison": check_comparison,
    "04_calibration": check_calibration,
}


def test_every_notebook_has_its_checks() -> None:
    assert sorted(CHECKS) == [p.stem for p in NOTEBOOKS]
