"""Translation between the review use case's types and sqlgate.v1 messages.

Nothing here decides anything: it only moves fields, and refuses (InputError) what
cannot be translated, such as an unspecified dialect.
"""

from __future__ import annotations

from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2

from sqlgate.errors import InputError
from sqlgate.filenames import check_file_name
from sqlgate.review import Finding, MigrationFile, ReviewRequest, ReviewResult

_DIALECTS = {common_pb2.DIALECT_POSTGRES: "postgres", common_pb2.DIALECT_MYSQL: "mysql"}
_DECISIONS = {
    "allow": common_pb2.DECISION_ALLOW,
    "needs_approval": common_pb2.DECISION_NEEDS_APPROVAL,
    "deny": common_pb2.DECISION_DENY,
}
_LEVELS = {
    "warn": common_pb2.LEVEL_WARN,
    "approval": common_pb2.LEVEL_APPROVAL,
    "deny": common_pb2.LEVEL_DENY,
}


def request_from_proto(message: review_pb2.CheckRequest) -> ReviewRequest:
    dialect = _DIALECTS.get(message.dialect)
    if dialect is None:
        raise InputError("dialect is required (postgres or mysql)")
    # Names from the network; the local CLI reviews the user's own paths as given.
    for m in message.migrations:
        if m.path:  # an empty one is refused by the review with its own message
            check_file_name(m.path, "migration file name")
    for name in message.rollback_files:
        check_file_name(name, "rollback file name")
    return ReviewRequest(
        repo=message.repo,
        commit=message.commit,
        environment=message.environment,
        target=message.target,
        dialect=dialect,
        migrations=[
            MigrationFile(path=m.path, content=m.content, metadata=m.metadata or None)
            for m in message.migrations
        ],
        variables=dict(message.variables),
        server_version=message.server_version or None,
        catalog=message.catalog or None,
        rollback_files=tuple(message.rollback_files),
        context_files=tuple(message.context_files),
        since=message.since or None,
    )


def _finding_to_proto(finding: Finding) -> review_pb2.Finding:
    return review_pb2.Finding(
        rule=finding.rule,
        level=_LEVELS[finding.level],
        file=finding.file,
        line=finding.line,
        column=finding.column,
        message=finding.message,
        help=finding.help,
        approver_role=finding.approver_role or "",
    )


def result_to_proto(result: ReviewResult) -> review_pb2.CheckResponse:
    return review_pb2.CheckResponse(
        decision=_DECISIONS[result.decision],
        findings=[_finding_to_proto(f) for f in result.findings],
        statements=result.statements,
        policy_digest=result.policy_digest,
        suppressions=[
            review_pb2.Suppression(
                rule=s["rule"], file=s["file"], line=s["line"], reason=s["reason"], scope=s["scope"]
            )
            for s in result.suppressions
        ],
        impact=[
            review_pb2.StatementImpact(
                file=i["file"],
                line=i["line"],
                kind=i["kind"],
                objects=i["objects"],
                lock=i["lock"] or "",
                table_rows=-1 if i["table_rows"] is None else i["table_rows"],
                table_bytes=-1 if i["table_bytes"] is None else i["table_bytes"],
                measured=(
                    review_pb2.MeasuredImpact(**i["measured"]) if i.get("measured") else None
                ),
            )
            for i in result.impact
        ],
        reviewed_files=[path for path, _ in result.files],
        context_files=[path for path, _ in result.context],
        server_version=result.server_version or "",
        server_version_source=result.server_version_source,
    )
