"""The store's operations written once in portable SQL, over a tiny backend interface.

SQLite and PostgreSQL differ only in how a connection is obtained, how writers are
serialised and how driver errors look; everything the trust chain relies on — the single
conditional UPDATE that redeems a token, the idempotent report insert, the audit append
that hashes the previous row inside its own transaction — is here, once. Statements use
``?`` placeholders; the PostgreSQL backend rewrites them to ``%s``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from sqlgate.audit.chain import GENESIS_HASH, canonical_json, event_canonical, event_hash
from sqlgate.errors import (
    AlreadyExecuted,
    AlreadyRedeemed,
    ClaimError,
    Conflict,
    NotFound,
    StoreError,
    TokenExpired,
)
from sqlgate.store import schema
from sqlgate.store.base import (
    ApprovalRecord,
    AuditRecord,
    CheckpointRecord,
    ExecutionRecord,
    RehearsalRecord,
    StoreUnit,
    TokenRecord,
    VerdictRecord,
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_PAGE: Final = 1000

_VERDICT_COLS: Final = (
    "verdict_id, created_at, expires_at, environment, target, repo, commit_id, decision, "
    "policy_digest, digests, author, envelope, supersedes"
)
_APPROVAL_COLS: Final = (
    "approval_id, verdict_id, principal, role, reason, break_glass, created_at, expires_at, "
    "digests, consumed_at"
)
_JTI_COLS: Final = (
    "jti, verdict_id, runner, environment, target, issued_at, expires_at, redeemed_at"
)
_REPORT_COLS: Final = "report_id, token_jti, verdict_id, outcome, details, at"
_AUDIT_COLS: Final = "sequence, at, kind, principal, details, prev_hash, hash"
_CHECKPOINT_COLS: Final = "sequence, hash, at, key_id, signature"

Row = tuple[Any, ...]


class Duplicate(Conflict):
    """A row with that primary or unique key already exists (raised by backends)."""


class Tx(Protocol):
    """One open transaction: run a statement, get all its rows."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...


