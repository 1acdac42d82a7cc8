"""Which table an unqualified name means: the ``search_path`` in force, statement by statement.

Why: ``SET search_path = other`` (or ``set_config('search_path', ...)``) followed by
``CREATE TABLE users`` creates ``other.users``; a later ``CREATE INDEX ON users`` is on
``other.users`` only while that path is in force. Matching bare names made the index
count as "on a table created in this set" when it was on the existing ``public.users``,
and the locking rules went quiet. Names are resolved to ``schema.name`` with the first
schema of the path; when that cannot be known (``$user`` first under a changed path, an
empty path, a path computed at run time) the name resolves to None, which callers treat
as an existing table (fail closed). The default path keeps ``public`` (``norm``).
"""

from __future__ import annotations

from sqlgate import model as m


def _norm(name: str) -> str:
    return name.removeprefix("public.")


def _parse(value: str | None) -> tuple[str, ...] | None:
    """A SET value as schemas; None for the default path (RESET, DEFAULT)."""
    if value is None:
        return None
    if value == "?":
        return ()
    return tuple(p.strip().strip('"').strip("'") for p in value.split(",") if p.strip())


class SearchPath:
    """The session and SET LOCAL ``search_path``; None means the default path."""

    def __init__(self) -> None:
        self.session: tuple[str, ...] | None = None
        self.local: tuple[str, ...] | None = None
        self.local_set = False

    def after(self, s: m.Statement) -> None:
        """Apply the effect of ``s`` (SET / SET LOCAL / RESET / set_config, COMMIT)."""
        if isinstance(s, m.Set) and s.scope == "session" and s.name in ("search_path", "all"):
            path = _parse(s.value) if s.name == "search_path" else None
            if s.local:
                self.local, self.local_set = path, True
            else:
                self.session, self.local, self.local_set = path, None, False
        elif isinstance(s, m.Transaction) and s.action in ("commit", "rollback"):
            self.local, self.local_set = None, False

    def resolve(self, name: str) -> str | None:
        """``name`` as ``schema.name`` (``public.`` dropped), or None when unknowable."""
        if "." in name:
            return _norm(name)
        path = self.local if self.local_set else self.session
        if path is None:
            return _norm(name)
        first = path[0] if path else ""
        if not first or first == "$user" or first.startswith("pg_"):
            return None
        return _norm(f"{first}.{name}")
