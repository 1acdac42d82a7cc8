"""ReloadingEngine: in-flight evaluations finish on the policy they started on (and say so),
and a polled bundle URL's new revision is adopted while a bad one is rejected."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import PolicyResult
from sqlgate.policy.reload import ReloadingEngine
from sqlgate.policy.source import PolicySource

from .conftest import POLICIES
from .inputs import policy_input, stmt
from .test_bundle_signing import _build, _BundleServer, _keypair


class _Paused:
    """A real embedded engine whose evaluations wait for `go` (to hold one in flight)."""

    def __init__(self, policy_set: PolicySet, go: threading.Event, closed: list[str]) -> None:
        self._engine = EmbeddedEngine(policy_set)
        self._go = go
        self._closed = closed
        self.entered = threading.Event()

    @property
    def policy_digest(self) -> str:
        return self._engine.policy_digest

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        self.entered.set()
        assert self._go.wait(30)
        return self._engine.evaluate(policy_input)

    def close(self) -> None:
        self._closed.append(self.policy_digest)
        self._engine.close()


def test_in_flight_evaluation_keeps_its_policy(tmp_path: Path, policy_set: PolicySet) -> None:
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    go, closed = threading.Event(), []
    built: list[_Paused] = []

    def build(ps: PolicySet) -> _Paused:
        built.append(_Paused(ps, go, closed))
        return built[-1]

    engine = ReloadingEngine(PolicySource(dir=tree), build, policy_set)
    doc = policy_input([stmt("drop_table", 0)])
    results: list[PolicyResult] = []
    worker = threading.Thread(target=lambda: results.append(engine.evaluate(doc)))
    worker.start()
    assert built[0].entered.wait(30)
    (tree / "main.rego").write_text((tree / "main.rego").read_text() + "\n# next\n")
    outcome = engine.reload(reason="test")
    assert outcome.status == "loaded"
    assert engine.policy_digest != policy_set.digest
    assert closed == []  # the old engine still has an evaluation in flight
    go.set()
    worker.join(30)
    (old_result,) = results
    assert old_result.policy_digest == policy_set.digest
    assert old_result.decision == "needs_approval"
    assert closed == [policy_set.digest]  # closed once its last evaluation returned
    new_result = engine.evaluate(doc)
    assert new_result.policy_digest == engine.policy_digest != policy_set.digest
    engine.close()
    assert closed == [policy_set.digest, engine.policy_digest]


@pytest.fixture
def bundle_url() -> Iterator[tuple[str, type[_BundleServer]]]:
    import http.server

    handler = type("Handler", (_BundleServer,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bundle.tar.gz", handler
    finally:
        server.shutdown()
        server.server_close()


def test_polled_bundle_revisions(
    tmp_path: Path, policy_set: PolicySet, bundle_url: tuple[str, type[_BundleServer]]
) -> None:
    url, handler = bundle_url
    private, public = _keypair(tmp_path, "rsa")
    foreign, _ = _keypair(tmp_path, "other")
    handler.body = _build(tmp_path, private).read_bytes()
    source = PolicySource(dir=tmp_path, bundle=url, verification_key=public)
    events: list[Mapping[str, Any]] = []
    engine = ReloadingEngine(source, EmbeddedEngine, source.load_now(), on_event=events.append)
    assert engine.policy_digest == policy_set.digest
    assert engine.reload(reason="bundle", conditional=True).status == "unchanged"  # 304
    # A new revision (another tree), signed with the right key: adopted.
    tree = tmp_path / "next"
    shutil.copytree(POLICIES, tree)
    (tree / "main.rego").write_text((tree / "main.rego").read_text() + "\n# r2\n")
    from sqlgate.cli.main import main

    assert (
        main(
            [
                "policy",
                "build",
                str(tree),
                "-o",
                str(tmp_path / "r2.tar.gz"),
                "--signing-key",
                str(private),
            ]
        )
        == 0
    )
    handler.body, handler.etag = (tmp_path / "r2.tar.gz").read_bytes(), '"r2"'
    outcome = engine.reload(reason="bundle", conditional=True)
    assert outcome.status == "loaded"
    r2 = engine.policy_digest
    assert r2 != policy_set.digest
    # A revision signed by someone else: rejected, r2 keeps serving.
    handler.body, handler.etag = _build(tmp_path, foreign, "r3.tar.gz").read_bytes(), '"r3"'
    assert engine.reload(reason="bundle", conditional=True).status == "rejected"
    assert engine.policy_digest == r2
    assert engine.evaluate(policy_input([stmt("create_table", 0)])).decision == "allow"
    assert [(e["outcome"], e["reason"]) for e in events] == [
        ("loaded", "bundle"),
        ("rejected", "bundle"),
    ]
    assert "does not verify" in events[1]["error"] or "match the key" in events[1]["error"]
    engine.close()


def test_polling_thread_follows_the_url(
    tmp_path: Path, policy_set: PolicySet, bundle_url: tuple[str, type[_BundleServer]]
) -> None:
    """The App's poller (started by `sqlgate serve`) reloads a new revision by itself."""
    from serving import principals_config, serving
    from sqlgate.config import EnvironmentRules, PolicyConfig

    url, handler = bundle_url
    private, public = _keypair(tmp_path, "ec")
    handler.body = _build(tmp_path, private).read_bytes()
    config, _ = principals_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'sqlgate.db'}",
        {"ci": {"ci": ("*",)}},
        {"production": EnvironmentRules()},
    )
    import dataclasses

    config = dataclasses.replace(
        config,
        policies=PolicyConfig(
            bundle=url, verification_key=public, bundle_poll_s=0.2, isolation="thread"
        ),
    )
    with serving(config) as running:
        assert running.engine.policy_digest == policy_set.digest
        assert running.app.start_bundle_polling() is not None
        tree = tmp_path / "next"
        shutil.copytree(POLICIES, tree)
        (tree / "main.rego").write_text((tree / "main.rego").read_text() + "\n# polled\n")
        from sqlgate.cli.main import main

        assert (
            main(
                [
                    "policy",
                    "build",
                    str(tree),
                    "-o",
                    str(tmp_path / "p.tar.gz"),
                    "--signing-key",
                    str(private),
                ]
            )
            == 0
        )
        handler.body, handler.etag = (tmp_path / "p.tar.gz").read_bytes(), '"p2"'
        deadline = time.monotonic() + 30
        while running.engine.policy_digest == policy_set.digest and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running.engine.policy_digest != policy_set.digest