def to_us(at: datetime) -> int:
    """Microseconds since the epoch; naive datetimes are refused (their zone is a guess)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("store timestamps must be timezone-aware")
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=int(us))


def _ts(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("stored JSON is not an object")
    return value


def _verdict(row: Row) -> VerdictRecord:
    return VerdictRecord(
        verdict_id=row[0],
        created_at=_ts(row[1]),
        expires_at=_ts(row[2]),
        environment=row[3],
        target=row[4],
        repo=row[5],
        commit=row[6],
        decision=row[7],
        policy_digest=row[8],
        digests=_json(row[9]),
        author=row[10],
        envelope=bytes(row[11]),
        supersedes=row[12],
    )


def _approval(row: Row) -> ApprovalRecord:
    return ApprovalRecord(
        approval_id=row[0],
        verdict_id=row[1],
        principal=row[2],
        role=row[3],
        reason=row[4],
        break_glass=bool(row[5]),
        created_at=_ts(row[6]),
        expires_at=_ts(row[7]),
        digests=_json(row[8]),
        consumed_at=from_us(row[9]),
    )


def _token(row: Row) -> TokenRecord:
    return TokenRecord(
        jti=row[0],
        verdict_id=row[1],
        runner=row[2],
        environment=row[3],
        target=row[4],
        issued_at=_ts(row[5]),
        expires_at=_ts(row[6]),
        redeemed_at=from_us(row[7]),
    )


def _report(row: Row) -> ExecutionRecord:
    return ExecutionRecord(
        report_id=row[0],
        token_jti=row[1],
        verdict_id=row[2],
        outcome=row[3],
        details=_json(row[4]),
        at=_ts(row[5]),
    )


def _audit(row: Row) -> AuditRecord:
    return AuditRecord(
        sequence=int(row[0]),
        at=_ts(row[1]),
        kind=row[2],
        principal=row[3],
        details=_json(row[4]),
        prev_hash=row[5],
        hash=row[6],
    )


def _checkpoint(row: Row) -> CheckpointRecord:
    return CheckpointRecord(
        sequence=int(row[0]), hash=row[1], at=_ts(row[2]), key_id=row[3], signature=bytes(row[4])
    )


# --- writes: each takes the open transaction, so a unit of work can combine them -------


def _verdict_conflict(record: VerdictRecord) -> Conflict:
    return Conflict(
        f"verdict {record.verdict_id} already exists (or its predecessor was "
        "superseded concurrently)"
    )


def _put_verdict(tx: Tx, record: VerdictRecord) -> None:
    if record.supersedes is not None:
        old = tx.execute(
            "SELECT verdict_id FROM verdicts WHERE verdict_id = ?", (record.supersedes,)
        )
        if not old:
            raise NotFound(f"superseded verdict {record.supersedes} does not exist")
        taken = tx.execute(
            "SELECT verdict_id FROM verdicts WHERE supersedes = ?", (record.supersedes,)
        )
        if taken:
            raise Conflict(f"verdict {record.supersedes} is already superseded by {taken[0][0]}")
    tx.execute(
        f"INSERT INTO verdicts ({_VERDICT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.verdict_id,
            to_us(record.created_at),
            to_us(record.expires_at),
            record.environment,
            record.target,
            record.repo,
            record.commit,
            record.decision,
            record.policy_digest,
            canonical_json(dict(record.digests)).decode(),
            record.author,
            bytes(record.envelope),
            record.supersedes,
        ),
    )


def _add_approval(tx: Tx, record: ApprovalRecord) -> None:
    if not tx.execute("SELECT verdict_id FROM verdicts WHERE verdict_id = ?", (record.verdict_id,)):
        raise NotFound(f"no verdict {record.verdict_id}")
    tx.execute(
        f"INSERT INTO approvals ({_APPROVAL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.approval_id,
            record.verdict_id,
            record.principal,
            record.role,
            record.reason,
            bool(record.break_glass),
            to_us(record.created_at),
            to_us(record.expires_at),
            canonical_json(dict(record.digests)).decode(),
            None if record.consumed_at is None else to_us(record.consumed_at),
        ),
    )


def _consume_break_glass(tx: Tx, approval_id: str, now: datetime) -> ApprovalRecord:
    now_us = to_us(now)
    rows = tx.execute(
        f"UPDATE approvals SET consumed_at = ? WHERE approval_id = ? "
        "AND break_glass = ? AND consumed_at IS NULL AND expires_at > ? "
        f"RETURNING {_APPROVAL_COLS}",
        (now_us, approval_id, True, now_us),
    )
    if rows:
        return _approval(rows[0])
    found = tx.execute(
        f"SELECT {_APPROVAL_COLS} FROM approvals WHERE approval_id = ?", (approval_id,)
    )
    if not found:
        raise NotFound(f"no approval {approval_id}")
    current = _approval(found[0])
    if not current.break_glass:
        raise Conflict(f"approval {approval_id} is not a break-glass approval")
    if current.consumed_at is not None:
        raise Conflict(f"break-glass approval {approval_id} was already used")
    raise Conflict(f"break-glass approval {approval_id} expired at {current.expires_at}")


def _put_token(tx: Tx, record: TokenRecord) -> None:
    if not tx.execute("SELECT verdict_id FROM verdicts WHERE verdict_id = ?", (record.verdict_id,)):
        raise NotFound(f"no verdict {record.verdict_id}")
    tx.execute(
        f"INSERT INTO tokens ({_JTI_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.jti,
            record.verdict_id,
            record.runner,
            record.environment,
            record.target,
            to_us(record.issued_at),
            to_us(record.expires_at),
            None if record.redeemed_at is None else to_us(record.redeemed_at),
        ),
    )


def nothing_applied(outcome: str, details: Mapping[str, Any]) -> bool:
    """True when a report says its run changed nothing: not ``succeeded``, and every
    statement was skipped, failed without committed rows, or rolled back. A batch chunk
    committed (rows > 0), a statement that succeeded, or an interrupted batch count as
    applied."""
    if outcome == "succeeded":
        return False
    statements = details.get("statements")
    if not isinstance(statements, list):
        return False
    for s in statements:
        if not isinstance(s, dict):
            return False
        state, rows = s.get("outcome"), s.get("rows_affected", -1)
        if state == "skipped":
            continue
        if state == "failed" and isinstance(rows, int) and rows <= 0:
            continue
        if state == "aborted" and s.get("error") == "rolled back":
            continue
        return False
    return True


def _executed_by(tx: Tx, verdict_id: str, except_jti: str = "") -> str | None:
    redeemed = tx.execute(
        "SELECT jti FROM tokens WHERE verdict_id = ? AND redeemed_at IS NOT NULL AND jti <> ? "
        "ORDER BY redeemed_at",
        (verdict_id, except_jti),
    )
    for (jti,) in redeemed:
        reports = tx.execute("SELECT outcome, details FROM executions WHERE token_jti = ?", (jti,))
        if not any(nothing_applied(str(o), _json(str(d))) for o, d in reports):
            return str(jti)
    return None


def _redeem_token(tx: Tx, jti: str, runner: str, now: datetime) -> TokenRecord:
    """One verdict, one execution: refused (AlreadyExecuted) while another token of the
    same verdict was redeemed without a report saying it applied nothing. Callers hold
    the audit lock (units, ``SqlStore.redeem_token``), so the check and the UPDATE are
    not interleaved with another redemption."""
    now_us = to_us(now)
    owner = tx.execute("SELECT verdict_id FROM tokens WHERE jti = ?", (jti,))
    if owner:
        spent = _executed_by(tx, str(owner[0][0]), jti)
        if spent is not None:
            raise AlreadyExecuted(
                f"verdict {owner[0][0]} was already executed with token {spent} (no report "
                "says that run applied nothing): one verdict, one execution; check again"
            )
    rows = tx.execute(
        f"UPDATE tokens SET redeemed_at = ? WHERE jti = ? AND runner = ? "
        f"AND redeemed_at IS NULL AND expires_at > ? RETURNING {_JTI_COLS}",
        (now_us, jti, runner, now_us),
    )
    if rows:
        return _token(rows[0])
    found = tx.execute(f"SELECT {_JTI_COLS} FROM tokens WHERE jti = ?", (jti,))
    if not found:
        raise NotFound(f"no token {jti}")
    current = _token(found[0])
    if current.redeemed_at is not None:
        raise AlreadyRedeemed(f"token {jti} was already redeemed at {current.redeemed_at}")
    if current.runner != runner:
        raise ClaimError(f"token {jti} was issued to runner {current.runner!r}, not {runner!r}")
    raise TokenExpired(f"token {jti} expired at {current.expires_at}")


def _record_report(
    tx: Tx,
    report_id: str,
    *,
    token_jti: str,
    verdict_id: str,
    outcome: str,
    details: Mapping[str, Any],
    at: datetime,
) -> bool:
    details_text = canonical_json(dict(details)).decode()
    token = tx.execute("SELECT verdict_id FROM tokens WHERE jti = ?", (token_jti,))
    if not token:
        raise NotFound(f"no token {token_jti}")
    if token[0][0] != verdict_id:
        raise Conflict(f"token {token_jti} belongs to verdict {token[0][0]}")
    inserted = tx.execute(
        f"INSERT INTO executions ({_REPORT_COLS}) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (report_id) DO NOTHING RETURNING report_id",
        (report_id, token_jti, verdict_id, outcome, details_text, to_us(at)),
    )
    if inserted:
        return True
    existing = tx.execute(
        f"SELECT {_REPORT_COLS} FROM executions WHERE report_id = ?", (report_id,)
    )
    if existing and (existing[0][1], existing[0][2], existing[0][3], existing[0][4]) == (
        token_jti,
        verdict_id,
        outcome,
        details_text,
    ):
        return False
    raise Conflict(f"report {report_id} was already recorded with different content")


_REHEARSAL_COLS = (
    "evidence_id, verdict_id, environment, target, digests, passed, summary, principal, at"
)


def digests_key(digests: tuple[tuple[str, str], ...]) -> str:
    """The canonical text an ordered digest list is stored and looked up by."""
    return canonical_json([[p, d] for p, d in digests]).decode()


def _rehearsal(row: Row) -> RehearsalRecord:
    pairs = json.loads(row[4])
    return RehearsalRecord(
        evidence_id=row[0],
        verdict_id=row[1],
        environment=row[2],
        target=row[3],
        digests=tuple((str(p), str(d)) for p, d in pairs),
        passed=bool(row[5]),
        summary=_json(row[6]),
        principal=row[7],
        at=_ts(row[8]),
    )


def _record_rehearsal(tx: Tx, record: RehearsalRecord) -> bool:
    """Insert once; the same evidence_id again with the same content is a no-op (False)."""
    values = (
        record.evidence_id,
        record.verdict_id,
        record.environment,
        record.target,
        digests_key(record.digests),
        record.passed,
        canonical_json(dict(record.summary)).decode(),
        record.principal,
        to_us(record.at),
    )
    inserted = tx.execute(
        f"INSERT INTO rehearsals ({_REHEARSAL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (evidence_id) DO NOTHING RETURNING evidence_id",
        values,
    )
    if inserted:
        return True
    existing = tx.execute(
        f"SELECT {_REHEARSAL_COLS} FROM rehearsals WHERE evidence_id = ?", (record.evidence_id,)
    )
    if existing and tuple(existing[0][1:5]) == values[1:5] and existing[0][6] == values[6]:
        return False
    raise Conflict(f"rehearsal {record.evidence_id} was already recorded with different content")


def _append_audit(
    tx: Tx, kind: str, principal: str, details: Mapping[str, Any], at: datetime
) -> AuditRecord:
    details_text = canonical_json(dict(details)).decode()
    stored_details = _json(details_text)
    head = tx.execute("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1")
    sequence = int(head[0][0]) + 1 if head else 1
    prev_hash = str(head[0][1]) if head else GENESIS_HASH
    digest = event_hash(prev_hash, event_canonical(sequence, at, kind, principal, stored_details))
    tx.execute(
        f"INSERT INTO audit_events ({_AUDIT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (sequence, to_us(at), kind, principal, details_text, prev_hash, digest),
    )
    return AuditRecord(
        sequence=sequence,
        at=_ts(to_us(at)),
        kind=kind,
        principal=principal,
        details=stored_details,
        prev_hash=prev_hash,
        hash=digest,
    )


class _Unit:
    """The store's writes inside one open transaction (``SqlStore.atomic``): all of them
    commit together or none does, so a state change and its audit event cannot part."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def put_verdict(self, record: VerdictRecord) -> None:
        _put_verdict(self._tx, record)

    def add_approval(self, record: ApprovalRecord) -> None:
        _add_approval(self._tx, record)

    def consume_break_glass(self, approval_id: str, now: datetime) -> ApprovalRecord:
        return _consume_break_glass(self._tx, approval_id, now)

    def put_token(self, record: TokenRecord) -> None:
        _put_token(self._tx, record)

    def redeem_token(self, jti: str, *, runner: str, now: datetime) -> TokenRecord:
        return _redeem_token(self._tx, jti, runner, now)

    def record_report(
        self,
        report_id: str,
        *,
        token_jti: str,
        verdict_id: str,
        outcome: str,
        details: Mapping[str, Any],
        at: datetime,
    ) -> bool:
        return _record_report(
            self._tx,
            report_id,
            token_jti=token_jti,
            verdict_id=verdict_id,
            outcome=outcome,
            details=details,
            at=at,
        )

    def append_audit(
        self, kind: str, principal: str, details: Mapping[str, Any], at: datetime
    ) -> AuditRecord:
        return _append_audit(self._tx, kind, principal, details, at)

    def record_rehearsal(self, record: RehearsalRecord) -> bool:
        return _record_rehearsal(self._tx, record)


