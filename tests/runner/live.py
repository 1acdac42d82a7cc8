"""The project's real sqlgate server on 127.0.0.1 for the runner tests.

Built by ``create_server`` from a ``ServerConfig`` exactly as ``sqlgate serve`` builds
it: a SQLite store and a keyset generated under the test's tmp dir, principals with
hashed random API tokens (alice writes migrations, bob approves them in production,
deploy-1 runs them, audrey audits). Nothing is stubbed: Check, Approve, GetKeys,
IssueExecutionToken, RedeemToken and ReportExecution are the real services.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving import TEST_ENVIRONMENTS
from sqlgate.audit.verify import verify_chain
from sqlgate.auth.identities import hash_token, new_token
from sqlgate.config import ApprovalsConfig, EnvironmentRules, PrincipalConfig, ServerConfig
from sqlgate.rpc.server import RunningServer, create_server
from sqlgate.trust.keys import Keyset

RUNNER = "deploy-1"
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {"author": ("production",)},
    "bob": {"approver": ("production",)},
    RUNNER: {"runner": ("production",)},
    "audrey": {"auditor": ("*",)},
}


@dataclass
class Live:
    running: RunningServer
    tokens: dict[str, str]  # principal -> clear API token (test side only)
    config: ServerConfig

    def restart(self) -> None:
        """Stop the server (runners now find nothing listening), then start a new
        process-equivalent on the same store and keys, on a new port."""
        self.running.stop(None)
        self.running = create_server(self.config)
        self.running.server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    def env(self, who: str, **extra: str) -> dict[str, str]:
        """A subprocess environment carrying ``who``'s API token as SQLGATE_TOKEN."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
        env.update(SQLGATE_TOKEN=self.tokens[who], **extra)
        return env

    def events(self, kind: str | None = None) -> list[Any]:
        return [e for e in self.running.app.store.iter_audit() if kind is None or e.kind == kind]

    def assert_chain_ok(self) -> None:
        """verify_chain over the store, checkpoint signatures included."""
        keys = self.running.app.keyset.public_keyset()

        def verify(key_id: str, data: bytes, signature: bytes) -> None:
            keys.verify("checkpoint", key_id, data, signature)

        report = verify_chain(self.running.app.store, verify)
        assert report.ok, report


@contextmanager
def live_server(tmp: Path) -> Iterator[Live]:
    """Start a real server on 127.0.0.1:<free port>; stop it on exit."""
    Keyset.generate(tmp / "keys")
    tokens = {pid: new_token() for pid in ROLES}
    config = ServerConfig(
        listen="127.0.0.1:0",
        store=f"sqlite:///{tmp / 'sqlgate.db'}",
        keys=tmp / "keys",
        principals=tuple(
            PrincipalConfig(id=pid, tokens=(hash_token(tokens[pid]),), roles=roles)
            for pid, roles in ROLES.items()
        ),
        audit_checkpoint_every=3,
        approvals=ApprovalsConfig(environments={"production": EnvironmentRules(approvers=1)}),
        environments=TEST_ENVIRONMENTS,
    )
    running = create_server(config)
    running.server.start()
    live = Live(running, tokens, config)
    try:
        yield live
    finally:
        live.running.stop(None)
