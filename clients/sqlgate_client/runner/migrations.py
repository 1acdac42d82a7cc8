"""Migration files as the runner sees them: bytes read once, hashed, split, planned.

The bytes hashed for the token check are the very bytes later executed: a
:class:`Migration` holds them and nothing re-reads the file. Planning groups the
statements into steps: consecutive transactional statements share one transaction;
statements PostgreSQL refuses inside a transaction block, and batched backfills, run
alone. Explicit transaction control is handled one way only: a file that is exactly
``BEGIN; ...; COMMIT;`` runs as that one transaction (the runner opens and commits
it itself); any other BEGIN/COMMIT/ROLLBACK/SAVEPOINT is refused, because the
runner's all-or-nothing and history guarantees would no longer hold.

What runs is what the verdict binds (``bind``): the file's bytes expanded with the
template values the runner is given must hash to the reviewed expansion, and the
runner's own split of them must cut exactly the statement spans the reviewer cut; the
statements executed are those spans. Any difference refuses the run (BindingMismatch).

A ``<file>.yaml`` sidecar may set ``lock_timeout`` / ``statement_timeout`` for its file.
The execution token binds the SQL bytes only, not the sidecar, so a sidecar may only
*tighten* the runner's limits (``--lock-timeout`` / ``--statement-timeout``); a looser
value, or ``0`` (no limit), is refused before anything runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from sqlgate_client.runner.batch import rewrite
from sqlgate_client.runner.errors import BindingMismatch, UnsupportedSql, UsageError
from sqlgate_client.sqlsplit import SplitError, Statement, split
from sqlgate_client.templates import MissingValue, expand
from sqlgate_client.toolformat import up_section
from sqlgate_client.trust.binding import FileBinding, byte_spans, expanded_digest

_FLYWAY = re.compile(r"^V(\d+(?:[._]\d+)*)__.+\.sql$", re.IGNORECASE)
_GOLANG_MIGRATE = re.compile(r"^(\d+)_.+\.up\.sql$", re.IGNORECASE)
_DURATION = re.compile(r"^\d+\s*(ms|s|min|h|d)?$")
_TX_CONTROL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}
_NOT_IN_TX_FIRST = {"VACUUM", "CHECKPOINT"}
_UNIT_MS = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}

StepKind = Literal["transaction", "alone", "batch"]


def version_of(path: str) -> str:
    """Flyway ``V1_2__x.sql`` -> ``1.2``; golang-migrate ``0003_x.up.sql`` -> ``3``; else path."""
    name = Path(path).name
    if m := _FLYWAY.match(name):
        return m.group(1).replace("_", ".")
    if m := _GOLANG_MIGRATE.match(name):
        return str(int(m.group(1)))
    return path


def check_duration(value: object, what: str) -> str:
    """A PostgreSQL duration the runner accepts for SET (``5s``, ``15min``, ``500ms``, ``0``)."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not _DURATION.match(text):
        raise UsageError(f"{what}: {value!r} is not a duration like 500ms, 5s, 15min")
    return text


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str = "5s"
    statement_timeout: str = "15min"


@dataclass(frozen=True)
class Step:
    """Statements executed together: one transaction, one lone statement, or one batch."""

    kind: StepKind
    statements: tuple[Statement, ...]


@dataclass
class Migration:
    path: str
    data: bytes
    sha256: str
    version: str
    statements: list[Statement]
    timeouts: Timeouts
    steps: list[Step] = field(default_factory=list)


def _sidecar_timeouts(path: Path, defaults: Timeouts) -> Timeouts:
    sidecar = path.with_name(path.name + ".yaml")
    if not sidecar.exists():
        return defaults
    try:
        doc = yaml.safe_load(sidecar.read_bytes())
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{sidecar}: unreadable sidecar metadata: {exc}") from exc
    if doc is None:
        return defaults
    if not isinstance(doc, dict):
        raise UsageError(f"{sidecar}: sidecar metadata must be a mapping")
    lock = check_duration(
        doc.get("lock_timeout", defaults.lock_timeout), f"{sidecar}: lock_timeout"
    )
    stmt = check_duration(
        doc.get("statement_timeout", defaults.statement_timeout), f"{sidecar}: statement_timeout"
    )
    _not_weaker(sidecar, "lock_timeout", lock, defaults.lock_timeout, "--lock-timeout")
    _not_weaker(
        sidecar, "statement_timeout", stmt, defaults.statement_timeout, "--statement-timeout"
    )
    return Timeouts(lock_timeout=lock, statement_timeout=stmt)