class SqlStore(ABC):
    """Every ``Store`` operation; subclasses supply transactions, locks and error mapping."""

    backend: str

    @abstractmethod
    def _write(self) -> AbstractContextManager[Tx]:
        """A transaction that may write; commits on success, rolls back on error.

        Backends translate a unique-key violation into ``Duplicate`` and any other driver
        error into ``StoreError``.
        """

    @abstractmethod
    def _read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction."""

    @abstractmethod
    def _lock(self, tx: Tx, name: str) -> None:
        """Serialise writers on ``name`` until ``tx`` ends (no-op where ``_write`` already does)."""

    @abstractmethod
    def close(self) -> None: ...

    # schema

    def _migrate(self) -> None:
        """Create or upgrade the schema to ``schema.LATEST`` under the migration lock."""
        with self._write() as tx:
            self._lock(tx, "sqlgate.schema")
            self._prepare_schema(tx)
            tx.execute(schema.SCHEMA_VERSION_DDL)
            rows = tx.execute("SELECT version FROM schema_version WHERE id = 1")
            current = int(rows[0][0]) if rows else 0
            if current > schema.LATEST:
                raise StoreError(
                    f"store schema version {current} is newer than this sqlgate "
                    f"understands ({schema.LATEST}); upgrade sqlgate"
                )
            for version, statements in schema.migrations(self.backend):
                if version <= current:
                    continue
                for statement in statements:
                    tx.execute(statement)
            if not rows:
                tx.execute(
                    "INSERT INTO schema_version (id, version) VALUES (1, ?)", (schema.LATEST,)
                )
            elif current < schema.LATEST:
                tx.execute("UPDATE schema_version SET version = ? WHERE id = 1", (schema.LATEST,))

    @abstractmethod
    def _prepare_schema(self, tx: Tx) -> None:
        """Run under the migration lock before the version table is read."""

    def schema_version(self) -> int:
        with self._read() as tx:
            rows = tx.execute("SELECT version FROM schema_version WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    # units of work

    @contextmanager
    def atomic(self) -> Iterator[StoreUnit]:
        """One write transaction for several changes and their audit events.

        The audit lock is taken first, so every unit orders its locks the same way (no
        deadlock between a unit and a plain audit append); on any error nothing is kept.
        """
        with self._write() as tx:
            self._lock(tx, "sqlgate.audit")
            yield _Unit(tx)

    # verdicts

    def put_verdict(self, record: VerdictRecord) -> None:
        try:
            with self._write() as tx:
                _put_verdict(tx, record)
        except Duplicate as exc:
            raise _verdict_conflict(record) from exc

    def get_verdict(self, verdict_id: str) -> VerdictRecord:
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_VERDICT_COLS} FROM verdicts WHERE verdict_id = ?", (verdict_id,)
            )
        if not rows:
            raise NotFound(f"no verdict {verdict_id}")
        return _verdict(rows[0])

    def latest_in_chain(self, verdict_id: str) -> VerdictRecord:
        """The newest verdict reached by following ``supersedes`` links forward."""
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_VERDICT_COLS} FROM verdicts WHERE verdict_id = ?", (verdict_id,)
            )
            if not rows:
                raise NotFound(f"no verdict {verdict_id}")
            seen = {verdict_id}
            while True:
                newer = tx.execute(
                    f"SELECT {_VERDICT_COLS} FROM verdicts WHERE supersedes = ?", (rows[0][0],)
                )
                if not newer:
                    return _verdict(rows[0])
                if newer[0][0] in seen:
                    raise StoreError(f"verdict chain from {verdict_id} loops")
                seen.add(newer[0][0])
                rows = newer

    # approvals

    def add_approval(self, record: ApprovalRecord) -> None:
        try:
            with self._write() as tx:
                _add_approval(tx, record)
        except Duplicate as exc:
            raise Conflict(f"approval {record.approval_id} already exists") from exc

    def list_approvals(self, verdict_id: str) -> list[ApprovalRecord]:
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_APPROVAL_COLS} FROM approvals WHERE verdict_id = ? "
                "ORDER BY created_at, approval_id",
                (verdict_id,),
            )
        return [_approval(row) for row in rows]

    def consume_break_glass(self, approval_id: str, now: datetime) -> ApprovalRecord:
        """Mark a live break-glass approval used; one atomic conditional UPDATE."""
        with self._write() as tx:
            return _consume_break_glass(tx, approval_id, now)

    # tokens

    def put_token(self, record: TokenRecord) -> None:
        try:
            with self._write() as tx:
                _put_token(tx, record)
        except Duplicate as exc:
            raise Conflict(f"token {record.jti} already exists") from exc

    def get_token(self, jti: str) -> TokenRecord:
        with self._read() as tx:
            rows = tx.execute(f"SELECT {_JTI_COLS} FROM tokens WHERE jti = ?", (jti,))
        if not rows:
            raise NotFound(f"no token {jti}")
        return _token(rows[0])

    def redeem_token(self, jti: str, *, runner: str, now: datetime) -> TokenRecord:
        """Use a token once: a single conditional UPDATE decides, so exactly one caller wins.

        A refused redemption consumes nothing; the reason is read afterwards: unknown
        (NotFound), already used (AlreadyRedeemed), expired (TokenExpired), issued to
        another runner (ClaimError), another token of the verdict already executed
        (AlreadyExecuted). The audit lock orders it with units (see ``_redeem_token``).
        """
        with self._write() as tx:
            self._lock(tx, "sqlgate.audit")
            return _redeem_token(tx, jti, runner, now)

    def executed_by(self, verdict_id: str) -> str | None:
        with self._read() as tx:
            return _executed_by(tx, verdict_id)

    # execution reports

    def record_report(
        self,
        report_id: str,
        *,
        token_jti: str,
        verdict_id: str,
        outcome: str,
        details: Mapping[str, Any],
        at: datetime,
    ) -> bool:
        """Record a runner's report; True when new, False for a retry of the same report.

        A different report under an existing id is a Conflict, never silently merged.
        """
        with self._write() as tx:
            return _record_report(
                tx,
                report_id,
                token_jti=token_jti,
                verdict_id=verdict_id,
                outcome=outcome,
                details=details,
                at=at,
            )

    def list_rehearsals(self, digests: tuple[tuple[str, str], ...]) -> list[RehearsalRecord]:
        """Rehearsals of exactly these files in this order, oldest first."""
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_REHEARSAL_COLS} FROM rehearsals WHERE digests = ?"
                " ORDER BY at, evidence_id",
                (digests_key(digests),),
            )
        return [_rehearsal(r) for r in rows]

    def get_report(self, report_id: str) -> ExecutionRecord:
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_REPORT_COLS} FROM executions WHERE report_id = ?", (report_id,)
            )
        if not rows:
            raise NotFound(f"no execution report {report_id}")
        return _report(rows[0])

    # audit

    def append_audit(
        self, kind: str, principal: str, details: Mapping[str, Any], at: datetime
    ) -> AuditRecord:
        """Append one event, chaining it to the current head inside the same transaction."""
        with self._write() as tx:
            self._lock(tx, "sqlgate.audit")
            return _append_audit(tx, kind, principal, details, at)

    def iter_audit(self, after: int = 0) -> Iterator[AuditRecord]:
        """Events with sequence > ``after`` in sequence order, read in pages."""
        cursor = after
        while True:
            with self._read() as tx:
                rows = tx.execute(
                    f"SELECT {_AUDIT_COLS} FROM audit_events WHERE sequence > ? "
                    "ORDER BY sequence LIMIT ?",
                    (cursor, _PAGE),
                )
            for row in rows:
                yield _audit(row)
            if len(rows) < _PAGE:
                return
            cursor = int(rows[-1][0])

    def put_checkpoint(self, record: CheckpointRecord) -> None:
        """Store a checkpoint; it must name an existing event by its current hash."""
        try:
            with self._write() as tx:
                event = tx.execute(
                    "SELECT hash FROM audit_events WHERE sequence = ?", (record.sequence,)
                )
                if not event:
                    raise NotFound(f"no audit event {record.sequence}")
                if event[0][0] != record.hash:
                    raise Conflict(f"checkpoint hash does not match audit event {record.sequence}")
                tx.execute(
                    f"INSERT INTO audit_checkpoints ({_CHECKPOINT_COLS}) VALUES (?, ?, ?, ?, ?)",
                    (
                        record.sequence,
                        record.hash,
                        to_us(record.at),
                        record.key_id,
                        bytes(record.signature),
                    ),
                )
        except Duplicate as exc:
            raise Conflict(f"a checkpoint at {record.sequence} already exists") from exc

    def get_checkpoint(self, sequence: int) -> CheckpointRecord | None:
        with self._read() as tx:
            rows = tx.execute(
                f"SELECT {_CHECKPOINT_COLS} FROM audit_checkpoints WHERE sequence = ?", (sequence,)
            )
        return _checkpoint(rows[0]) if rows else None

    def iter_checkpoints(self) -> Iterator[CheckpointRecord]:
        with self._read() as tx:
            rows = tx.execute(f"SELECT {_CHECKPOINT_COLS} FROM audit_checkpoints ORDER BY sequence")
        for row in rows:
            yield _checkpoint(row)
