"""The CI side of a check: read migration files and ask a sqlgate server to review them.

Only stdlib, grpcio and protobuf: this runs in CI images that do not carry the server.
Files are sent in the order given, as exact bytes; a ``<file>.yaml`` sidecar next to a
migration is sent as its metadata. Failures raise CheckError subclasses that say
whether the caller's input was at fault (exit 2) or the check could not be completed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc

from sqlgate_client.convert import ResponseError, response_to_dict
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

DIALECTS: dict[str, int] = {
    "postgres": common_pb2.DIALECT_POSTGRES,
    "mysql": common_pb2.DIALECT_MYSQL,
}
DEFAULT_TIMEOUT_S = 60.0
SIDECAR_SUFFIX = ".yaml"


class CheckError(Exception):
    """The check could not produce a decision."""


class InvalidRequest(CheckError):
    """The server (or this client) rejected the input: fix the files or the arguments."""


class NotAuthorized(CheckError):
    """The server did not accept the caller's credentials or role (set SQLGATE_TOKEN)."""


class ServerUnreachable(CheckError):
    """No answer from the server at that address."""


@dataclasses.dataclass(frozen=True)
class MigrationInput:
    """One migration as it will be sent: the path as submitted, exact bytes, sidecar."""

    path: str
    content: bytes
    metadata: bytes | None = None


def display_path(path: Path, base: Path | None = None) -> str:
    """Forward-slash path relative to ``base`` (default: cwd) when under it, else as given."""
    base = base or Path.cwd()
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError:
        return path.as_posix()
    return rel.as_posix()


def read_migrations(files: Sequence[Path], *, base: Path | None = None) -> list[MigrationInput]:
    """Read already-ordered files (and their sidecars); InvalidRequest if one is unreadable."""
    out: list[MigrationInput] = []
    for path in files:
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidRequest(f"{path}: cannot read: {exc.strerror}") from exc
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        metadata: bytes | None = None
        if sidecar.is_file():
            try:
                metadata = sidecar.read_bytes()
            except OSError as exc:
                raise InvalidRequest(f"{sidecar}: cannot read: {exc.strerror}") from exc
        out.append(MigrationInput(display_path(path, base), content, metadata))
    return out


def build_request(
    *,
    migrations: Sequence[MigrationInput],
    environment: str,
    target: str,
    dialect: str,
    repo: str = "",
    commit: str = "",
    variables: Mapping[str, str] | None = None,
    server_version: str = "",
    catalog: bytes | None = None,
    author: str = "",
    rollback_files: Sequence[str] = (),
) -> review_pb2.CheckRequest:
    """The CheckRequest for these inputs; InvalidRequest on an unknown dialect."""
    if dialect not in DIALECTS:
        raise InvalidRequest(
            f"unknown dialect {dialect!r} (expected one of: {', '.join(DIALECTS)})"
        )
    return review_pb2.CheckRequest(
        repo=repo,
        commit=commit,
        environment=environment,
        target=target,
        dialect=DIALECTS[dialect],  # type: ignore[arg-type]
        migrations=[
            review_pb2.Migration(path=m.path, content=m.content, metadata=m.metadata or b"")
            for m in migrations
        ],
        variables=dict(variables or {}),
        server_version=server_version,
        catalog=catalog or b"",
        author=author,
        rollback_files=list(rollback_files),
    )


def _call_metadata(token: str | None) -> tuple[tuple[str, str | bytes], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


def check_remote(
    address: str,
    *,
    migrations: Sequence[MigrationInput],
    environment: str,
    target: str,
    dialect: str,
    repo: str = "",
    commit: str = "",
    variables: Mapping[str, str] | None = None,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    server_version: str = "",
    catalog: bytes | None = None,
    max_message_bytes: int = 64 * 1024 * 1024,
    author: str = "",
    rollback_files: Sequence[str] = (),
) -> dict[str, Any]:
    """Ask the server at ``address`` to review ``migrations``; returns the result dict."""
    request = build_request(
        migrations=migrations,
        environment=environment,
        target=target,
        dialect=dialect,
        repo=repo,
        commit=commit,
        variables=variables,
        server_version=server_version,
        catalog=catalog,
        author=author,
        rollback_files=rollback_files,
    )
    options = [("grpc.max_send_message_length", max_message_bytes)]
    with grpc.insecure_channel(address, options=options) as channel:
        stub = review_pb2_grpc.ReviewServiceStub(channel)
        try:
            response = stub.Check(request, timeout=timeout, metadata=_call_metadata(token))
        except grpc.RpcError as exc:
            raise _map_rpc_error(address, exc) from exc
    try:
        return response_to_dict(response)
    except ResponseError as exc:
        raise CheckError(str(exc)) from exc


def _map_rpc_error(address: str, exc: grpc.RpcError) -> CheckError:
    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return InvalidRequest(f"server rejected the request: {details}")
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return NotAuthorized(f"server refused the caller ({code.name}): {details}")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServerUnreachable(f"cannot reach sqlgate server at {address}: {details}")
    name = code.name if code is not None else "UNKNOWN"
    return CheckError(f"server error {name}: {details}")


def token_from_env() -> str | None:
    """The API token from SQLGATE_TOKEN, if set (sent as ``authorization: Bearer``)."""
    return os.environ.get("SQLGATE_TOKEN") or None


def find_rollback_files(files: Sequence[Path], *, base: Path | None = None) -> list[str]:
    """Down files that exist beside ``files`` (sqlgate_client.rollback), as display paths."""
    from sqlgate_client.rollback import down_candidates

    found: list[str] = []
    for path in files:
        for candidate in down_candidates(path.as_posix()):
            if Path(candidate).is_file():
                found.append(display_path(Path(candidate), base))
    return sorted(set(found))


def server_from_env() -> str | None:
    """The server address from SQLGATE_SERVER, if set."""
    return os.environ.get("SQLGATE_SERVER") or None
