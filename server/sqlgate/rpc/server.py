"""Build and run the gRPC server: one App, every call authenticated, health and reflection on.

``create_server`` builds the App (policies compiled, store opened, keys loaded: any
failure stops the server before it listens), installs the authentication interceptor,
binds the listen address (TLS/mTLS when ``tls`` is configured) and returns the bound
port too, so tests can listen on port 0. ``serve`` blocks until SIGTERM/SIGINT and
then stops gracefully: health goes NOT_SERVING, queued large reviews are refused,
in-flight calls get the grace period to finish and are then cancelled, parse/policy
workers still busy for them are killed, and the process exits even if a cancelled
call's thread is still in uninterruptible parsing (docs/config.md, `grace_s`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from concurrent import futures
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlgate_client.gen.sqlgate.v1 import review_pb2, review_pb2_grpc

from sqlgate.app import App
from sqlgate.auth import AuthInterceptor, server_credentials
from sqlgate.config import ServerConfig
from sqlgate.errors import ListenError
from sqlgate.observe.calls import CallInterceptor
from sqlgate.policy.engine import Engine
from sqlgate.policy.factory import load_engine
from sqlgate.rpc.admission import Admission, check_threads
from sqlgate.rpc.execution_service import add_trust_services
from sqlgate.rpc.review_service import ReviewService

log = logging.getLogger(__name__)

REVIEW_SERVICE = review_pb2.DESCRIPTOR.services_by_name["ReviewService"].full_name


@dataclasses.dataclass
class RunningServer:
    """A started-or-not server, the port it bound and the App it serves."""

    server: grpc.Server
    port: int
    app: App
    health: health.HealthServicer
    admission: Admission

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def stop(self, grace_s: float | None = None) -> None:
        """Go NOT_SERVING, refuse queued large reviews, stop taking calls, let in-flight
        ones finish within ``grace_s`` (then they are cancelled), kill the parse/policy
        workers still busy for cancelled calls, release the App."""
        self.health.enter_graceful_shutdown()
        self.admission.close()
        self.server.stop(grace_s).wait()
        self.app.terminate_workers()
        self.app.close()


__all__ = ["RunningServer", "build_server", "create_server", "load_engine", "serve"]


def create_server(
    config: ServerConfig, *, engine: Engine | None = None, app: App | None = None
) -> RunningServer:
    """A bound (not yet started) server; ListenError if the address cannot be bound
    (in use, even by another gRPC server: port reuse is off)."""
    check_threads(config.limits, config.max_workers)
    app = app or App.build(config, engine=engine)
    admission = Admission(config.limits)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.max_workers),
        # Calls first: refused and unauthenticated calls are counted and logged too.
        interceptors=[CallInterceptor(), AuthInterceptor(app.identities, app.audit)],
        options=[
            ("grpc.max_receive_message_length", config.limits.max_message_bytes),
            ("grpc.max_send_message_length", config.limits.max_message_bytes),
            # gRPC sets SO_REUSEPORT by default: a second server on a port in use would
            # start and the kernel would split calls between two servers (two policies).
            ("grpc.so_reuseport", 0),
        ],
    )
    review_pb2_grpc.add_ReviewServiceServicer_to_server(ReviewService(app, admission), server)
    trust_services = add_trust_services(app, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", REVIEW_SERVICE, *trust_services):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (
            REVIEW_SERVICE,
            *trust_services,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        if config.tls is not None:
            port = server.add_secure_port(config.listen, server_credentials(config.tls))
        else:
            port = server.add_insecure_port(config.listen)
    except RuntimeError as exc:
        app.close()
        raise ListenError(
            f"cannot listen on {config.listen}: {exc} (is another server using the port?)"
        ) from exc
    if port == 0:
        app.close()
        raise ListenError(f"cannot listen on {config.listen} (is another server using the port?)")
    return RunningServer(
        server=server, port=port, app=app, health=health_servicer, admission=admission
    )


def build_server(config: ServerConfig) -> grpc.Server:
    """The bound, not yet started gRPC server for ``config``."""
    return create_server(config).server


# After the grace period and the workers are killed, how long cancelled reviews get to
# notice before the process exits without them.
STRAGGLER_WAIT_S = 1.0


def _reload_on_sighup(running: RunningServer, stop: threading.Event) -> threading.Event:
    """SIGHUP reloads the policies (sqlgate.policy.reload) on a thread of its own: the
    handler only sets the returned event, checks in flight finish on the old policy."""
    requested = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            if requested.wait(0.2):
                requested.clear()
                log.info("received SIGHUP, reloading policies")
                running.app.reload_policy("sighup")

    threading.Thread(target=loop, name="sqlgate-sighup-reload", daemon=True).start()
    return requested


def serve(config: ServerConfig, *, ready: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully (health goes NOT_SERVING first);
    SIGHUP reloads the policies without a restart."""
    running = create_server(config)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("received signal %d, shutting down", signum)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    reload_requested = _reload_on_sighup(running, stop)
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())
    running.app.start_bundle_polling()
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
        started = time.monotonic()
        running.stop(config.grace_s)
        left = started + config.grace_s + STRAGGLER_WAIT_S - time.monotonic()
        stragglers = running.admission.wait_idle(max(0.0, left))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stragglers:
        # A cancelled call still in pure-Python work (a parse of a 4 MB file, facts) cannot
        # be interrupted, and the interpreter would wait for its thread at exit: stop
        # now, as promised by the grace period. Nothing is lost: its client saw the call
        # cancelled, and every store write is a transaction.
        log.warning(
            "sqlgate stopped; %d review(s) still busy after the %gs grace period abandoned",
            stragglers,
            config.grace_s,
        )
        logging.shutdown()
        os._exit(0)
    log.info("sqlgate stopped")
