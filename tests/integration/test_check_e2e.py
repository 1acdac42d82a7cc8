"""`sqlgate check` end to end: every rule fixture through --local and a real server.

bad.sql must make its rule fire and good.sql must not, and the JSON printed by the two
paths must be identical, byte for byte. A fixture is PostgreSQL unless its first line
says ``-- dialect: mysql`` (the convention of tests/policy/test_fixtures.py, whose
``DIALECT`` pattern is reused here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from policy.test_fixtures import DIALECT
from sqlgate.cli.main import main

ROOT = Path(__file__).resolve().parent.parent.parent
RULE_DIRS = sorted(p for p in (ROOT / "policies" / "rules").glob("*/*") if p.is_dir())


def run_check(
    capsys: pytest.CaptureFixture[str], where: list[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["check", *where, "--env", "production", "--target", "main-db", *args])
    out, err = capsys.readouterr()
    return code, out, err


def both_ways(
    capsys: pytest.CaptureFixture[str], server_address: str, *args: str
) -> tuple[int, str]:
    local = run_check(capsys, ["--local"], "--format", "json", *args)
    remote = run_check(capsys, ["--server", server_address], "--format", "json", *args)
    assert local[2] == remote[2] == ""
    signed = json.loads(remote[1])
    # The server's answer is the local one plus exactly its signed verdict and the
    # signed checkpoint of the check's audit event.
    assert str(signed.pop("verdict_id")).startswith("vrd_")
    assert signed.pop("verdict")["payloadType"] == "application/vnd.in-toto+json"
    assert set(signed.pop("audit_checkpoint")) == {"sequence", "hash", "at", "key_id", "signature"}
    assert "verdict_id" not in json.loads(local[1])
    assert json.dumps(signed, indent=2, ensure_ascii=False) + "\n" == local[1], (
        "--local and the server disagree"
    )
    assert local[0] == remote[0]
    return local[0], local[1]


def fixture_dialect(sql_file: Path) -> str:
    """The dialect a rule fixture declares on its first line (default postgres)."""
    declared = DIALECT.match(sql_file.read_bytes())
    return declared.group(1).decode() if declared else "postgres"


def test_fixture_dialect_follows_the_first_line(tmp_path: Path) -> None:
    mysql, pg, late = (tmp_path / n for n in ("m.sql", "p.sql", "l.sql"))
    mysql.write_text("-- dialect: mysql\nALTER TABLE t ADD COLUMN c int;\n")
    pg.write_text("ALTER TABLE t ADD COLUMN c int;\n")
    late.write_text("SELECT 1;\n-- dialect: mysql\n")
    assert [fixture_dialect(f) for f in (mysql, pg, late)] == ["mysql", "postgres", "postgres"]
    assert any(fixture_dialect(d / "bad.sql") == "mysql" for d in RULE_DIRS)


def test_every_rule_folder_is_covered() -> None:
    assert len(RULE_DIRS) >= 10
    for d in RULE_DIRS:
        assert (d / "bad.sql").is_file() and (d / "good.sql").is_file(), d


# A rule about rehearsal evidence fires only on evidence the server has stored from a
# runner (its folder's evidence.json feeds tests/policy/test_fixtures.py); the whole
# path, rehearse -> SubmitRehearsal -> Check, is tests/rehearse/test_evidence.py.
STATIC_RULE_DIRS = [d for d in RULE_DIRS if not (d / "evidence.json").is_file()]


def test_evidence_rules_are_the_only_ones_left_to_the_rehearsal_suite() -> None:
    left = {d.name for d in RULE_DIRS} - {d.name for d in STATIC_RULE_DIRS}
    assert left == {"rehearsal-failed", "rehearsal-rewrite-large-table"}


@pytest.mark.parametrize("rule_dir", STATIC_RULE_DIRS, ids=lambda p: p.name)
def test_rule_fires_on_bad_and_not_on_good(
    rule_dir: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    rule = rule_dir.name
    bad_sql, good_sql = rule_dir / "bad.sql", rule_dir / "good.sql"
    dialect = fixture_dialect(bad_sql)
    assert fixture_dialect(good_sql) == dialect, "bad.sql and good.sql declare different dialects"
    catalog = rule_dir / "catalog.json"  # catalog rules: the fixture's catalog goes along
    extra = ["--catalog", str(catalog)] if catalog.is_file() else []
    # a fixture for an older PostgreSQL says so (as tests/policy/test_fixtures.py reads it)
    if version := re.search(r"^--\s*server_version:\s*(\S+)", bad_sql.read_text(), re.M):
        extra += ["--pg-version", version.group(1)]
    code, out = both_ways(capsys, server_address, str(bad_sql), "--dialect", dialect, *extra)
    bad = json.loads(out)
    assert rule in {f["rule"] for f in bad["findings"]}, bad
    assert code == {"allow": 0, "deny": 1, "needs_approval": 3}[bad["decision"]]
    _, out = both_ways(capsys, server_address, str(good_sql), "--dialect", dialect, *extra)
    good = json.loads(out)
    assert rule not in {f["rule"] for f in good["findings"]}, good


def test_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    cases = {
        "V1__allow.sql": ("CREATE TABLE t (id bigint PRIMARY KEY);\n", 0, "allow"),
        "V1__deny.sql": ("CREATE INDEX users_email_idx ON users (email);\n", 1, "deny"),
        "V1__approve.sql": ("DROP TABLE users;\n", 3, "needs_approval"),
    }
    for name, (sql, expected, decision) in cases.items():
        f = tmp_path / name
        f.write_text(sql)
        code, out = both_ways(capsys, server_address, str(f))
        assert (code, json.loads(out)["decision"]) == (expected, decision), name


def test_directory_is_ordered_and_text_output_marks_the_line(
    capsys: pytest.CaptureFixture[str], server_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_check(capsys, ["--server", server_address], "examples/migrations")
    assert err == ""
    assert code == 3
    lines = out.splitlines()
    first = lines.index(
        next(
            x
            for x in lines
            if x.startswith("examples/migrations/V4__widen_invoice_amounts.sql:4:1")
        )
    )
    assert "column-type-change" in lines[first]
    assert lines[first + 1] == "    ALTER TABLE invoices ALTER COLUMN amount_cents TYPE bigint;"
    assert lines[first + 2] == "    ^"
    assert lines[-1].startswith("sqlgate: needs approval (needs_approval): 6 statement(s)")
    local = run_check(capsys, ["--local"], "examples/migrations")
    assert local[1] == out


def test_server_from_environment(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server_address: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLGATE_SERVER", server_address)
    f = tmp_path / "V1__t.sql"
    f.write_text("CREATE TABLE t (id int);\n")
    code, out, _ = run_check(capsys, [], "--format", "json", str(f))
    assert code == 0 and json.loads(out)["decision"] == "allow"


def test_server_invalid_argument_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    f = tmp_path / "V1__latin1.sql"
    f.write_bytes(b"SELECT '\xe9';\n")
    code, out, err = run_check(capsys, ["--server", server_address], str(f))
    assert code == 2 and out == ""
    assert "server rejected the request" in err and "V1__latin1.sql" in err
    code, _, err = run_check(capsys, ["--local"], str(f))
    assert code == 2 and "V1__latin1.sql" in err


def test_placeholders_are_expanded_with_vars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    f = tmp_path / "V1__tpl.sql"
    f.write_text("DROP TABLE ${table};\n")
    code, out = both_ways(capsys, server_address, "--var", "table=users", str(f))
    assert code == 3
    assert "drop-table" in {x["rule"] for x in json.loads(out)["findings"]}
    code, _, err = run_check(capsys, ["--server", server_address], str(f))
    assert code == 2 and "table" in err
