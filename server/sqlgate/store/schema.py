"""Ordered, idempotent schema migrations for each backend.

Version N's statements are applied, together with the bump of ``schema_version`` to N, in
one transaction taken under the backend's migration lock, so two processes opening the
same database at once neither race nor leave a half-applied version behind. Statements
use ``IF NOT EXISTS`` so re-running a version is harmless. Timestamps are integer
microseconds since the epoch (UTC); JSON is kept as canonical text so the audit chain
re-hashes exactly what was written.
"""

from __future__ import annotations

from typing import Final

_TYPES: Final = {
    "sqlite": {"ts": "INTEGER", "int": "INTEGER", "bool": "INTEGER", "bytes": "BLOB"},
    "postgres": {"ts": "BIGINT", "int": "BIGINT", "bool": "BOOLEAN", "bytes": "BYTEA"},
}

_V1: Final = (
    """CREATE TABLE IF NOT EXISTS verdicts (
        verdict_id TEXT PRIMARY KEY,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        environment TEXT NOT NULL,
        target TEXT NOT NULL,
        repo TEXT NOT NULL,
        commit_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        policy_digest TEXT NOT NULL,
        digests TEXT NOT NULL,
        author TEXT NOT NULL,
        envelope {bytes} NOT NULL,
        supersedes TEXT UNIQUE REFERENCES verdicts (verdict_id)
    )""",
    """CREATE TABLE IF NOT EXISTS approvals (
        approval_id TEXT PRIMARY KEY,
        verdict_id TEXT NOT NULL REFERENCES verdicts (verdict_id),
        principal TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL,
        break_glass {bool} NOT NULL,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        digests TEXT NOT NULL,
        consumed_at {ts}
    )""",
    """CREATE TABLE IF NOT EXISTS tokens (
        jti TEXT PRIMARY KEY,
        verdict_id TEXT NOT NULL REFERENCES verdicts (verdict_id),
        runner TEXT NOT NULL,
        environment TEXT NOT NULL,
        target TEXT NOT NULL,
        issued_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        redeemed_at {ts}
    )""",
    """CREATE TABLE IF NOT EXISTS executions (
        report_id TEXT PRIMARY KEY,
        token_jti TEXT NOT NULL REFERENCES tokens (jti),
        verdict_id TEXT NOT NULL REFERENCES verdicts (verdict_id),
        outcome TEXT NOT NULL,
        details TEXT NOT NULL,
        at {ts} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit_events (
        sequence {int} PRIMARY KEY,
        at {ts} NOT NULL,
        kind TEXT NOT NULL,
        principal TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
)

_V2: Final = (
    """CREATE TABLE IF NOT EXISTS audit_checkpoints (
        sequence {int} PRIMARY KEY,
        hash TEXT NOT NULL,
        at {ts} NOT NULL,
        key_id TEXT NOT NULL,
        signature {bytes} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS approvals_by_verdict ON approvals (verdict_id)",
    "CREATE INDEX IF NOT EXISTS tokens_by_verdict ON tokens (verdict_id)",
)

# Rehearsal evidence (sqlgate-runner rehearse, SubmitRehearsal): looked up by the exact
# ordered digests of a later check, in any environment.
_V3: Final = (
    """CREATE TABLE IF NOT EXISTS rehearsals (
        evidence_id TEXT PRIMARY KEY,
        verdict_id TEXT NOT NULL REFERENCES verdicts (verdict_id),
        environment TEXT NOT NULL,
        target TEXT NOT NULL,
        digests TEXT NOT NULL,
        passed {bool} NOT NULL,
        summary TEXT NOT NULL,
        principal TEXT NOT NULL,
        at {ts} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS rehearsals_by_digests ON rehearsals (digests)",
)

# Append new versions at the end; never edit a released one.
_MIGRATIONS: Final = (_V1, _V2, _V3)

LATEST: Final = len(_MIGRATIONS)

SCHEMA_VERSION_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)"
)


def migrations(backend: str) -> list[tuple[int, list[str]]]:
    """``[(version, statements)]`` in order, rendered for ``backend`` ("sqlite"/"postgres")."""
    types = _TYPES[backend]
    return [
        (number, [stmt.format(**types) for stmt in stmts])
        for number, stmts in enumerate(_MIGRATIONS, start=1)
    ]
