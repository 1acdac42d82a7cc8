"""The scratch database a rehearsal runs in, built from the target's schema.

Built with ``pg_dump --schema-only`` of the target, restored with ``psql`` into a
new, uniquely named database on the scratch server, and dropped afterwards — also
when the rehearsal fails or is interrupted. Why a schema dump and not the others:

- ``CREATE DATABASE ... TEMPLATE target`` needs the target to have no other
  sessions (impossible on a live database) and would copy its data;
- a catalog snapshot (tables and columns) would miss functions, triggers, types,
  extensions and constraints that decide what a migration does;
- the dump is the DDL PostgreSQL itself emits, complete and restorable.

The only thing read from the target besides the schema is the runner's history table
(its rows, so the scratch knows what is already applied and rehearses exactly the
pending migrations) and the catalog's size estimates (reported next to the scratch
data size). Every target session is read-only (``default_transaction_read_only``).
pg_dump takes ACCESS SHARE locks on the tables it dumps for the dump's duration.

pg_dump's major version and the scratch server's must be the target server's major:
a rehearsal on another major version measures another server's behaviour.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from types import TracebackType

import psycopg
from psycopg import sql

from sqlgate_client.runner.errors import DatabaseUnavailable, ScratchFailed

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")
TOOL_TIMEOUT_S = 600.0


def tool_major(tool: str) -> int:
    """Major version of ``pg_dump``/``psql`` from ``--version``; ScratchFailed if absent."""
    path = shutil.which(tool)
    if path is None:
        raise ScratchFailed(f"{tool} not found on PATH (needed to build the scratch database)")
    out = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    m = _VERSION.search(out.stdout)
    if m is None:
        raise ScratchFailed(f"{tool} --version: cannot read a version from {out.stdout!r}")
    return int(m.group(1))


def _connect(dsn: str, what: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=10)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot connect to the {what}: {exc}".strip()) from exc


@dataclass
class TableSize:
    rows: int
    bytes: int


@dataclass
class TargetInfo:
    server_version: int
    tables: dict[str, TableSize] = field(default_factory=dict)
    history_exists: bool = False


def read_target(dsn: str, history_table: str) -> TargetInfo:
    """Server version, catalog size estimates and whether the history table exists."""
    conn = _connect(dsn, "target database")
    with conn:
        conn.execute("SET default_transaction_read_only = on")
        info = TargetInfo(conn.info.server_version)
        for name, rows, size in conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname), greatest(c.reltuples, 0)::bigint,"
            " pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p', 'm')"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchall():
            info.tables[str(name)] = TableSize(int(str(rows)), int(str(size)))
        found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (history_table,)).fetchone()
        info.history_exists = bool(found and found[0])
    return info


def _run(args: list[str], what: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScratchFailed(f"{what}: {exc}") from exc
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise ScratchFailed(f"{what} failed (exit {done.returncode}): {tail}")
    return done.stdout


class Scratch:
    """``with Scratch(...) as s:`` a restored copy of the target's schema at ``s.dsn``."""

    def __init__(
        self,
        *,
        target_dsn: str,
        admin_dsn: str,
        target: TargetInfo,
        history_table: str,
        name_prefix: str = "sqlgate_rehearsal",
    ) -> None:
        self.target_dsn = target_dsn
        self.admin_dsn = admin_dsn
        self.target = target
        self.history_table = history_table
        self.name = f"{name_prefix}_{secrets.token_hex(6)}"
        self.dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=self.name)
        self.created = False
        self.dropped = False
        self.server_version = 0

    def __enter__(self) -> Scratch:
        major = self.target.server_version // 10000
        dump_major = tool_major("pg_dump")
        if dump_major != major:
            raise ScratchFailed(
                f"pg_dump is version {dump_major}, the target server {major}: use the "
                f"pg_dump of PostgreSQL {major} (PATH) so the scratch schema is the target's"
            )
        tool_major("psql")
        admin = _connect(self.admin_dsn, "scratch server")
        with admin:
            self.server_version = admin.info.server_version
            if self.server_version // 10000 != major:
                raise ScratchFailed(
                    f"the scratch server runs PostgreSQL {self.server_version // 10000}, the "
                    f"target {major}: a rehearsal must run on the target's major version"
                )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
            self.created = True
        try:
            self._restore()
        except BaseException:
            self.drop()
            raise
        return self

    def _restore(self) -> None:
        dump = _run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-d", self.target_dsn],
            "pg_dump --schema-only of the target",
        )
        if self.target.history_exists:
            dump += b"\n" + _run(
                [
                    "pg_dump",
                    "--data-only",
                    "--no-owner",
                    "--table",
                    self.history_table,
                    "-d",
                    self.target_dsn,
                ],
                "pg_dump of the target's history table",
            )
        _run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-f", "-"],
            "restoring the target's schema into the scratch database",
            stdin=dump,
        )

    def drop(self) -> None:
        if not self.created or self.dropped:
            return
        admin = _connect(self.admin_dsn, "scratch server")
        with admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self.dropped = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.drop()
