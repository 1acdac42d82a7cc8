"""The runner's session: the settings the review assumed, and proof of which database.

The reviewer lexes with PostgreSQL's defaults (``standard_conforming_strings = on``,
...: ``LEXING_SETTINGS``). A database or role default (``ALTER DATABASE ... SET``), a
DSN ``options`` or ``PGOPTIONS`` may say otherwise, so the runner sets each of them on
its session after connecting and reads them back; a value that does not stick is
refused (SessionSettingsRefused, 25). While applying, ``check`` re-reads them after
every statement: a statement that changed one (``SET``, ``SET LOCAL``,
``set_config(...)``) stops the run before anything else is lexed under it.

A verdict for a target the server reads through a DSN binds that database's identity
(system identifier + name); ``prove_target`` refuses any other database (27).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import psycopg
from psycopg import sql

from sqlgate_client.runner.errors import BindingMismatch, SessionSettingsRefused, WrongDatabase
from sqlgate_client.trust.binding import LEXING_SETTINGS, Binding, TargetIdentity

Connection = psycopg.Connection[tuple[object, ...]]


def _read(conn: Connection, names: list[str]) -> dict[str, str]:
    query = sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(sql.SQL("current_setting({})").format(sql.Literal(n)) for n in names)
    )
    row = conn.execute(query).fetchone()
    assert row is not None
    return {n: str(v) for n, v in zip(names, row, strict=True)}


def pin(conn: Connection, settings: Mapping[str, str]) -> None:
    """Set each setting on the session and verify it holds; SessionSettingsRefused if not."""
    if dict(settings) != dict(LEXING_SETTINGS):
        raise BindingMismatch(
            f"the verdict assumes session settings {dict(settings)}, this runner pins "
            f"{dict(LEXING_SETTINGS)}"
        )
    try:
        for name, value in settings.items():
            conn.execute(
                sql.SQL("SELECT set_config({}, {}, false)").format(
                    sql.Literal(name), sql.Literal(value)
                )
            )
    except psycopg.Error as exc:
        raise SessionSettingsRefused(f"cannot set the reviewed session settings: {exc}") from exc
    check(conn, settings, "after connecting")


def check(conn: Connection, settings: Mapping[str, str], where: str) -> None:
    """SessionSettingsRefused naming every setting that is not what the review assumed."""
    found = _read(conn, sorted(settings))
    wrong = {n: v for n, v in found.items() if v != settings[n]}
    if wrong:
        raise SessionSettingsRefused(
            f"session settings differ from the reviewed ones {where}: "
            + ", ".join(f"{n}={v!r} (reviewed under {settings[n]!r})" for n, v in wrong.items())
        )


def _major(version: str) -> int | None:
    m = re.search(r"\d+", version)
    if m is None:
        return None
    number = int(m.group(0))
    return number // 10000 if number >= 1000 else number


def check_server_version(conn: Connection, binding: Binding) -> None:
    """The server's major version is the one the review assumed (when it assumed one)."""
    if binding.server_version is None:
        return
    assumed = _major(binding.server_version)
    actual = conn.info.server_version // 10000
    if assumed != actual:
        raise BindingMismatch(
            f"the review assumed PostgreSQL {binding.server_version}, the target runs "
            f"{actual}: check again against this server version"
        )


def prove_target(conn: Connection, identity: TargetIdentity | None) -> None:
    """The connected database is the bound one (when the verdict binds one)."""
    if identity is None:
        return
    try:
        row = conn.execute(
            "SELECT system_identifier::text, current_database() FROM pg_control_system()"
        ).fetchone()
    except psycopg.Error as exc:
        raise WrongDatabase(f"cannot read this database's identity to prove it: {exc}") from exc
    found = TargetIdentity(str(row[0]), str(row[1])) if row is not None else None
    if found != identity:
        raise WrongDatabase(
            f"connected to {found}, but the verdict was reviewed for {identity}: "
            "refusing to apply to another database"
        )
