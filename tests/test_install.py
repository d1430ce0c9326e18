"""The package as users install it: a wheel, in a fresh environment, run from an empty folder.

The slow tests build a wheel of the project, install it (without its dependencies) into a
new virtual environment, and run ``coprod`` there from an empty folder. The new
environment reaches the project environment's dependencies through a ``.pth`` line, which
adds that folder to ``sys.path`` without running its own ``.pth`` files, so the editable
install of the project there cannot shadow the wheel; nothing of the source tree is on
``sys.path``. Whatever the commands need (the presets, the validation specs) must
therefore be inside the wheel. Offline: the build uses the setuptools already installed.

The fast tests pin the rule that picks the validation report's default path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from coprod_sim.cli.validate import default_report, in_source_tree
from coprod_sim.validation import study

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Installed:
    env: Path  # the new virtual environment
    site: Path  # its site-packages, where the wheel went
    home: Path  # an empty folder to run the commands in

    def coprod(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.env / "bin" / "coprod"), *args],
            cwd=self.home,
            env=_clean_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.env / "bin" / "python"), "-c", code],
            cwd=self.home,
            env=_clean_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )


def _clean_environment() -> dict[str, str]:
    """This process's environment without what would point Python back at the checkout."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "COLUMNS": "200"}


def _run(*command: str | Path, cwd: Path | None = None) -> None:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("install")
    # Built from a copy: an in-place build would leave build/ and *.egg-info in the checkout.
    source = root / "source"
    source.mkdir()
    for name in ["pyproject.toml", "README.md", *(p.name for p in ROOT.glob("LICEN[CS]E*"))]:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "coprod_sim", source / "coprod_sim", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = root / "wheels"
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-q", "-w", wheels, ".", cwd=source,
    )  # fmt: skip
    (wheel,) = wheels.glob("coprod_sim-*.whl")

    env = root / "env"
    _run(sys.executable, "-m", "venv", env)
    python = env / "bin" / "python"
    _run(
        python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
        "-q", wheel,
    )  # fmt: skip
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    # The dependencies: this environment's site-packages, after the new one's own.
    (site / "_coprod_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    home = root / "home"
    home.mkdir()
    return Installed(env, site, home)


@pytest.mark.slow
def test_the_wheel_not_the_checkout_is_what_runs(installed: Installed) -> None:
    found = installed.python(
        "import sys, coprod_sim, coprod_sim.cli\n"
        "from coprod_sim.validation.study import SPECS\n"
        "print(coprod_sim.__file__); print(SPECS); print(*sys.path, sep='\\n')"
    )
    assert found.returncode == 0, found.stderr
    module, specs, *path = found.stdout.splitlines()
    assert Path(module).is_relative_to(installed.site), module
    assert Path(specs).is_relative_to(installed.site) and Path(specs).is_dir(), specs
    assert str(ROOT) not in path and not any(Path(p).resolve() == ROOT for p in path if p)


@pytest.mark.slow
def test_the_installed_command_lists_and_runs_from_an_empty_folder(installed: Installed) -> None:
    listed = installed.coprod("scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "careqic" in listed.stdout and "staff-led" in listed.stdout
    ran = installed.coprod("run", "--steps", "5", "--out", "r")
    assert ran.returncode == 0, ran.stderr
    assert (installed.home / "r" / "collaborative.parquet").is_file()
    assert (installed.home / "r" / "scenario.toml").is_file()


@pytest.mark.slow
def test_the_installed_validate_finds_its_specs_from_an_empty_folder(
    installed: Installed,
) -> None:
    started = time.perf_counter()
    # Two replications: the pipelines and the installed specs, not the verdicts (the source
    # tree's quick study is tests/test_validation.py's).
    validated = installed.coprod(
        "validate", "--quick", "--replications", "2", "--out", "v", "--workers", "2"
    )
    seconds = time.perf_counter() - started
    assert validated.returncode == 0, validated.stdout + validated.stderr
    report = installed.home / "v" / "validation.md"
    assert report.is_file(), validated.stdout
    assert not (installed.home / "docs").exists()  # not the source tree: nothing in docs/
    # The spec links lead to the specs the wheel installed.
    text = report.read_text()
    links = re.findall(r"(?<!!)\[[^\]]*\]\(<([^>]+)>\)", text)
    assert links and all((report.parent / link).exists() for link in links), links
    assert "fact1_tokenism.toml" in text and "site-packages" in text
    print(f"coprod validate --quick, installed: {seconds:.0f} s")


# --- the default report -------------------------------------------------------------------------
def test_the_report_goes_to_docs_only_in_the_source_tree(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert in_source_tree(ROOT)
    assert default_report(out, quick=False, here=ROOT) == ROOT / "docs" / "validation.md"
    assert default_report(out, quick=True, here=ROOT) == out / "validation.md"
    assert default_report(out, quick=False, here=tmp_path) == out / "validation.md"
    assert default_report(out, quick=False) in (  # run in the current folder
        Path("docs/validation.md"),
        out / "validation.md",
    )


@pytest.mark.parametrize(
    ("pyproject", "source_tree"),
    [
        ('[project]\nname = "coprod-sim"\n', True),
        ('[project]\nname = "Coprod_Sim"\n', True),  # the same name, as PyPI compares them
        ('[project]\nname = "another"\n', False),
        ('name = "coprod-sim"\n', False),  # not in [project]
        ("project = 3\n", False),
        ("[project\n", False),  # not TOML
    ],
)
def test_a_source_tree_is_a_folder_whose_pyproject_names_coprod_sim(
    tmp_path: Path, pyproject: str, source_tree: bool
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert in_source_tree(tmp_path) is source_tree


def test_the_package_holds_every_spec_of_the_full_study() -> None:
    assert study.SPECS.name == "specs" and study.SPECS.parent == Path(study.__file__).parent
    experiments = study.load_study(study.SPECS, quick=False)
    assert list(experiments) == study.spec_names(quick=False)
