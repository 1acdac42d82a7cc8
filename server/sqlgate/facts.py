"""Derived facts (docs/contract.md "Derived facts" and §2 ``facts``), computed once in Python.

Rego stays declarative: everything that needs a walk over the set in order lives here.

Per statement: ``lock`` (the PostgreSQL lock mode the statement takes on its table, per
the "Explicit Locking" and ALTER TABLE pages of the PostgreSQL docs; null for MySQL and
for statements that lock no existing table, e.g. CREATE TABLE), ``table_created_in_set``
(an earlier statement of the set created the target table: resolved against the
``search_path`` in force, and never by ``CREATE TABLE IF NOT EXISTS`` unless a catalog
shows the table absent — see ``_created_by``), ``lock_timeout_set`` (a
non-zero ``lock_timeout`` is in force: SET, or SET LOCAL until the transaction ends;
``SET lock_timeout = 0``/DEFAULT/RESET switch it off) and ``table_exists`` (null without a
catalog) and ``identifiers`` (Unicode facts about every name the statement uses: NFC,
scripts, invisible characters; see ``sqlgate.identifiers``).

Set level: ``tables_created`` and ``indexes`` after the set = catalog indexes + created
(explicit, and implicit from PRIMARY KEY/UNIQUE, and in MySQL the index InnoDB creates for
a foreign key without one) − dropped (DROP INDEX, DROP TABLE, DROP CONSTRAINT), and
``tables``: every table known after the set with where it came from.

Context files (already applied, ``context``) are replayed into the model but create
nothing "in the set": a table or index they create is existing (source ``context``),
like one the catalog shows (source ``catalog``); only pending files' creations are
``pending`` and count for ``table_created_in_set``. A table the catalog or the context
shows as existing stays existing whatever a pending ``CREATE TABLE [IF NOT EXISTS]``
says, until the set drops it.

Catalog shape, read tolerantly (missing keys are empty; other keys ignored):
``{"tables": [{"schema": "public", "name": "users", "indexes": [{"name", "columns",
"unique"}]}]}``. Names compare with the PostgreSQL default schema ``public`` optional.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlgate import model as m
from sqlgate.identifiers import identifiers_of
from sqlgate.search_path import SearchPath

AE, SRE, SHARE, SUE, RE_, AS = (
    "ACCESS EXCLUSIVE",
    "SHARE ROW EXCLUSIVE",
    "SHARE",
    "SHARE UPDATE EXCLUSIVE",
    "ROW EXCLUSIVE",
    "ACCESS SHARE",
)
_LOCKS: dict[str, str] = {
    "drop_table": AE,
    "truncate": AE,
    "rename_table": AE,
    "add_column": AE,
    "drop_column": AE,
    "rename_column": AE,
    "alter_column_type": AE,
    "set_not_null": AE,
    "drop_not_null": AE,
    "set_default": AE,
    "drop_default": AE,
    "add_constraint": AE,
    "drop_constraint": AE,
    "rename_constraint": AE,
    "alter_table_other": AE,
    "add_foreign_key": SRE,
    "create_trigger": SRE,
    "validate_constraint": SUE,
    "create_index": SHARE,
    "drop_index": AE,
    "reindex": SHARE,
    "update": RE_,
    "delete": RE_,
    "insert": RE_,
    "select": AS,
    "analyze": SUE,
    "cluster": AE,
}
# ALTER TABLE forms documented with a weaker lock than ACCESS EXCLUSIVE.
_WEAKER_ALTER = {
    "AT_SetStatistics": SUE,
    "AT_SetRelOptions": SUE,
    "AT_ResetRelOptions": SUE,
    "AT_ClusterOn": SUE,
    "AT_DropCluster": SUE,
    "AT_EnableTrig": SRE,
    "AT_DisableTrig": SRE,
    "AT_EnableAlwaysTrig": SRE,
    "AT_EnableReplicaTrig": SRE,
    "AT_EnableTrigAll": SRE,
    "AT_DisableTrigAll": SRE,
    "AT_EnableTrigUser": SRE,
    "AT_DisableTrigUser": SRE,
}
_ZERO = re.compile(r"^\s*'?0+\s*(ms|s|min|h|d)?'?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class IndexFact:
    name: str | None
    table: str
    columns: tuple[str, ...]
    unique: bool
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "columns": list(self.columns),
            "unique": self.unique,
            "source": self.source,
        }


@dataclass(frozen=True)
class SetFacts:
    """Statements with ``facts`` filled in, plus the set-level facts."""

    statements: list[m.Statement]
    tables_created: list[str] = field(default_factory=list)
    indexes: list[IndexFact] = field(default_factory=list)
    # Every table known after the set: {"name", "source": catalog|context|pending}.
    tables: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``facts`` object of the policy input (contract §2)."""
        return {
            "tables_created": list(self.tables_created),
            "indexes": [i.to_json() for i in self.indexes],
            "tables": [dict(t) for t in self.tables],
        }


