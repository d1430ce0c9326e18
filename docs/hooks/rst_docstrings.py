"""A griffe extension for the API reference: the package's docstrings are written in reST
(Sphinx roles, simple tables, ``::`` before a literal block); mkdocstrings renders Markdown.

Only the rendering is changed, never the docstrings in the code:

* a role (``:class:`~coprod_sim.errors.ScenarioError```, ``:func:`x```, ``:math:`\\tau```)
  becomes inline code (``ScenarioError``, ``x``, ``\\tau``);
* a simple table (its rows between ``====  ====`` rules) becomes a Markdown table, or, where
  its cells do not fit that (a blank line, text across a column's edge), is shown as it is
  written in a monospaced block, rather than read as a Markdown heading;
* ``text::`` before an indented block becomes ``text:`` (the block is code in both);
* a doctest block (``>>>`` lines) is shown as code, not as a quotation.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`]+)`")
RULE = re.compile(r"^[ \t]*=+(?:[ \t]+=+)+[ \t]*$")
LITERAL = re.compile(r"(\S)::[ \t]*$", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _tables(text: str) -> str:
    """Each reST simple table as a Markdown table, or fenced as text: from a rule to the next
    rule that ends a paragraph (the top rule and the one under the header are followed by a
    row)."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        end = None
        if RULE.match(lines[i]):
            ends = (
                j
                for j in range(i + 1, len(lines))
                if RULE.match(lines[j]) and (j + 1 == len(lines) or not lines[j + 1].strip())
            )
            end = next(ends, None)
        if end is None:
            out.append(lines[i])
            i += 1
            continue
        block = lines[i : end + 1]
        indent = min(len(b) - len(b.lstrip()) for b in block if b.strip())
        block = [b[indent:] for b in block]
        out += _markdown_table(block) or ["```text", *block, "```"]
        i = end + 1
    return "\n".join(out)


def _markdown_table(block: list[str]) -> list[str] | None:
    """A simple table as a Markdown table, or None if a cell runs into the next column or the
    table has a blank line (then it is shown as written)."""
    starts = [m.start() for m in re.finditer(r"=+", block[0])]
    rules = [k for k, line in enumerate(block) if RULE.match(line)]
    if any(not line.strip() for line in block):
        return None
    rows: list[list[str]] = []
    header: list[str] | None = None
    for k, line in enumerate(block):
        if k in rules:
            if k == rules[1] and len(rules) == 3:
                header, rows = rows[0] if len(rows) == 1 else None, []
            continue
        # A cell may run into the gap after it (the mechanisms' table does), not to the edge.
        if any(line[start - 1 : start].strip() for start in starts[1:]):
            return None  # text runs across into the next column
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        if rows and not cells[0]:  # a continuation line: more words for the row above
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if len(rules) == 3 and header is None:
        return None

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    head = header or [""] * len(starts)
    return ["", row(head), "|" + "---|" * len(starts), *map(row, rows), ""]


def _doctests(text: str) -> str:
    """Each doctest block (from a ``>>>`` line to the next blank line) fenced as pycon."""
    out, block = [], False
    for line in text.split("\n"):
        if not block and line.lstrip().startswith(">>>"):
            out.append("```pycon")
            block = True
        elif block and not line.strip():
            out.append("```")
            block = False
        out.append(line)
    return "\n".join([*out, "```"] if block else out)


def rst_to_markdown(text: str) -> str:
    return LITERAL.sub(r"\1:", _doctests(_tables(ROLE.sub(_role, text))))


class RstDocstrings(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
