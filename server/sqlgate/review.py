"""The review use case: migration files in, a policy decision with findings out.

This is the one place that turns SQL into a decision; the gRPC servicer and the CLI's
``--local`` mode both call ``review``. It orders nothing (callers send files in
order), parses, derives facts, builds the policy input of docs/contract.md §2 and
asks the engine. Bad input raises InputError; an engine that fails or times out
yields a deny with a ``policy-engine-error`` finding, never an allow.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlgate_client.rollback import down_file_for
from sqlgate_client.toolformat import up_section

from sqlgate.binding import build_binding
from sqlgate.catalog.load import MAX_CATALOG_DEPTH, validate_catalog
from sqlgate.catalog.names import for_facts
from sqlgate.catalog_facts import catalog_facts
from sqlgate.context import resolve_context
from sqlgate.errors import (
    CatalogError,
    InputError,
    LimitExceeded,
    PolicyError,
    SqlgateError,
)
from sqlgate.facts import derive
from sqlgate.impact import impact_of
from sqlgate.long_names import long_identifiers, names_something
from sqlgate.metadata import load_metadata
from sqlgate.model import Statement
from sqlgate.observe.metrics import POLICY_EVALUATION, timed
from sqlgate.parse import Limits, ParseCache, ParsePool, SourceFile, parse_migrations
from sqlgate.parse.source import FileInfo, decode
from sqlgate.policy.engine import Engine, PolicyFinding
from sqlgate.suppress import find_suppressions

if TYPE_CHECKING:
    from sqlgate.config import LimitsConfig
    from sqlgate.targets import TargetCatalogs

INPUT_VERSION = 1
DIALECTS = ("postgres", "mysql")
# Without --pg-version, a catalog or a target saying otherwise, PostgreSQL is assumed to
# be the newest supported major (the parser's): assuming the oldest gave false
# "before 11/12" findings on every constant default.
DEFAULT_PG_VERSION = "18"
ENGINE_ERROR_RULE = "policy-engine-error"


@dataclasses.dataclass(frozen=True)
class MigrationFile:
    """One migration: the path as submitted, its exact bytes, optional sidecar YAML."""

    path: str
    content: bytes
    metadata: bytes | None = None


@dataclasses.dataclass(frozen=True)
class ReviewRequest:
    repo: str
    commit: str
    environment: str
    target: str
    dialect: str
    migrations: list[MigrationFile]
    variables: Mapping[str, str] = dataclasses.field(default_factory=dict)
    server_version: str | None = None
    catalog: bytes | None = None
    # Down files that exist beside the migrations (CheckRequest.rollback_files).
    rollback_files: tuple[str, ...] = ()
    # Already-applied files among the migrations (CheckRequest.context_files, --base).
    context_files: tuple[str, ...] = ()
    # Files up to and including this version are context (CheckRequest.since).
    since: str | None = None


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    file: str
    line: int
    column: int
    message: str
    help: str
    # The role whose approval this finding needs (e.g. "security"); None: any approver.
    approver_role: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public finding dict; ``approver_role`` only when set (as the client does)."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "level": self.level,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "help": self.help,
        }
        if self.approver_role:
            out["approver_role"] = self.approver_role
        return out


@dataclasses.dataclass(frozen=True)
class ReviewResult:
    decision: str
    findings: list[Finding]
    statements: int
    policy_digest: str
    files: list[tuple[str, str]]
    suppressions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # Per changing statement: objects, static lock, catalog size (sqlgate.impact).
    impact: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # What the verdict binds besides digests (sqlgate_client.trust.binding), JSON form.
    binding: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The policy input that was evaluated (decision logs); not part of the public result.
    policy_input: dict[str, Any] | None = dataclasses.field(default=None, repr=False, compare=False)
    # Already-applied files replayed into the model but not reviewed: (path, sha256).
    context: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # The server version the rules assumed and where it came from
    # (request, catalog, default).
    server_version: str | None = None
    server_version_source: str = "default"

    def to_json(self) -> dict[str, Any]:
        """The public result dict; later keys (verdict_id, ...) are appended here."""
        return {
            "decision": self.decision,
            "findings": [f.to_json() for f in self.findings],
            "statements": self.statements,
            "policy_digest": self.policy_digest,
            "suppressions": [dict(s) for s in self.suppressions],
            "impact": [dict(i) for i in self.impact],
            "reviewed_files": [path for path, _ in self.files],
            "context_files": [path for path, _ in self.context],
            "server_version": self.server_version or "",
            "server_version_source": self.server_version_source,
        }


def request_limits(config: LimitsConfig) -> Limits:
    """The parser's limits from the server config's limits section."""
    return Limits(
        max_file_bytes=config.max_file_bytes,
        max_total_bytes=config.max_total_bytes,
        max_files=config.max_files,
        max_statements=config.max_statements,
        max_nesting=config.max_nesting,
    )


def _check_request(request: ReviewRequest, limits: Limits) -> None:
    """What the parser cannot know: required fields, duplicate paths, sidecar sizes."""
    if request.dialect not in DIALECTS:
        raise InputError(f"unknown dialect {request.dialect!r} (expected postgres or mysql)")
    if not request.environment:
        raise InputError("environment is required")
    if not request.target:
        raise InputError("target is required")
    if not request.migrations:
        raise InputError("no migration files submitted")
    seen: set[str] = set()
    for m in request.migrations:
        if not m.path:
            raise InputError("a migration file has an empty path")
        if m.path in seen:
            raise InputError("submitted twice", file=m.path)
        seen.add(m.path)
        if m.metadata and len(m.metadata) > limits.max_file_bytes:
            raise LimitExceeded(
                f"sidecar metadata of {len(m.metadata)} bytes exceeds the per-file limit "
                f"of {limits.max_file_bytes}",
                file=m.path,
            )


def _metadata(m: MigrationFile) -> dict[str, Any]:
    """The sidecar or header metadata, validated ({} without one); MetadataError if bad."""
    return load_metadata(m.path, decode(SourceFile(path=m.path, content=m.content)), m.metadata)


def _catalog(raw: bytes | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"catalog is not valid JSON: {exc}") from exc
    except RecursionError:  # deeper than the decoder's stack: an input error, not INTERNAL
        raise CatalogError(f"catalog nests deeper than {MAX_CATALOG_DEPTH} levels") from None
    return validate_catalog(value, source="catalog")


def _finding(f: PolicyFinding) -> Finding:
    return Finding(
        rule=f.rule,
        level=f.level,
        file=f.file,
        line=f.line,
        column=f.column,
        message=f.message,
        help=f.help,
        approver_role=f.approver_role or None,
    )


def _engine_error(exc: PolicyError) -> Finding:
    return Finding(
        rule=ENGINE_ERROR_RULE,
        level="deny",
        file="",
        line=0,
        column=0,
        message=f"policy evaluation failed: {exc}",
        help="the change is denied until the policy engine can evaluate it",
    )


def build_policy_input(
    request: ReviewRequest,
    *,
    files: Sequence[Mapping[str, Any]],
    statements: Sequence[Mapping[str, Any]],
    facts: Mapping[str, Any],
    catalog: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The policy input document of docs/contract.md §2."""
    return {
        "version": INPUT_VERSION,
        "dialect": request.dialect,
        "environment": request.environment,
        "target": request.target,
        "repo": request.repo,
        "commit": request.commit,
        "server_version": request.server_version or None,
        "files": list(files),
        "statements": list(statements),
        "facts": dict(facts),
        "catalog": catalog,
    }