def norm(name: str) -> str:
    """Compare ``public.users`` and ``users`` as the same table."""
    return name.removeprefix("public.")


def _target(s: m.Statement, indexes: _Indexes) -> tuple[str, ...]:
    table = getattr(s, "table", None)
    if isinstance(table, str):
        return (table,)
    if isinstance(s, (m.DropTable, m.Truncate, m.LockTable, m.Vacuum, m.Analyze)):
        return s.tables
    if isinstance(s, m.DropIndex):
        found = (indexes.table_of(n) for n in s.names)
        return tuple(t for t in found if t is not None)
    return ()


def _lock(s: m.Statement, dialect: str) -> str | None:
    if dialect != "postgres":
        return None
    if isinstance(s, m.CreateIndex) and s.concurrently:
        return SUE
    if isinstance(s, m.DropIndex) and s.concurrently:
        return SUE
    if isinstance(s, m.Reindex) and s.concurrently:
        return SUE
    if isinstance(s, m.AlterTableOther) and s.subtype in _WEAKER_ALTER:
        return _WEAKER_ALTER[s.subtype]
    if isinstance(s, m.Copy):
        return RE_ if s.direction == "from" else AS
    if isinstance(s, m.LockTable):
        return s.mode
    if isinstance(s, m.Vacuum):
        return AE if s.full else SUE
    if isinstance(s, m.RefreshMaterializedView):
        return "EXCLUSIVE" if s.concurrently else AE
    return _LOCKS.get(s.kind)


