"""Migration tools' in-file formats: the Up section is what runs (stdlib only).

goose (``-- +goose Up`` / ``Down``, ``StatementBegin``/``StatementEnd``, ``NO
TRANSACTION``), sql-migrate (``-- +migrate Up`` / ``Down [notransaction]``,
``StatementBegin``/``StatementEnd``) and dbmate (``-- migrate:up`` / ``migrate:down``,
``transaction:false``) keep the forward change and its rollback in one file.

``up_section`` returns the file's text with everything outside the Up section blanked
(every character but newlines replaced by a space), so offsets, lines and columns are
those of the file, and with a ``;`` written over a ``StatementEnd`` annotation that
closes a statement without one (goose runs the block as one statement). The server's
parser and the runner both read this text, so what is reviewed is exactly what runs;
the Down section is the file's rollback, never reviewed as a forward change. Text
before the first direction annotation stays in (reviewed and run: refusing to look at
it would let it slip past review). A file without annotations is returned unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GOOSE = re.compile(
    r"^[ \t]*--[ \t]*\+goose[ \t]+"
    r"(?P<what>Up|Down|StatementBegin|StatementEnd|NO[ \t]+TRANSACTION)\b",
    re.IGNORECASE,
)
_SQL_MIGRATE = re.compile(
    r"^[ \t]*--[ \t]*\+migrate[ \t]+(?P<what>Up|Down|StatementBegin|StatementEnd)\b"
    r"(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
_DBMATE = re.compile(r"^[ \t]*--[ \t]*migrate:(?P<what>up|down)\b(?P<rest>[^\n]*)", re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*$")


@dataclass(frozen=True)
class ToolFile:
    """A migration file as its tool runs it."""

    tool: str | None  # "goose", "sql-migrate", "dbmate"; None: a plain SQL file
    text: str  # the Up section, positions as in the file (see the module docstring)
    has_down: bool = False  # a Down section with SQL in it: the file's rollback
    # The tool runs the Up section in a transaction (None: no tool, unknown).
    transaction: bool | None = None


def _annotation(line: str) -> tuple[str, str, str] | None:
    """(tool, what, rest) for an annotation line."""
    if m := _GOOSE.match(line):
        return "goose", re.sub(r"\s+", " ", m.group("what").lower()), ""
    if m := _SQL_MIGRATE.match(line):
        return "sql-migrate", m.group("what").lower(), m.group("rest").lower()
    if m := _DBMATE.match(line):
        return "dbmate", m.group("what").lower(), m.group("rest").lower()
    return None


def _blank(line: str) -> str:
    return re.sub(r"[^\n]", " ", line)


def _ends_statement(block: list[str]) -> bool:
    """The block's SQL ends with ``;`` (trailing blank and ``--`` comment lines ignored)."""
    text = "".join(block)
    stripped = _LINE_COMMENT.sub("", text.rstrip())
    while stripped != text:
        text = stripped.rstrip()
        stripped = _LINE_COMMENT.sub("", text).rstrip()
    return stripped.rstrip().endswith(";") or not stripped.strip()


def up_section(text: str) -> ToolFile:
    """The Up section of ``text`` and what the tool's annotations say (module docstring)."""
    lines = text.splitlines(keepends=True)
    found = [_annotation(line) for line in lines]
    tools = {a[0] for a in found if a is not None}
    if not tools:
        return ToolFile(tool=None, text=text)
    tool = sorted(tools)[0] if len(tools) == 1 else "mixed"
    out: list[str] = []
    direction = "up"
    has_down = False
    transaction = True
    block: list[str] | None = None
    for line, ann in zip(lines, found, strict=True):
        what = ann[1] if ann else None
        rest = ann[2] if ann else ""
        if what == "no transaction":
            transaction = False
        if what in ("up", "down"):
            direction = what
            if what == "up" and ("notransaction" in rest or "transaction:false" in rest):
                transaction = False
            out.append(line)
            block = None
            continue
        if direction == "down":
            if ann is None and line.strip() and not line.lstrip().startswith("--"):
                has_down = True
            out.append(_blank(line))
            continue
        if what == "statementbegin":
            block = []
            out.append(line)
            continue
        if what == "statementend" and block is not None:
            body = line.rstrip("\r\n")
            if not _ends_statement(block):  # goose ends the statement here: so do we
                body = ";" + " " * (len(body) - 1)
            block = None
            out.append(body + line[len(body) :])
            continue
        if block is not None:
            block.append(line)
        out.append(line)
    return ToolFile(tool=tool, text="".join(out), has_down=has_down, transaction=transaction)
