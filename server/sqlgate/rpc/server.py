"""Build and run the gRPC server: policies prepared once, health and reflection on.

``create_server`` loads and compiles the policy set at start-up (a broken policy tree
stops the server before it listens), binds the listen address and returns the bound
port too, so tests can listen on port 0. ``serve`` blocks until SIGTERM/SIGINT and
then stops gracefully, letting in-flight calls finish within the grace period.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from concurrent import futures
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlgate_client.gen.sqlgate.v1 import review_pb2, review_pb2_grpc

from sqlgate.config import ServerConfig
from sqlgate.errors import ConfigError
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import Engine
from sqlgate.review import request_limits
from sqlgate.rpc.review_service import ReviewService

log = logging.getLogger(__name__)

REVIEW_SERVICE = review_pb2.DESCRIPTOR.services_by_name["ReviewService"].full_name


@dataclasses.dataclass
class RunningServer:
    """A started-or-not server, the port it bound and the engine it serves."""

    server: grpc.Server
    port: int
    engine: Engine
    health: health.HealthServicer

    def stop(self, grace_s: float | None = None) -> None:
        """Go NOT_SERVING, stop taking calls, wait for in-flight ones, release the engine."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()


def load_engine(config: ServerConfig) -> Engine:
    """Load and prepare the policy set once (PolicyLoadError if it does not compile)."""
    policy_set = load_policy_set(config.policies.dir)
    return EmbeddedEngine(policy_set, timeout_s=config.policies.timeout_s)


def create_server(config: ServerConfig, *, engine: Engine | None = None) -> RunningServer:
    """A bound (not yet started) server; ConfigError if the address cannot be bound."""
    engine = engine or load_engine(config)
    limits = request_limits(config.limits)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.max_workers),
        options=[
            ("grpc.max_receive_message_length", config.limits.max_message_bytes),
            ("grpc.max_send_message_length", config.limits.max_message_bytes),
        ],
    )
    review_pb2_grpc.add_ReviewServiceServicer_to_server(ReviewService(engine, limits), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", REVIEW_SERVICE):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (
            REVIEW_SERVICE,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        port = server.add_insecure_port(config.listen)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {config.listen}: {exc}") from exc
    if port == 0:
        raise ConfigError(f"cannot listen on {config.listen}")
    return RunningServer(server=server, port=port, engine=engine, health=health_servicer)


def build_server(config: ServerConfig) -> grpc.Server:
    """The bound, not yet started gRPC server for ``config``."""
    return create_server(config).server


def serve(config: ServerConfig, *, ready: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully (health goes NOT_SERVING first)."""
    running = create_server(config)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("received signal %d, shutting down", signum)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running.server.start()
        host = config.listen.rsplit(":", 1)[0]
        log.info(
            "sqlgate listening on %s:%d (policy %s)",
            host,
            running.port,
            running.engine.policy_digest,
        )
        if ready is not None:
            ready.set()
        stop.wait()
        running.stop(config.grace_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("sqlgate stopped")
