"""Reading scenarios: the bundled presets, TOML files and text, with ``extends`` resolved.

Presets live as TOML files in ``coprod_sim/presets``. A TOML file may start from another
scenario with ``extends = "careqic"`` (a preset name or a path relative to the file); its own
tables are merged into the base, key by key, and lists (``sites``, ``groups``) replace the
base's list whole. Text that comes from no folder (an upload to the app) is read with
:func:`scenario_from_text`, and may extend a preset only. Every way in ends in
:func:`~coprod_sim.scenario.schema.validate`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from coprod_sim.errors import Problem, ScenarioError
from coprod_sim.limits import MAX_EXTENDS, TooDeepError, loads_toml
from coprod_sim.scenario.schema import Scenario, validate


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    files = resources.files("coprod_sim.presets").iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def preset_summary(name: str) -> str:
    """The one-line description of a preset."""
    return load_scenario(name).description.strip().splitlines()[0]


def _read_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict, str]:
    """Raw data of a preset or TOML file, with ``extends`` resolved."""
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if text_name in preset_names():
        source = f"preset {text_name!r}"
        text = resources.files("coprod_sim.presets").joinpath(f"{text_name}.toml").read_text()
        base_dir = None
    elif path.suffix == ".toml" or path.exists():
        source = str(path.resolve())
        if not path.is_file():
            raise ScenarioError(
                [Problem("scenario", text_name, "no such file; give a preset name or a TOML file")]
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(
                [Problem("scenario", text_name, f"cannot be read as a UTF-8 TOML file ({error})")]
            ) from None
        base_dir = path.parent
    else:
        raise ScenarioError(
            [
                Problem(
                    "scenario",
                    text_name,
                    f"is neither a preset nor a .toml file; presets are: "
                    f"{', '.join(preset_names())}",
                )
            ]
        )
    return _parse_raw(text, text_name, source, base_dir, seen)


def _parse_raw(
    text: str, name: str, source: str, base_dir: Path | None, seen: tuple[str, ...] = ()
) -> tuple[dict, str]:
    """Raw data of TOML ``text`` with ``extends`` resolved; ``name`` is what problems call
    the text, and a non-preset ``extends`` is a path relative to ``base_dir``."""
    if source in seen:
        raise ScenarioError([Problem("extends", name, "extends itself (a cycle)")], source)
    if len(seen) >= MAX_EXTENDS:
        # Each file of the chain is a level of recursion: a long chain is refused before
        # it can exhaust the stack (about 500 files did).
        raise ScenarioError(
            [
                Problem(
                    "extends",
                    name,
                    f"is file {len(seen) + 1} of an extends chain; at most {MAX_EXTENDS} "
                    f"files may extend one another (start from {seen[0]})",
                )
            ],
            seen[0],
        )
    try:
        data = loads_toml(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(
            [Problem("(file)", name, f"is not valid TOML: {error}")], source
        ) from None
    except TooDeepError as error:
        raise ScenarioError([Problem("(file)", name, str(error))], source) from None
    base = data.pop("extends", None)
    if base is None:
        return data, source
    if not isinstance(base, str):
        raise ScenarioError([Problem("extends", base, "must be a preset name or a path")], source)
    if base in preset_names():
        base_data, _ = _read_raw(base, (*seen, source))
    elif base_dir is None:
        raise ScenarioError(
            [
                Problem(
                    "extends",
                    base,
                    f"must name a preset here (a path has no folder to start from); presets "
                    f"are: {', '.join(preset_names())}",
                )
            ],
            source,
        )
    else:
        base_data, _ = _read_raw(base_dir / base, (*seen, source))
    return _merge(base_data, data), source


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def scenario_from_text(text: str, name: str) -> Scenario:
    """Read a scenario from TOML ``text`` that came from outside a folder (an upload): it may
    ``extends`` a preset, and every problem calls the text ``name``."""
    data, source = _parse_raw(text, name, name, None)
    return validate(data, source)


def load_scenario(
    name_or_path: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()
) -> Scenario:
    """Load a preset (by name) or a TOML file, apply overrides, and validate."""
    data, source = _read_raw(name_or_path)
    scenario = validate(data, source)
    # Overrides apply to the resolved scenario, so they can reach defaults the file left out.
    return scenario.with_overrides(overrides) if overrides else scenario