def _file_doc(
    f: FileInfo, md: dict[str, Any], text: str, rollback_files: set[str]
) -> dict[str, Any]:
    """``files[]`` of the policy input. A goose/dbmate/sql-migrate Down section is the
    file's rollback (``down_file`` = ``<path>#down``); ``tool`` says which tool's
    format the file is in and whether that tool runs it in a transaction."""
    tool = up_section(text)
    down = down_file_for(f.path, rollback_files)
    if down is None and tool.has_down:
        down = f"{f.path}#down"
    return {
        "path": f.path,
        "sha256": f.sha256,
        "statements": f.statements,
        "metadata": md,
        "down_file": down,
        "tool": None if tool.tool is None else {"name": tool.tool, "transaction": tool.transaction},
    }


@dataclasses.dataclass(frozen=True)
class PreparedInput:
    """The policy input of one request and what the result needs from the parse."""

    policy_input: dict[str, Any]
    statement_count: int
    files: list[tuple[str, str]]
    binding: dict[str, Any] = dataclasses.field(default_factory=dict)
    context: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    server_version: str | None = None
    server_version_source: str = "default"


def pending_files(
    request: ReviewRequest, catalogs: TargetCatalogs | None = None
) -> list[tuple[str, str]]:
    """(path, sha256) of the files the review will review (not context), in order: what
    a rehearsal of this change was submitted for (input.evidence). Input errors are left
    to the review itself: then every file is returned."""
    try:
        catalog = _catalog(request.catalog)
        if catalog is None and catalogs is not None:
            catalog = catalogs.catalog(request.target)
        context = resolve_context(
            [m.path for m in request.migrations],
            explicit=request.context_files,
            since=request.since,
            catalog=catalog,
        )
    except SqlgateError:
        context = frozenset()
    return [
        (m.path, hashlib.sha256(m.content).hexdigest())
        for m in request.migrations
        if m.path not in context
    ]


