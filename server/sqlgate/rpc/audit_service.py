"""``sqlgate.v1.AuditService``: list and verify the audit log — auditors only.

The log spans every environment, so the caller must hold ``auditor`` for all of them
(``"*"`` in the config); an auditor for one environment only is refused, and the
refusal is itself an ``auth_failed`` event. VerifyAudit re-walks the whole chain and
checks each checkpoint's signature against the server's public checkpoint keys.
"""

from __future__ import annotations

from typing import Final

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlgate_client.gen.sqlgate.v1 import audit_pb2, audit_pb2_grpc

from sqlgate.app import App
from sqlgate.audit.chain import canonical_json
from sqlgate.audit.verify import verify_chain
from sqlgate.auth.authorize import require_role
from sqlgate.auth.principal import Principal, current_principal
from sqlgate.errors import PermissionDenied, Unauthenticated
from sqlgate.roles import ANY_ENVIRONMENT

AUDITOR: Final = "auditor"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000


class AuditService(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, app: App) -> None:
        self._app = app

    def _auditor(self, context: grpc.ServicerContext, action: str) -> Principal:
        try:
            principal = current_principal()
            require_role(
                self._app.roles, self._app.audit, principal, [AUDITOR], ANY_ENVIRONMENT, action
            )
        except Unauthenticated as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        except PermissionDenied as exc:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
        return principal

    def ListAuditEvents(
        self, request: audit_pb2.ListAuditEventsRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ListAuditEventsResponse:
        self._auditor(context, "list audit events")
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        response = audit_pb2.ListAuditEventsResponse()
        for event in self._app.store.iter_audit(after=request.after_sequence):
            if len(response.events) >= limit:
                break
            stamp = Timestamp()
            stamp.FromDatetime(event.at)
            response.events.add(
                sequence=event.sequence,
                time=stamp,
                kind=event.kind,
                principal=event.principal,
                details=canonical_json(dict(event.details)),
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        return response

    def VerifyAudit(
        self, request: audit_pb2.VerifyAuditRequest, context: grpc.ServicerContext
    ) -> audit_pb2.VerifyAuditResponse:
        del request
        self._auditor(context, "verify the audit log")
        public = self._app.keyset.public_keyset()

        def check(key_id: str, data: bytes, signature: bytes) -> None:
            public.verify("checkpoint", key_id, data, signature)

        report = verify_chain(self._app.store, check)
        return audit_pb2.VerifyAuditResponse(
            ok=report.ok,
            events=report.events,
            checkpoints=report.checkpoints,
            first_bad_sequence=report.first_bad_sequence,
            problem=report.problem,
        )
