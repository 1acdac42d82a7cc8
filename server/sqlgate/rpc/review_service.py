"""``sqlgate.v1.ReviewService``: Check, with errors mapped to status codes.

InputError → INVALID_ARGUMENT with the message (it names the file); policy failures
never reach here as errors because ``review`` turns them into a deny; anything else is
INTERNAL with a short message, logged with its traceback. GetVerdict and Approve are
left UNIMPLEMENTED (the base class) until verdicts are signed and stored.
"""

from __future__ import annotations

import logging

import grpc
from sqlgate_client.gen.sqlgate.v1 import review_pb2, review_pb2_grpc

from sqlgate.errors import InputError
from sqlgate.parse import Limits
from sqlgate.policy.engine import Engine
from sqlgate.review import review
from sqlgate.rpc.messages import request_from_proto, result_to_proto

log = logging.getLogger(__name__)


class ReviewService(review_pb2_grpc.ReviewServiceServicer):
    """Stateless apart from the prepared engine shared by all requests."""

    def __init__(self, engine: Engine, limits: Limits) -> None:
        self._engine = engine
        self._limits = limits

    def Check(
        self, request: review_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> review_pb2.CheckResponse:
        try:
            result = review(request_from_proto(request), engine=self._engine, limits=self._limits)
        except InputError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Exception:
            log.exception("Check failed unexpectedly")
            context.abort(grpc.StatusCode.INTERNAL, "internal error while reviewing (logged)")
        return result_to_proto(result)

    def GetVerdict(
        self, request: review_pb2.GetVerdictRequest, context: grpc.ServicerContext
    ) -> review_pb2.GetVerdictResponse:
        del request
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "verdicts are not stored by this server yet")

    def Approve(
        self, request: review_pb2.ApproveRequest, context: grpc.ServicerContext
    ) -> review_pb2.ApproveResponse:
        del request
        context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "approvals are not supported by this server yet"
        )