def duration_ms(text: str) -> float:
    """Milliseconds of a checked duration; ``0`` (PostgreSQL: no limit) is infinity."""
    m = re.fullmatch(r"(\d+)\s*(ms|s|min|h|d)?", text.strip())
    if m is None:
        raise UsageError(f"{text!r} is not a duration like 500ms, 5s, 15min")
    value = int(m.group(1)) * _UNIT_MS[m.group(2) or "ms"]
    return float("inf") if value == 0 else float(value)


def _not_weaker(sidecar: Path, key: str, value: str, default: str, flag: str) -> None:
    """The sidecar is not covered by the token's digests (only the SQL bytes are), so an
    unreviewed edit must not loosen a safety limit: it may only tighten the runner's."""
    if duration_ms(value) > duration_ms(default):
        raise UsageError(
            f"{sidecar}: {key} {value!r} is weaker than the runner's {default!r}; sidecar "
            "metadata is not bound to the execution token, so it may only tighten timeouts "
            f"(raise the limit deliberately with {flag})"
        )


def load(
    path: str, defaults: Timeouts, *, server_version: int | None, split_now: bool = True
) -> Migration:
    """Read ``path`` once, hash it and split it; plan its steps if the server is known.

    The CLI reads and hashes before it connects (to check the token first) and plans
    once it knows the server version; ``server_version=None`` leaves ``steps`` empty.
    ``split_now=False`` leaves the split to ``bind`` (the CLI: a template is split only
    once expanded with the reviewed values).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from exc
    text = data.decode("utf-8-sig", errors="strict") if _is_utf8(data) else None
    if text is None:
        raise UsageError(f"{path}: not valid UTF-8")
    statements: list[Statement] = []
    if split_now:
        try:
            # goose/dbmate/sql-migrate: only the Up section runs, as the server reviewed it.
            statements = split(up_section(text).text)
        except SplitError as exc:
            raise UnsupportedSql(f"{path}: cannot split safely: {exc}") from exc
    migration = Migration(
        path=path,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        version=version_of(path),
        statements=statements,
        timeouts=_sidecar_timeouts(p, defaults),
    )
    if server_version is not None:
        migration.steps = plan(migration, server_version=server_version)
    return migration


def bind(m: Migration, bound: FileBinding, variables: Mapping[str, str]) -> None:
    """Make ``m.statements`` exactly the reviewed statements, or raise BindingMismatch.

    The text is the file expanded with ``variables``; its digest must be the reviewed
    expansion's, and the runner's split of it must give the reviewer's byte spans.
    """
    if bound.path != m.path or bound.sha256 != m.sha256:
        raise BindingMismatch(f"{m.path}: the verdict binds other bytes for this path")
    # goose/dbmate/sql-migrate: only the Up section (sqlgate_client.toolformat), as bound.
    text = up_section(m.data.decode("utf-8-sig")).text
    try:
        expanded = expand(text, variables)
    except MissingValue as exc:
        raise BindingMismatch(
            f"{m.path}:{exc.line}: template placeholder {exc.placeholder!r} has no value; "
            f"pass the value it was reviewed with (--var {exc.name}=...)"
        ) from None
    if expanded_digest(expanded) != bound.expanded_sha256:
        raise BindingMismatch(
            f"{m.path}: the file expanded with these template values is not the reviewed "
            "expansion (sha256 differs): pass exactly the --var values the check used"
        )
    try:
        statements = split(expanded)
    except SplitError as exc:
        raise UnsupportedSql(f"{m.path}: cannot split safely: {exc}") from exc
    spans = byte_spans(expanded, [(s.tokens[0].start, s.tokens[-1].end) for s in statements])
    if tuple(spans) != bound.spans:
        first = next(
            (i for i, (a, b) in enumerate(zip(spans, bound.spans, strict=False)) if a != b),
            min(len(spans), len(bound.spans)),
        )
        raise BindingMismatch(
            f"{m.path}: the runner's split ({len(spans)} statements) disagrees with the "
            f"reviewed statement boundaries ({len(bound.spans)} statements) at statement "
            f"{first + 1}: refusing rather than executing what was not reviewed"
        )
    encoded = expanded.encode("utf-8")
    for stmt, (start, end) in zip(statements, bound.spans, strict=True):
        if encoded[start:end] != stmt.text.encode("utf-8"):  # pragma: no cover - spans equal
            raise BindingMismatch(f"{m.path}:{stmt.line}: statement text is not its span")
    m.statements = statements
    m.steps = []


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def is_transaction_control(stmt: Statement) -> bool:
    words = stmt.words()
    return bool(words) and words[0] in _TX_CONTROL


def needs_own_session(stmt: Statement, *, server_version: int) -> bool:
    """True for statements PostgreSQL refuses to run inside a transaction block."""
    w = stmt.words()
    if not w:
        return False
    if w[0] in _NOT_IN_TX_FIRST:
        return True
    if w[0] in {"CREATE", "DROP"} and "CONCURRENTLY" in w[1:4] and "INDEX" in w[1:3]:
        return True
    if w[0] == "REINDEX" and "CONCURRENTLY" in w:
        return True
    if w[:2] in (["CREATE", "DATABASE"], ["DROP", "DATABASE"], ["ALTER", "SYSTEM"]):
        return True
    if w[:2] in (["CREATE", "TABLESPACE"], ["DROP", "TABLESPACE"]):
        return True
    if w[:2] == ["ALTER", "TABLE"] and "DETACH" in w and w[-1] == "CONCURRENTLY":
        return True
    return w[:2] == ["ALTER", "TYPE"] and "ADD" in w and "VALUE" in w and server_version < 120000


def _check_supported(m: Migration, stmt: Statement) -> None:
    w = stmt.words()
    if w[:1] == ["COPY"] and "STDIN" in w:
        raise UnsupportedSql(f"{m.path}:{stmt.line}: COPY ... FROM STDIN cannot be applied")
    if stmt.text.lstrip().startswith("\\"):
        raise UnsupportedSql(f"{m.path}:{stmt.line}: psql meta-commands are not SQL")


def plan(m: Migration, *, server_version: int) -> list[Step]:
    """Group statements into transaction / alone / batch steps (see module docstring)."""
    stmts = list(m.statements)
    control = [s for s in stmts if is_transaction_control(s)]
    if control:
        first, last = stmts[0].words(), stmts[-1].words()
        wrapped = (
            len(control) == 2
            and control[0] is stmts[0]
            and control[1] is stmts[-1]
            and (
                first in (["BEGIN"], ["BEGIN", "TRANSACTION"], ["BEGIN", "WORK"])
                or first == ["START", "TRANSACTION"]
            )
            and last in (["COMMIT"], ["END"], ["COMMIT", "TRANSACTION"], ["COMMIT", "WORK"])
        )
        if not wrapped:
            s = control[0]
            raise UnsupportedSql(
                f"{m.path}:{s.line}: explicit transaction control ({s.text.split()[0]}) is only "
                "accepted as one BEGIN ... COMMIT around the whole file; the runner manages "
                "transactions itself"
            )
        inner = stmts[1:-1]
        for s in inner:
            _check_supported(m, s)
            if needs_own_session(s, server_version=server_version) or s.batch is not None:
                raise UnsupportedSql(
                    f"{m.path}:{s.line}: statement cannot run inside the file's BEGIN ... COMMIT"
                )
        return [Step("transaction", tuple(inner))] if inner else []
    steps: list[Step] = []
    pending: list[Statement] = []
    for s in stmts:
        _check_supported(m, s)
        lone = needs_own_session(s, server_version=server_version)
        if s.batch is not None or lone:
            if pending:
                steps.append(Step("transaction", tuple(pending)))
                pending = []
            if s.batch is not None:
                rewrite(s, m.path)  # refuse an unchunkable batch before anything runs
            steps.append(Step("batch" if s.batch is not None else "alone", (s,)))
        else:
            pending.append(s)
    if pending:
        steps.append(Step("transaction", tuple(pending)))
    return steps
