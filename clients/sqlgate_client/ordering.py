"""Order migration files the way the migration tool applies them (stdlib only).

- Flyway: ``V<version>__<desc>.sql`` by numeric version (``1.10`` after ``1.9``; ``_`` also
  separates version parts), then repeatable ``R__<desc>.sql`` after all versioned ones, by
  description. ``U`` (undo) files are rollbacks and are left out.
- golang-migrate: ``<n>_<name>.up.sql`` by number; ``.down.sql`` files are rollbacks and
  are left out.
- anything else: natural order by name (``2_x`` before ``10_x``), by path.

``collect`` expands directories (recursively, ``*.sql`` only); ``order`` sorts a given
list with the same rules (explicitly named files are never dropped by ``order``, except
rollbacks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

_FLYWAY = re.compile(r"^V(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.*)\.sql$", re.IGNORECASE)
_REPEATABLE = re.compile(r"^R__(?P<desc>.*)\.sql$", re.IGNORECASE)
_UNDO = re.compile(r"^U\d+(?:[._]\d+)*__.*\.sql$", re.IGNORECASE)
_GOLANG = re.compile(r"^(?P<n>\d+)_(?P<name>.*)\.(?P<dir>up|down)\.sql$", re.IGNORECASE)
_CHUNK = re.compile(r"(\d+)")

Key = tuple[int, tuple[object, ...], str]


def _natural(text: str) -> tuple[object, ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in _CHUNK.split(text)
        if part
    )


def is_rollback(path: Path) -> bool:
    """golang-migrate ``.down.sql`` and Flyway ``U`` undo migrations are not applied forward."""
    name = path.name
    m = _GOLANG.match(name)
    return bool(m and m.group("dir").lower() == "down") or bool(_UNDO.match(name))


def _key(path: Path) -> Key:
    name = path.name
    if m := _FLYWAY.match(name):
        version = tuple(int(p) for p in re.split(r"[._]", m.group("version")))
        return (0, version, str(path))
    if m := _GOLANG.match(name):
        return (0, (int(m.group("n")),), str(path))
    if m := _REPEATABLE.match(name):
        return (1, _natural(m.group("desc")), str(path))
    return (2, _natural(str(path)), str(path))


def order(paths: Sequence[Path]) -> list[Path]:
    """``paths`` in application order, rollback files removed."""
    return sorted((p for p in paths if not is_rollback(p)), key=_key)


def collect(paths: Sequence[Path]) -> list[Path]:
    """Expand directories to their ``*.sql`` files and return everything in application order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(f for f in p.rglob("*.sql") if f.is_file())
        else:
            found.append(p)
    seen: set[Path] = set()
    unique = [p for p in found if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]
    return order(unique)
