"""Truncation and rewrite of the audit log are caught by checkpoints kept outside the store.

On both stores: the real ``AuditLog`` exports every signed checkpoint to a file (as the
server does with ``audit_checkpoint_file``); then the store's writer attacks the log the
two ways the store alone cannot show — deleting the newest events with their
checkpoints, or removing a middle event, re-hashing the rest and dropping the
checkpoints. ``sqlgate audit verify`` on the store alone still says ok (the limit this
fixes); with ``--checkpoint FILE`` it fails and says which. Dressed differently: several
amounts, the single checkpoint a runner keeps, a replaced log, a forged checkpoint.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlgate.audit.chain import GENESIS_HASH, canonical_json, event_canonical, event_hash
from sqlgate.audit.export import CheckpointFile, read_checkpoints
from sqlgate.audit.log import AuditLog
from sqlgate.cli.main import main
from sqlgate.errors import ConfigError
from sqlgate.store.sql import to_us
from sqlgate.trust.keys import Keyset
from store.conftest import Backend

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def logged(backend: Backend, tmp_path: Path) -> tuple[Backend, Path, Path]:
    """20 events, a checkpoint every 4, exported to ``checkpoints.jsonl``."""
    keys = tmp_path / "keys"
    keyset = Keyset.generate(keys)
    exported = tmp_path / "outside" / "checkpoints.jsonl"
    sink = CheckpointFile(exported)
    sink.check_writable()
    ticks = iter(range(10_000))
    log = AuditLog(
        backend.store,
        keyset.signer("checkpoint"),
        every=4,
        clock=lambda: T0 + timedelta(seconds=next(ticks)),
        export=sink,
    )
    for i in range(20):
        log.record("token_redeem" if i % 3 else "check", "runner:deploy", {"i": i})
    return backend, keys, exported


def _verify(
    backend: Backend, keys: Path, *checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    args = ["audit", "verify", "--store", backend.url, "--keys", str(keys)]
    for cp in checkpoints:
        args += ["--checkpoint", str(cp)]
    code = main(args)
    return code, capsys.readouterr().out


def _truncate(backend: Backend, keep: int) -> None:
    backend.raw("DELETE FROM audit_checkpoints WHERE sequence > ?", (keep,))
    backend.raw("DELETE FROM audit_events WHERE sequence > ?", (keep,))


def _rewrite_without(backend: Backend, removed: int) -> None:
    """Remove event ``removed``, renumber and re-hash every later one, drop checkpoints."""
    events = list(backend.store.iter_audit())
    backend.raw("DELETE FROM audit_checkpoints WHERE sequence >= ?", (1,))
    backend.raw("DELETE FROM audit_events WHERE sequence >= ?", (removed,))
    prev = events[removed - 2].hash if removed > 1 else GENESIS_HASH
    for sequence, e in enumerate(events[removed:], start=removed):
        digest = event_hash(prev, event_canonical(sequence, e.at, e.kind, e.principal, e.details))
        backend.raw(
            "INSERT INTO audit_events (sequence, at, kind, principal, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                sequence,
                to_us(e.at),
                e.kind,
                e.principal,
                canonical_json(dict(e.details)).decode(),
                prev,
                digest,
            ),
        )
        prev = digest


def test_exported_checkpoints_verify_on_an_intact_log(
    logged: tuple[Backend, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backend, keys, exported = logged
    assert [cp.sequence for cp in read_checkpoints(exported)] == [4, 8, 12, 16, 20]
    code, out = _verify(backend, keys, exported, capsys=capsys)
    assert code == 0, out
    assert "(5 from outside the store)" in out


@pytest.mark.parametrize("keep", [19, 16, 9, 0])
def test_truncation_is_detected_only_with_the_outside_checkpoints(
    logged: tuple[Backend, Path, Path], capsys: pytest.CaptureFixture[str], keep: int
) -> None:
    backend, keys, exported = logged
    _truncate(backend, keep)
    code, out = _verify(backend, keys, capsys=capsys)
    assert code == 0, "the store alone cannot see a clean truncation (the limit fixed here)"
    code, out = _verify(backend, keys, exported, capsys=capsys)
    assert code == 1, out
    assert "the store was truncated" in out
    assert f"the store ends at event {keep}" in out


@pytest.mark.parametrize("removed", [2, 11, 19])
def test_rewrite_is_detected_only_with_the_outside_checkpoints(
    logged: tuple[Backend, Path, Path], capsys: pytest.CaptureFixture[str], removed: int
) -> None:
    backend, keys, exported = logged
    _rewrite_without(backend, removed)
    code, out = _verify(backend, keys, capsys=capsys)
    assert code == 0, f"the rehashed log verifies on its own: {out}"
    code, out = _verify(backend, keys, exported, capsys=capsys)
    assert code == 1, out
    first = (removed + 3) // 4 * 4  # the first checkpoint at or after the removed event
    assert f"FAILED at event {first}:" in out
    assert "rewritten" in out or "truncated" in out


def test_a_single_kept_checkpoint_is_enough(
    logged: tuple[Backend, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a runner keeps: one checkpoint (a JSON object, not lines) proves everything
    up to its event."""
    backend, keys, exported = logged
    lines = exported.read_text().splitlines()
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(json.loads(lines[1]), indent=2))  # the one at event 8
    _rewrite_without(backend, 5)
    code, out = _verify(backend, keys, kept, capsys=capsys)
    assert (code, "FAILED at event 8:" in out, "rewritten" in out) == (1, True, True), out


def test_a_replaced_log_is_detected(
    logged: tuple[Backend, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    backend, keys, exported = logged
    _truncate(backend, 0)
    log = AuditLog(backend.store, None)
    for i in range(25):  # a fresh, longer, internally valid chain
        log.record("check", "user:mallory", {"i": i})
    code, out = _verify(backend, keys, exported, capsys=capsys)
    assert (code, "rewritten" in out) == (1, True), out


def test_a_forged_outside_checkpoint_is_refused(
    logged: tuple[Backend, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend, keys, exported = logged
    other = Keyset.generate(tmp_path / "other").signer("checkpoint")
    forged = json.loads(exported.read_text().splitlines()[0])
    forged["signature"] = base64.b64encode(other.sign(b"x")).decode()
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    code, out = _verify(backend, keys, bad, capsys=capsys)
    assert code == 1 and "outside checkpoint at 4" in out, out


@pytest.mark.parametrize(
    "text", ["", "{}", '{"sequence": 1}', "not json\n", '[{"sequence": 0, "hash": ""}]']
)
def test_a_malformed_checkpoint_file_is_a_usage_error(
    logged: tuple[Backend, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    backend, keys, _ = logged
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    code, _ = _verify(backend, keys, bad, capsys=capsys)
    assert code == 2


def test_an_unwritable_export_stops_start_up(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot be appended to"):
        CheckpointFile(blocker / "checkpoints.jsonl").check_writable()
