"""``sqlgate keys`` and ``sqlgate verdict verify`` through their registered parsers, with
main()'s error handling (a trust failure is exit 1, never a traceback or a pass)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from bindings import binding_for
from sqlgate.cli import keys as keys_cli
from sqlgate.cli import verdict as verdict_cli
from sqlgate.errors import SqlgateError
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import build_statement, sha256_hex, sign_verdict


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="sqlgate")
    sub = parser.add_subparsers(required=True)
    keys_cli.register(sub)
    verdict_cli.register(sub)
    args = parser.parse_args(argv)
    try:
        return cast(Callable[[argparse.Namespace], int], args.func)(args)
    except SqlgateError as exc:
        print(f"sqlgate: error: {exc}")
        return 1


def test_keys_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path / "k")
    assert run("keys", "generate", "--dir", d) == 0
    capsys.readouterr()
    assert run("keys", "rotate", "--dir", d, "--purpose", "token") == 0
    new_id = capsys.readouterr().out.split("\t")[0]
    assert run("keys", "list", "--dir", d) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    states = {row[0]: (row[1], row[2]) for row in rows}
    assert states[new_id] == ("token", "active")
    old_id = next(k for k, (p, s) in states.items() if p == "token" and s == "verify-only")
    verdict_id = next(k for k, (p, _) in states.items() if p == "verdict")
    assert run("keys", "revoke", "--dir", d, verdict_id) == 1  # active: refused
    assert "rotate it first" in capsys.readouterr().out
    assert run("keys", "revoke", "--dir", d, old_id) == 0
    capsys.readouterr()
    out = tmp_path / "public.json"
    assert run("keys", "public", "--dir", d, "-o", str(out)) == 0
    published = {k["key_id"]: k["state"] for k in json.loads(out.read_text())["keys"]}
    assert published[old_id] == "revoked" and published[new_id] == "active"
    assert "PRIVATE" not in out.read_text()


def test_verdict_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    keyset = Keyset.generate(tmp_path / "k")
    Path("m").mkdir()
    Path("m/001.sql").write_bytes(b"ALTER TABLE t ADD COLUMN c int;\n")
    now = datetime.now(UTC)
    statement = build_statement(
        verdict_id="vd_cli",
        decision="allow",
        digests={"m/001.sql": sha256_hex(Path("m/001.sql").read_bytes())},
        binding=binding_for({"m/001.sql": sha256_hex(Path("m/001.sql").read_bytes())}),
        findings=[],
        environment="staging",
        target="db",
        repo=None,
        commit=None,
        policy_digest="sha256:" + "0" * 64,
        approvals=[],
        issued_at=now,
        expires_at=now + timedelta(hours=1),
        audit_sequence=None,
    )
    Path("verdict.json").write_bytes(sign_verdict(statement, keyset.signer("verdict")))
    Path("keys.json").write_text(keyset.public_keyset().to_json())
    verify_argv = (
        "verdict",
        "verify",
        "verdict.json",
        "--keys",
        "keys.json",
        "--files",
        "m/001.sql",
    )

    assert run(*verify_argv) == 0
    assert "vd_cli: signature valid, files match; decision allow" in capsys.readouterr().out

    Path("m/001.sql").write_bytes(b"ALTER TABLE t ADD COLUMN c int;\r\n")
    assert run(*verify_argv) == 1
    assert "m/001.sql" in capsys.readouterr().out

    other = Keyset.generate(tmp_path / "other")
    Path("other.json").write_text(other.public_keyset().to_json())
    assert run("verdict", "verify", "verdict.json", "--keys", "other.json") == 1
    assert "not in the pinned keyset" in capsys.readouterr().out
