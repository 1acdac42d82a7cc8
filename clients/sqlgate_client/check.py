"""The CI side of a check: read migration files and ask a sqlgate server to review them.

Only stdlib, grpcio and protobuf: this runs in CI images that do not carry the server.
Files are sent in the order given, as exact bytes; a ``<file>.yaml`` sidecar next to a
migration is sent as its metadata. Failures raise CheckError subclasses that say
whether the caller's input was at fault or the check could not be completed
(``sqlgate_client.exitcodes.for_exception`` turns them into exit codes).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack

from sqlgate_client.convert import ResponseError, response_to_dict
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2
from sqlgate_client.tls import TlsOptionError, TlsOptions

if TYPE_CHECKING:  # grpc is imported by the calls that talk to a server, not by --local
    import grpc

DIALECTS: dict[str, int] = {
    "postgres": common_pb2.DIALECT_POSTGRES,
    "mysql": common_pb2.DIALECT_MYSQL,
}
DEFAULT_TIMEOUT_S = 60.0
SIDECAR_SUFFIX = ".yaml"


class CheckError(Exception):
    """The check could not produce a decision; ``code`` is the server's status, if any."""

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        self.code = code
        super().__init__(message)


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


def names_base(files: Sequence[Path]) -> Path:
    """The directory file names are relative to: the current one when every file is under
    it, else the files' deepest common directory. The server refuses absolute names and
    ``..`` components, so a file outside the current directory is never sent as given;
    the check and the runner compute names the same way from the same files.
    """
    cwd = Path.cwd().resolve()
    resolved = [f.resolve() for f in files]
    if all(r.is_relative_to(cwd) for r in resolved):
        return cwd
    return Path(os.path.commonpath([r.parent for r in resolved]))


def read_migrations(files: Sequence[Path], *, base: Path | None = None) -> list[MigrationInput]:
    """Read already-ordered files (and their sidecars); InvalidRequest if one is unreadable."""
    base = base or (names_base(files) if files else None)
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


class RequestFields(TypedDict, total=False):
    """The CheckRequest fields besides the migrations (environment/target/dialect required)."""

    environment: Required[str]
    target: Required[str]
    dialect: Required[str]
    repo: str
    commit: str
    variables: Mapping[str, str] | None
    server_version: str
    catalog: bytes | None
    author: str
    rollback_files: Sequence[str]
    context_files: Sequence[str]
    since: str


def build_request(
    *, migrations: Sequence[MigrationInput], **fields: Unpack[RequestFields]
) -> review_pb2.CheckRequest:
    """The CheckRequest for these inputs; InvalidRequest on an unknown dialect."""
    dialect = fields["dialect"]
    if dialect not in DIALECTS:
        raise InvalidRequest(
            f"unknown dialect {dialect!r} (expected one of: {', '.join(DIALECTS)})"
        )
    return review_pb2.CheckRequest(
        repo=fields.get("repo", ""),
        commit=fields.get("commit", ""),
        environment=fields["environment"],
        target=fields["target"],
        dialect=DIALECTS[dialect],  # type: ignore[arg-type]
        migrations=[
            review_pb2.Migration(path=m.path, content=m.content, metadata=m.metadata or b"")
            for m in migrations
        ],
        variables=dict(fields.get("variables") or {}),
        server_version=fields.get("server_version", ""),
        catalog=fields.get("catalog") or b"",
        author=fields.get("author", ""),
        rollback_files=list(fields.get("rollback_files", ())),
        context_files=list(fields.get("context_files", ())),
        since=fields.get("since", ""),
    )


def review_call(
    address: str,
    method: str,
    request: Any,
    *,
    token: str | None,
    timeout: float,
    tls: TlsOptions | None,
    options: Sequence[tuple[str, Any]] = (),
) -> Any:
    """One ReviewService call on its own channel, failures mapped to CheckError classes."""
    import grpc

    from sqlgate_client.channel import bearer, open_channel
    from sqlgate_client.gen.sqlgate.v1 import review_pb2_grpc

    try:
        with open_channel(address, tls=tls, options=options) as channel:
            stub = review_pb2_grpc.ReviewServiceStub(channel)
            return getattr(stub, method)(request, timeout=timeout, metadata=bearer(token))
    except TlsOptionError as exc:
        raise InvalidRequest(str(exc)) from exc
    except grpc.RpcError as exc:
        raise _map_rpc_error(address, exc) from exc


def check_remote(
    address: str,
    *,
    migrations: Sequence[MigrationInput],
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    tls: TlsOptions | None = None,
    max_message_bytes: int = 64 * 1024 * 1024,
    **fields: Unpack[RequestFields],
) -> dict[str, Any]:
    """Ask the server at ``address`` to review ``migrations``; returns the result dict."""
    response = review_call(
        address,
        "Check",
        build_request(migrations=migrations, **fields),
        token=token,
        timeout=timeout,
        tls=tls,
        options=[("grpc.max_send_message_length", max_message_bytes)],
    )
    try:
        return response_to_dict(response)
    except ResponseError as exc:
        raise CheckError(str(exc)) from exc


def _map_rpc_error(address: str, exc: grpc.RpcError) -> CheckError:
    import grpc

    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return InvalidRequest(f"server rejected the request: {details}", code=code)
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return NotAuthorized(f"server refused the caller ({code.name}): {details}", code=code)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServerUnreachable(f"cannot reach sqlgate server at {address}: {details}", code=code)
    name = code.name if code is not None else "UNKNOWN"
    return CheckError(f"server error {name}: {details}", code=code)


def token_from_env() -> str | None:
    """The API token from SQLGATE_TOKEN, if set (sent as ``authorization: Bearer``)."""
    return os.environ.get("SQLGATE_TOKEN") or None


def find_rollback_files(files: Sequence[Path], *, base: Path | None = None) -> list[str]:
    """Down files that exist beside ``files`` (sqlgate_client.rollback), as display paths."""
    from sqlgate_client.rollback import down_candidates

    base = base or (names_base(files) if files else None)
    found: list[str] = []
    for path in files:
        for candidate in down_candidates(path.as_posix()):
            if Path(candidate).is_file():
                found.append(display_path(Path(candidate), base))
    return sorted(set(found))


def server_from_env() -> str | None:
    """The server address from SQLGATE_SERVER, if set."""
    return os.environ.get("SQLGATE_SERVER") or None
