"""The runner and CI keep the signed checkpoint they were shown; it exposes a doctored log.

Real server (its own SQLite store for this test), ``sqlgate check`` (CLI, JSON output)
and ``sqlgate-runner apply`` (subprocess) against PostgreSQL. The check's JSON carries
the signed checkpoint of its audit event; the runner writes the checkpoint of its
report's event to ``<state dir>/checkpoints/``. Then someone with write access to the
store truncates the log (the report's events gone with their checkpoints) or rewrites it
(an event before the check removed, the chain re-hashed): ``sqlgate audit verify`` on the
store alone says ok, with the kept checkpoint it fails.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live import Live, live_server
from sqlgate.audit.chain import GENESIS_HASH, canonical_json, event_canonical, event_hash
from sqlgate.store.sql import from_us, to_us
from test_e2e import ENV, TARGET, Repo, repo

__all__ = ["repo"]  # the end-to-end suite's fixture, on this module's own server

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A server of this test's own: the test tampers with its store."""
    with live_server(tmp_path / "server") as served:
        yield served


def _checked(repo: Repo, path: str) -> dict[str, object]:
    out = repo._cli(
        "alice",
        "sqlgate",
        "check",
        "--server",
        repo.live.address,
        "--env",
        ENV,
        "--target",
        TARGET,
        "--format",
        "json",
        path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _verify(live: Live, *checkpoints: Path) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "sqlgate"), "audit", "verify", "--store", live.config.store]
    args += ["--keys", str(live.config.keys)]
    for cp in checkpoints:
        args += ["--checkpoint", str(cp)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _db(live: Live) -> sqlite3.Connection:
    return sqlite3.connect(live.config.store.removeprefix("sqlite:///"), isolation_level=None)


@pytest.mark.slow
def test_kept_checkpoints_expose_truncation_and_rewrite(repo: Repo, tmp_path: Path) -> None:
    repo.conn.execute("CREATE TABLE t (id bigint PRIMARY KEY)")
    path = repo.write("V1__idx.sql", "CREATE TABLE kept (id bigint PRIMARY KEY);\n")
    result = _checked(repo, path)
    ci_kept = tmp_path / "ci-checkpoint.json"
    ci_kept.write_text(json.dumps(result["audit_checkpoint"]))
    ran = repo.run(path, verdict=str(result["verdict_id"]))
    assert ran.returncode == 0, ran.stderr
    [runner_kept] = sorted((repo.root / ".sqlgate-runner" / "checkpoints").glob("*.json"))
    report_seq = json.loads(runner_kept.read_text())["sequence"]
    check_seq = json.loads(ci_kept.read_text())["sequence"]
    assert check_seq < report_seq
    assert _verify(repo.live, ci_kept, runner_kept).returncode == 0

    db = _db(repo.live)  # the store's writer, acting on its own
    rows = db.execute(
        "SELECT sequence, at, kind, principal, details FROM audit_events ORDER BY sequence"
    ).fetchall()
    db.execute("DELETE FROM audit_checkpoints WHERE sequence >= ?", (report_seq - 1,))
    db.execute("DELETE FROM audit_events WHERE sequence >= ?", (report_seq - 1,))
    truncated = _verify(repo.live)
    assert truncated.returncode == 0, "the store alone cannot see it"
    refused = _verify(repo.live, runner_kept)
    assert refused.returncode == 1 and "truncated" in refused.stdout, refused.stdout

    # rewrite: drop the event before the check, re-hash everything after it
    db.execute("DELETE FROM audit_checkpoints")
    db.execute("DELETE FROM audit_events WHERE sequence >= ?", (check_seq - 1,))
    prev = db.execute(
        "SELECT hash FROM audit_events WHERE sequence = ?", (check_seq - 2,)
    ).fetchone()
    prev_hash = prev[0] if prev else GENESIS_HASH
    for seq, (_old, at, kind, principal, details) in enumerate(
        rows[check_seq - 1 :], start=check_seq - 1
    ):
        when = from_us(at)
        assert when is not None
        digest = event_hash(
            prev_hash, event_canonical(seq, when, kind, principal, json.loads(details))
        )
        db.execute(
            "INSERT INTO audit_events (sequence, at, kind, principal, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                to_us(when),
                kind,
                principal,
                canonical_json(json.loads(details)).decode(),
                prev_hash,
                digest,
            ),
        )
        prev_hash = digest
    db.close()
    assert _verify(repo.live).returncode == 0, "the rehashed log verifies on its own"
    refused = _verify(repo.live, ci_kept)
    assert refused.returncode == 1 and "rewritten" in refused.stdout, refused.stdout
