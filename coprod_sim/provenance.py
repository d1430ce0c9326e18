"""Provenance: what produced a result, recorded in one shape by every writer.

:func:`common` gives the fields every record shares (the package and its version,
Python, the library versions, the machine, when and by what command); a run's
``run.json`` (:func:`run_record`), a sweep's ``experiment.json`` header and the
app's downloads add their own fields to it. :func:`environment` is the same
information flat, for one line of a report. A scenario is identified by the
SHA-256 of its resolved TOML (:func:`scenario_sha256`), which ``coprod run
--scenario`` reads back to the same scenario.

Records written by earlier versions keep being readable: fields are only ever
added, never renamed or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import sys
from collections.abc import Iterable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coprod_sim.model import CoproductionModel
    from coprod_sim.scenario import Scenario

PACKAGE = "coprod_sim"
#: Libraries whose versions a record holds beside the package's own.
LIBRARIES = ("mesa", "numpy", "networkx", "scipy", "pandas", "pyarrow", "SALib")
#: The libraries a run's ``run.json`` has always named at its top level.
RUN_LIBRARIES = ("mesa", "numpy", "networkx")


def package_version() -> str:
    """The installed coprod_sim's version (``0.0.0+unknown`` from a bare source tree)."""
    # Imported here: the package's __init__ imports the model, which must not need this.
    from coprod_sim import __version__

    return __version__


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    """Each named library's installed version, in the order given."""
    return {name: version(name) for name in names}


def machine() -> str:
    """The operating system and processor, e.g. ``Linux x86_64``."""
    return f"{platform.system()} {platform.machine()}"


def created() -> str:
    """The time now, in UTC to the second (ISO 8601)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def command_line() -> str:
    """This process's command line, as typed."""
    return " ".join(sys.argv)


def common(command: str | None = None, libraries: Iterable[str] = LIBRARIES) -> dict[str, Any]:
    """The fields every provenance record shares.

    ``command`` is what to record as the command that made the result (``None`` when
    there is none worth naming, as in the app).
    """
    return {
        "package": PACKAGE,
        "version": package_version(),
        "python": platform.python_version(),
        "libraries": library_versions(libraries),
        "machine": machine(),
        "platform": platform.platform(),
        "created": created(),
        "command": command,
    }


def environment(libraries: Iterable[str] = ("mesa", "numpy")) -> dict[str, str]:
    """The versions and the machine, flat, for one line of a report:
    ``coprod_sim``, ``python``, each library, ``machine``."""
    return {
        PACKAGE: package_version(),
        "python": platform.python_version(),
        **library_versions(libraries),
        "machine": machine(),
    }


def sha256(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8), in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def scenario_sha256(scenario: Scenario) -> str:
    """The SHA-256 of a scenario's fully resolved TOML."""
    return sha256(scenario.to_toml())


def scenario_fields(scenario: Scenario) -> dict[str, str]:
    """A scenario's name and the SHA-256 of its resolved TOML."""
    return {"scenario": scenario.name, "scenario_sha256": scenario_sha256(scenario)}


def run_record(
    model: CoproductionModel, seed: int | None, steps: int, command: str | None
) -> dict[str, Any]:
    """Everything needed to cite and reproduce one run: :func:`common`, the scenario, the
    seed, the steps and the model's size."""
    record = common(command)
    return {
        **record,
        **scenario_fields(model.parameters),
        "seed": seed,
        "steps": steps,
        "sites": len(model.sites),
        "patients": model.patients.n,
        "providers": model.providers.n,
        # Named at the top level since the first run.json; also under "libraries".
        **{name: record["libraries"][name] for name in RUN_LIBRARIES},
    }