def prepare_input(
    request: ReviewRequest,
    *,
    limits: Limits | None = None,
    catalogs: TargetCatalogs | None = None,
    cache: ParseCache | None = None,
    pool: ParsePool | None = None,
    progress: Callable[[str], None] | None = None,
    evidence: Sequence[Mapping[str, Any]] = (),
) -> PreparedInput:
    """Parse, derive facts, read metadata and suppression comments: the policy input.

    The catalog is the request's; without one, a configured target's (``catalogs``).
    The server version is the request's; without one, the catalog's. ``cache``/``pool``
    make the parse cheaper, never different (see ``sqlgate.parse``).
    """
    limits = limits or Limits()
    _check_request(request, limits)
    metadata = [_metadata(m) for m in request.migrations]
    catalog = _catalog(request.catalog)
    if catalog is None and catalogs is not None:
        catalog = catalogs.catalog(request.target)
    version_source = "request" if request.server_version else "default"
    if not request.server_version and catalog and catalog.get("server_version"):
        request = dataclasses.replace(request, server_version=str(catalog["server_version"]))
        version_source = "catalog"
    explicit_version = request.server_version
    if not request.server_version and request.dialect == "postgres":
        request = dataclasses.replace(request, server_version=DEFAULT_PG_VERSION)
    context = resolve_context(
        [m.path for m in request.migrations],
        explicit=request.context_files,
        since=request.since,
        catalog=catalog,
    )
    if len(context) == len(request.migrations):
        raise InputError(
            "every submitted file is already applied (context): nothing pending to review"
        )
    parsed = parse_migrations(
        [SourceFile(path=m.path, content=m.content) for m in request.migrations],
        cast(Literal["postgres", "mysql"], request.dialect),
        variables=dict(request.variables),
        limits=limits,
        cache=cache,
        pool=pool,
    )
    if progress is not None:
        progress(f"parsed {len(parsed.files)} file(s): {len(parsed.statements)} statement(s)")
    named = for_facts(catalog)  # MySQL: unqualified names are the default schema's
    derived = derive(parsed.statements, catalog=named, dialect=request.dialect, context=context)
    extras = catalog_facts(derived.statements, named, context)
    # Context statements shaped the model above; only pending ones are reviewed,
    # renumbered so statement i is input.statements[i] (main.rego relies on it).
    reviewed: list[Statement] = []
    statements = []
    for original, extra in zip(derived.statements, extras, strict=True):
        if original.file not in context:
            s = dataclasses.replace(original, index=len(reviewed)) if context else original
            reviewed.append(s)
            doc = s.to_json()
            doc["facts"] = {
                **doc.get("facts", {}),
                **extra,
                "long_identifiers": (
                    long_identifiers(s.text, request.dialect) if names_something(s.kind) else []
                ),
            }
            statements.append(doc)
    rollback_files = set(request.rollback_files)
    pending_files = [
        (f, md) for f, md in zip(parsed.files, metadata, strict=True) if f.path not in context
    ]
    texts = {m.path: decode(SourceFile(path=m.path, content=m.content)) for m in request.migrations}
    files = [_file_doc(f, md, texts[f.path], rollback_files) for f, md in pending_files]
    by_file: dict[str, list[Statement]] = {}
    for s in reviewed:
        by_file.setdefault(s.file, []).append(s)
    suppressions = [
        d
        for m in request.migrations
        if m.path not in context
        for d in find_suppressions(m.path, texts[m.path], by_file.get(m.path, []))
    ]
    policy_input = build_policy_input(
        request, files=files, statements=statements, facts=derived.to_json(), catalog=catalog
    )
    policy_input["suppressions"] = suppressions
    # Rehearsals (sqlgate.evidence) of exactly these files in this order, any environment.
    policy_input["evidence"] = [dict(e) for e in evidence]
    binding = build_binding(
        # Only the reviewed (pending) files: the runner applies exactly these.
        [(m.path, m.content) for m in request.migrations if m.path not in context],
        dialect=cast(Literal["postgres", "mysql"], request.dialect),
        variables=dict(request.variables),
        # What the request or the catalog said, never the assumed default: the runner
        # checks the target against it.
        server_version=explicit_version,
        target_identity=catalogs.identity(request.target) if catalogs is not None else None,
    )
    policy_input["context_files"] = [
        {"path": f.path, "sha256": f.sha256} for f in parsed.files if f.path in context
    ]
    return PreparedInput(
        policy_input=policy_input,
        statement_count=len(statements),
        files=[(f.path, f.sha256) for f, _ in pending_files],
        context=[(f.path, f.sha256) for f in parsed.files if f.path in context],
        server_version=request.server_version,
        server_version_source=version_source if request.server_version else "unknown",
        binding=binding.to_json(),
    )


