"""Dotted overrides of a scenario, such as ``coprod run --set KEY=VALUE``.

A dotted key walks tables by name and lists of tables by index or by the entry's ``name``
(``sites.Jamaica.patients`` or ``sites.0.patients``); a value is read as a TOML literal.
Nothing here knows the scenario's fields: :func:`~coprod_sim.scenario.schema.apply_overrides`
and :meth:`Scenario.with_overrides <coprod_sim.scenario.schema.Scenario.with_overrides>` pass
them in, so that the models can offer overrides without this module importing them back.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from coprod_sim.errors import Problem, ScenarioError
from coprod_sim.limits import TooDeepError, loads_toml


def parse_value(text: str) -> Any:
    """Read an override value as a TOML literal (``4``, ``0.3``, ``true``, ``"deliberate"``,
    ``[1, 2]``); a bare word that is not TOML is taken as a string, and ``none`` unsets an
    optional field (``crisis_week=none``)."""
    if text.strip().lower() == "none":
        return None
    try:
        return loads_toml(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except TooDeepError as error:
        raise ScenarioError([Problem("--set", text, str(error))], "overrides") from None


def _parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(
                [Problem("--set", item, "must be written KEY=VALUE, e.g. power_sharing=4")]
            )
        out[key.strip()] = parse_value(value.strip())
    return out


def set_dotted_keys(
    data: dict[str, Any], overrides: Mapping[str, Any] | Iterable[str], fields: Collection[str]
) -> None:
    """Set dotted keys in raw data, in place, or raise :class:`ScenarioError` naming each bad key.

    A key of one part must be one of ``fields`` (the top-level fields); a longer key walks
    tables by name and lists of tables by index or by the entry's ``name``.
    """
    if not isinstance(overrides, Mapping):
        overrides = _parse_assignments(overrides)
    problems = []
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        try:
            for depth, part in enumerate(parts[:-1]):
                node = _child(node, part, ".".join(parts[: depth + 1]))
            last = parts[-1]
            if isinstance(node, list):
                raise LookupError(f"{key}: names a whole entry; name a field inside it")
            if not isinstance(node, dict):
                raise LookupError(f"{'.'.join(parts[:-1])} is not a table")
            if len(parts) == 1 and last not in fields:
                raise LookupError("unknown")
            node[last] = value
        except LookupError as error:
            if str(error) == "unknown":
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                allowed = f"unknown field; {hint}allowed fields are: {', '.join(sorted(fields))}"
            else:
                allowed = str(error)
            problems.append(Problem(key, value, allowed))
    if problems:
        raise ScenarioError(problems, "overrides")


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return node[int(part)]
        for entry in node:
            if isinstance(entry, dict) and entry.get("name") == part:
                return entry
        names = [str(e.get("name")) for e in node if isinstance(e, dict)]
        raise LookupError(
            f"{path}: no entry {part!r}; use an index 0..{len(node) - 1} or one of: "
            f"{', '.join(names)}"
        )
    if isinstance(node, dict):
        if part not in node:
            raise LookupError(f"{path}: no such table or field")
        return node[part]
    raise LookupError(f"{path}: is not a table")