def _catalog_tables(catalog: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not catalog:
        return []
    tables = catalog.get("tables")
    return [t for t in tables if isinstance(t, Mapping)] if isinstance(tables, list) else []


def _qualified(t: Mapping[str, Any]) -> str:
    schema, name = t.get("schema"), str(t.get("name", ""))
    return norm(f"{schema}.{name}" if schema else name)


def _implicit(table: str, ctype: str, name: str | None, cols: Sequence[str]) -> IndexFact | None:
    if ctype == "primary_key":
        return IndexFact(name or f"{table}_pkey", table, tuple(cols), True, "set")
    if ctype == "unique":
        return IndexFact(name or f"{table}_{'_'.join(cols)}_key", table, tuple(cols), True, "set")
    if ctype == "index":
        return IndexFact(name, table, tuple(cols), False, "set")
    return None


class _Indexes:
    """The indexes known at a point of the walk, in the order they became known.

    Looked up by table and by name through side maps, so dropping, renaming and
    covering cost the indexes concerned, not every index so far (a list scan per
    statement made ``derive`` quadratic on 10k+ statement sets).
    """

    def __init__(self, catalog_tables: Iterable[Mapping[str, Any]]) -> None:
        self._items: dict[int, IndexFact] = {}
        self._by_table: dict[str, dict[int, None]] = {}
        self._by_name: dict[str, dict[int, None]] = {}
        self._serial = 0
        for t in catalog_tables:
            for ix in t.get("indexes") or ():
                if isinstance(ix, Mapping):
                    cols = tuple(str(c) for c in ix.get("columns") or ())
                    name = ix.get("name")
                    self._put(
                        IndexFact(
                            str(name) if name else None,
                            _qualified(t),
                            cols,
                            bool(ix.get("unique")),
                            "catalog",
                        )
                    )

    @property
    def items(self) -> list[IndexFact]:
        return list(self._items.values())

    def _put(self, ix: IndexFact) -> None:
        self._serial += 1
        self._items[self._serial] = ix
        self._by_table.setdefault(ix.table, {})[self._serial] = None
        if ix.name:
            self._by_name.setdefault(norm(ix.name), {})[self._serial] = None

    def _remove(self, serial: int) -> None:
        ix = self._items.pop(serial)
        self._by_table.get(ix.table, {}).pop(serial, None)
        if ix.name:
            self._by_name.get(norm(ix.name), {}).pop(serial, None)

    # Where indexes added now come from: "pending" or "context" (set by derive).
    source = "pending"

    def add(self, ix: IndexFact | None) -> None:
        if ix is not None:
            source = self.source if ix.source == "set" else ix.source
            self._put(dataclasses.replace(ix, table=norm(ix.table), source=source))

    def drop_named(self, name: str, table: str | None = None) -> None:
        for serial in list(self._by_name.get(norm(name), ())):
            if table is None or self._items[serial].table == table:
                self._remove(serial)

    def drop_table(self, table: str) -> None:
        for serial in list(self._by_table.get(table, ())):
            self._remove(serial)

    def rename_table(self, old: str, new: str) -> None:
        moved = self._by_table.pop(old, {})
        target = self._by_table.setdefault(new, {})
        for serial in moved:
            self._items[serial] = dataclasses.replace(self._items[serial], table=new)
            target[serial] = None

    def covers(self, table: str, cols: Sequence[str]) -> bool:
        n = len(cols)
        wanted = tuple(cols)
        return any(self._items[s].columns[:n] == wanted for s in self._by_table.get(table, ()))

    def table_of(self, name: str) -> str | None:
        """The table of the most recent index called ``name`` (None if there is none)."""
        serials = self._by_name.get(norm(name))
        return self._items[next(reversed(serials))].table if serials else None


class _Created:
    """Tables created so far in the set, in creation order (``tables_created``).

    Membership is tested for every statement (a list made this quadratic), and a
    rename keeps the table's place without rebuilding the whole set.
    """

    def __init__(self) -> None:
        self._position: dict[str, int] = {}
        self._next = 0

    def __contains__(self, table: object) -> bool:
        return table in self._position

    def add(self, table: str) -> None:
        if table not in self._position:
            self._position[table] = self._next
            self._next += 1

    def discard(self, table: str) -> None:
        self._position.pop(table, None)

    def rename(self, old: str, new: str) -> None:
        """``new`` takes the earlier of the two places (as an ordered set rebuilt with
        ``new`` in place of ``old`` would)."""
        if old in self._position:
            place = self._position.pop(old)
            if self._position.get(new, place) >= place:
                self._position[new] = place

    def ordered(self) -> list[str]:
        return sorted(self._position, key=self._position.__getitem__)


def derive(
    statements: Sequence[m.Statement],
    *,
    catalog: Mapping[str, Any] | None = None,
    dialect: str = "postgres",
    context: frozenset[str] = frozenset(),
) -> SetFacts:
    """Fill every statement's ``facts`` and compute the set-level facts, in one ordered walk.

    ``context``: paths of files already applied (see the module docstring)."""
    cat_tables = _catalog_tables(catalog)
    existing: set[str] | None = {_qualified(t) for t in cat_tables} if catalog else None
    # Tables that exist before the pending change, with their origin.
    present: dict[str, str] = {t: "catalog" for t in existing or ()}
    indexes = _Indexes(cat_tables)
    created = _Created()
    search_path = SearchPath()
    timeout_session = timeout_local = False
    stmt_timeout = (False, False)  # statement_timeout in force: (session, SET LOCAL)
    out: list[m.Statement] = []
    for s in statements:
        indexes.source = "context" if s.file in context else "pending"
        named = _target(s, indexes)
        targets = tuple(norm(t) for t in named)
        # Resolved against the search_path in force; None (unknowable) is not "created".
        resolved = [search_path.resolve(t) for t in named]
        facts: dict[str, Any] = {
            "lock": _lock(s, dialect),
            "table_created_in_set": bool(resolved) and all(r in created for r in resolved),
            "lock_timeout_set": timeout_session or timeout_local,
            "statement_timeout_set": any(stmt_timeout),
            "table_exists": (
                None
                if existing is None or not targets
                else all(t in present or t in created for t in targets)
            ),
            "identifiers": identifiers_of(s),
        }
        out.append(dataclasses.replace(s, facts=facts))
        # Effects of this statement on the state seen by later ones.
        new_table = search_path.resolve(s.table) if isinstance(s, m.CreateTable) else None
        before = (new_table, new_table in created, new_table in present)
        _created_by(s, created, search_path, existing)
        search_path.after(s)
        if isinstance(s, m.Set) and s.scope == "session" and s.name in ("lock_timeout", "all"):
            on = s.name == "lock_timeout" and s.value is not None and not _ZERO.match(s.value)
            if s.local:
                timeout_local = on
            else:
                timeout_session, timeout_local = on, on and timeout_local
        elif isinstance(s, m.Transaction) and s.action in ("commit", "rollback"):
            timeout_local = False
        if _session_scoped(s):
            stmt_timeout = _timeout_after(s, "statement_timeout", *stmt_timeout)
        if not _index_may_exist(s, indexes, facts["table_created_in_set"], existing is not None):
            _effects(s, indexes, created, dialect)
        _origins(s, present, created, before, in_context=s.file in context)
        indexes.source = "pending"
    pending = created.ordered()
    tables = [{"name": t, "source": src} for t, src in present.items()]
    tables += [{"name": t, "source": "pending"} for t in pending if t not in present]
    return SetFacts(statements=out, tables_created=pending, indexes=indexes.items, tables=tables)


def _origins(
    s: m.Statement,
    present: dict[str, str],
    created: _Created,
    before: tuple[str | None, bool, bool],
    *,
    in_context: bool,
) -> None:
    """After ``s``'s effects: keep ``present`` (existing tables and their origin).

    ``before`` is (the CREATE TABLE's resolved name, whether it was created in the set,
    whether it existed) as seen before ``s``. A context file's creations become existing
    (``context``), not created in the set; a pending CREATE TABLE of a table that
    already exists (catalog, context) creates nothing."""
    table, was_created, existed = before
    if isinstance(s, m.DropTable):
        for t in s.tables:
            present.pop(norm(t), None)
    elif isinstance(s, m.RenameTable) and norm(s.table) in present:
        old, new = norm(s.table), norm(s.new_name)
        if "." in old and "." not in new:
            new = f"{old.rsplit('.', 1)[0]}.{new}"
        present[new] = present.pop(old)
    if table is None or was_created or table not in created:
        return
    if existed:
        created.discard(table)
    elif in_context:
        created.discard(table)
        present[table] = "context"


def _timeout_after(s: m.Statement, name: str, session: bool, local: bool) -> tuple[bool, bool]:
    """(session, local) state of the timeout setting ``name`` once ``s`` has run."""
    if isinstance(s, m.Set) and s.name in (name, "all"):
        on = s.name == name and s.value is not None and not _ZERO.match(s.value)
        return (session, on) if s.local else (on, on and local)
    if isinstance(s, m.Transaction) and s.action in ("commit", "rollback"):
        return session, False
    return session, local


def _session_scoped(s: m.Statement) -> bool:
    """False for a setting that is not the session's: ALTER ROLE/DATABASE ... SET, a
    function's SET clause."""
    return not isinstance(s, m.Set) or s.scope == "session"


def _index_may_exist(
    s: m.Statement, indexes: _Indexes, table_created: bool, has_catalog: bool
) -> bool:
    """``CREATE INDEX IF NOT EXISTS name`` does nothing when ``name`` exists: it adds no
    index unless nothing of that name is known and the table is new or a catalog shows
    the name free."""
    if not isinstance(s, m.CreateIndex) or not s.if_not_exists or not s.name:
        return False
    if indexes.table_of(s.name) is not None:
        return True
    return not (table_created or has_catalog)


def _created_by(
    s: m.Statement, created: _Created, path: SearchPath, existing: set[str] | None
) -> None:
    """Tables the set creates, as resolved names (``schema.name``, ``public.`` dropped).

    ``CREATE TABLE IF NOT EXISTS t`` may find ``t`` already there and do nothing: it
    counts as created only when a catalog says ``t`` does not exist. A name that cannot
    be resolved (search_path) is not recorded: later statements on it are on an
    existing table (fail closed).
    """
    if isinstance(s, m.CreateTable):
        table = path.resolve(s.table)
        if table is None or (s.if_not_exists and (existing is None or table in existing)):
            return
        created.add(table)
    elif isinstance(s, m.DropTable):
        for t in s.tables:
            r = path.resolve(t)
            if r is not None:
                created.discard(r)
    elif isinstance(s, m.RenameTable):
        old, new = path.resolve(s.table), s.new_name
        if old is None:
            return
        if "." in old and "." not in new:
            new = f"{old.rsplit('.', 1)[0]}.{new}"
        created.rename(old, norm(new))


def _effects(s: m.Statement, indexes: _Indexes, created: _Created, dialect: str) -> None:
    if isinstance(s, m.CreateTable):
        table = norm(s.table)
        for c in s.constraints:
            indexes.add(_implicit(table, c.constraint_type, c.name, c.columns))
        if dialect == "mysql":
            for fk in s.foreign_keys:
                if not indexes.covers(table, fk.columns):
                    indexes.add(IndexFact(fk.name, table, fk.columns, False, "set"))
    elif isinstance(s, m.CreateIndex):
        indexes.add(IndexFact(s.name, norm(s.table), s.columns, s.unique, "set"))
    elif isinstance(s, m.AddConstraint):
        indexes.add(_implicit(norm(s.table), s.constraint_type, s.name, s.columns))
    elif isinstance(s, m.AddForeignKey) and dialect == "mysql":
        if not indexes.covers(norm(s.table), s.columns):
            indexes.add(IndexFact(s.name, norm(s.table), s.columns, False, "set"))
    elif isinstance(s, m.DropIndex):
        for n in s.names:
            indexes.drop_named(n, norm(s.table) if s.table else None)
    elif isinstance(s, m.DropConstraint):
        indexes.drop_named(s.name, norm(s.table))
    elif isinstance(s, m.DropTable):
        for t in s.tables:
            indexes.drop_table(norm(t))
    elif isinstance(s, m.RenameTable):
        old, new = norm(s.table), norm(s.new_name)
        if "." in old and "." not in new:
            new = f"{old.rsplit('.', 1)[0]}.{new}"
        indexes.rename_table(old, new)