def review(
    request: ReviewRequest,
    *,
    engine: Engine,
    limits: Limits | None = None,
    catalogs: TargetCatalogs | None = None,
    cache: ParseCache | None = None,
    pool: ParsePool | None = None,
    progress: Callable[[str], None] | None = None,
    evidence: Sequence[Mapping[str, Any]] = (),
) -> ReviewResult:
    """Prepare the input, evaluate; InputError for bad input, deny on engine failure.

    ``progress`` (the CLI's terminal status line) hears about each stage as it starts.
    """
    if progress is not None:
        progress(f"parsing {len(request.migrations)} file(s)")
    prepared = prepare_input(
        request,
        limits=limits,
        catalogs=catalogs,
        cache=cache,
        pool=pool,
        progress=progress,
        evidence=evidence,
    )
    if progress is not None:
        progress(f"evaluating {prepared.statement_count} statement(s)")
    policy_input, digests = prepared.policy_input, prepared.files
    suppressions: list[dict[str, Any]] = []
    digest = engine.policy_digest
    try:
        with timed(POLICY_EVALUATION):
            outcome = engine.evaluate(policy_input)
    except PolicyError as exc:  # engine failure or timeout: fail closed
        decision, findings = "deny", [_engine_error(exc)]
    else:
        decision, findings = outcome.decision, [_finding(f) for f in outcome.findings]
        suppressions = list(outcome.suppressions)
        # A reloading engine names the policy that decided; it may differ from `digest`.
        digest = outcome.policy_digest or engine.policy_digest
    return ReviewResult(
        decision=decision,
        findings=findings,
        statements=prepared.statement_count,
        policy_digest=digest,
        files=digests,
        suppressions=suppressions,
        impact=impact_of(policy_input["statements"], policy_input.get("evidence") or []),
        binding=prepared.binding,
        policy_input=policy_input,
        context=prepared.context,
        server_version=prepared.server_version,
        server_version_source=prepared.server_version_source,
    )
