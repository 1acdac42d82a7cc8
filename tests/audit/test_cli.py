"""``sqlgate audit verify`` against a real SQLite store, with real keys from sqlgate.trust."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlgate.audit.log import AuditLog
from sqlgate.cli.main import main
from sqlgate.store import SqliteStore
from sqlgate.trust.keys import Keyset


@pytest.fixture
def audited(tmp_path: Path) -> tuple[str, Path, Path]:
    keys_dir = tmp_path / "keys"
    keyset = Keyset.generate(keys_dir)
    public = tmp_path / "public.json"
    public.write_text(keyset.public_keyset().to_json(), encoding="utf-8")
    path = tmp_path / "audit.db"
    store = SqliteStore(path)
    log = AuditLog(store, keyset.signer("checkpoint"), every=4)
    for i in range(10):
        log.record("check", "user:alice", {"i": i})
    store.close()
    return f"sqlite:///{path}", public, keys_dir


def test_verify_ok_with_public_keyset(
    audited: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, public, _ = audited
    assert main(["audit", "verify", "--store", url, "--keys", str(public)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 10 events, 2 checkpoints"


def test_verify_ok_with_key_directory_and_env(
    audited: tuple[str, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _, keys_dir = audited
    monkeypatch.setenv("SQLGATE_STORE", url)
    assert main(["audit", "verify", "--keys", str(keys_dir)]) == 0
    assert "ok: 10 events" in capsys.readouterr().out


def test_verify_without_keys_says_so(
    audited: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--store", audited[0]]) == 0
    assert "signatures NOT checked" in capsys.readouterr().out


def test_verify_names_the_edited_event(
    audited: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, public, _ = audited
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("UPDATE audit_events SET kind = 'approve' WHERE sequence = 3")
    conn.close()
    assert main(["audit", "verify", "--store", url, "--keys", str(public)]) == 1
    assert capsys.readouterr().out.startswith("FAILED at event 3:")


def test_verify_refuses_checkpoints_signed_by_another_key(
    audited: tuple[str, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, _ = audited
    other = tmp_path / "other.json"
    other.write_text(Keyset.generate(tmp_path / "k2").public_keyset().to_json(), "utf-8")
    assert main(["audit", "verify", "--store", url, "--keys", str(other)]) == 1
    assert "FAILED at event 4:" in capsys.readouterr().out


def test_verify_missing_store_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["audit", "verify", "--store", f"sqlite:///{tmp_path / 'nope.db'}"]) == 6
    assert "no such SQLite file" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()
    monkeypatch.delenv("SQLGATE_STORE", raising=False)
    assert main(["audit", "verify"]) == 6
    assert "no store" in capsys.readouterr().err


def test_verify_reads_store_and_keys_from_the_server_config(
    audited: tuple[str, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, keys_dir = audited
    config = tmp_path / "server.yaml"
    config.write_text(f"store: {url}\nkeys: {keys_dir}\n", encoding="utf-8")
    assert main(["audit", "verify", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "ok: 10 events, 2 checkpoints"
    assert "NOT checked" not in out
