"""Errors for bad input, each naming the field, the value given and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was given, what is allowed."""

    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        return f"{self.field} = {_show(self.value)}: {self.allowed}"


class InputError(ValueError):
    """Input that cannot be used: a scenario, a spec, a results folder, an executor.

    ``problems`` lists every problem found, not just the first, so that a user can
    mend a file in one pass; ``source`` names where the input came from (a file,
    ``overrides``). The subclasses differ only in what they name in the message
    (``kind``): catch ``InputError`` to refuse any bad input.
    """

    kind = "input"

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        head = f"invalid {self.kind}{f' ({self.source})' if self.source else ''}"
        lines = [f"{head}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ScenarioError(InputError):
    """A scenario (or an override of one) that cannot be run."""

    kind = "scenario"


class SpecError(InputError):
    """An experiment spec that cannot be run (its factors, design, outcomes)."""

    kind = "experiment"


class CalibrationError(InputError):
    """A calibration spec that cannot be run (its parameters, targets, schedule, budget)."""

    kind = "calibration"


class PlanError(InputError):
    """A plan that cannot be run (its designs, costs, targets, context or decision rule)."""

    kind = "plan"


class DesignError(InputError):
    """An experiment design that cannot be built (reported as part of its spec)."""

    kind = "design"


class FolderError(InputError):
    """A results folder that must not or cannot be written: it holds something else,
    another sweep is writing to it, or it cannot be created."""

    kind = "results folder"


class ExecutorError(InputError):
    """An executor that cannot be used: an unknown kind, or a Dask address that is
    malformed or where no scheduler answers."""

    kind = "executor"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def field_path(loc: Iterable[object]) -> str:
    """Render a pydantic location such as ``('sites', 0, 'patients')`` as ``sites[0].patients``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(scenario)"


def from_validation_error(
    error: ValidationError,
    model_fields: dict[str, Sequence[str]],
    source: str | None = None,
    error_class: type[InputError] | None = None,
) -> InputError:
    """Turn pydantic's errors into :class:`Problem`s a domain reader can act on.

    ``model_fields`` maps the name of each nested table (``""`` for the top
    level) to the fields it accepts, so that an unknown key is answered with
    the allowed keys and the closest match.
    """
    problems = []
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            # The nearest enclosing table the map knows: a list's index or a dict's key
            # (a claim's id, an aspect's name) is skipped to reach the table it is in.
            parent = next(
                (str(p) for p in reversed(loc[:-1]) if isinstance(p, str) and p in model_fields),
                "",
            )
            known = list(model_fields.get(parent, model_fields.get("", ())))
            name = str(loc[-1])
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            allowed = f"unknown field; {hint}allowed fields are: {', '.join(sorted(known))}"
            problems.append(Problem(field_path(loc), value, allowed))
            continue
        nested = (err.get("ctx") or {}).get("error")
        if isinstance(getattr(nested, "problems", None), list):
            problems.extend(nested.problems)  # cross-field problems, already named
            continue
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        message = message.replace("Input should be", "must be")
        problems.append(Problem(field_path(loc), value, message))
    return (error_class or ScenarioError)(problems, source)
