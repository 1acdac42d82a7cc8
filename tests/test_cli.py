"""The check CLI's pieces that need no server: rendering, conversion, argument handling.

End-to-end runs against a real server live in tests/integration/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlgate.cli.check import parse_vars
from sqlgate.cli.main import main
from sqlgate_client.check import InvalidRequest, build_request, read_migrations
from sqlgate_client.convert import ResponseError, response_to_dict
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2
from sqlgate_client.render import FORMATS, render

RESULT: dict[str, Any] = {
    "decision": "deny",
    "findings": [
        {
            "rule": "column-type-change",
            "level": "deny",
            "file": "db/V4__widen.sql",
            "line": 2,
            "column": 5,
            "message": "changing the type of invoices.amount rewrites the table",
            "help": "add a new column, backfill it in batches, then swap",
        },
        {
            "rule": "policy-engine-error",
            "level": "approval",
            "file": "",
            "line": 0,
            "column": 0,
            "message": "no position",
            "help": "",
        },
    ],
    "statements": 3,
    "policy_digest": "sha256:" + "ab" * 32,
}
SOURCES = {"db/V4__widen.sql": "-- widen\n\tALTER TABLE invoices ALTER amount TYPE bigint;\n"}


def test_text_format_marks_the_column() -> None:
    out = render("text", RESULT, SOURCES).splitlines()
    assert out[0] == (
        "db/V4__widen.sql:2:5: deny column-type-change: "
        "changing the type of invoices.amount rewrites the table"
    )
    assert out[1] == "    \tALTER TABLE invoices ALTER amount TYPE bigint;"
    # The tab is kept so the caret lands under column 5 ("L" of ALTER... after the tab).
    assert out[2] == "    \t   ^"
    assert out[3] == "  help: add a new column, backfill it in batches, then swap"
    assert out[4] == "<policy>: approval policy-engine-error: no position"
    assert out[-1].startswith("sqlgate: denied (deny): 3 statement(s), 2 finding(s)")
    assert "policy sha256:abab" in out[-1]


def test_text_format_allow_summary() -> None:
    result = {**RESULT, "decision": "allow", "findings": []}
    assert render("text", result, {}).splitlines() == [
        f"sqlgate: allowed (allow): 3 statement(s), 0 finding(s), policy {RESULT['policy_digest']}"
    ]


def test_json_format_is_one_object() -> None:
    assert json.loads(render("json", RESULT, SOURCES)) == RESULT


def test_registry_lists_core_formats_and_refuses_unknown() -> None:
    assert {"text", "json"} <= set(FORMATS)
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render("xml", RESULT, SOURCES)


def _response(decision: int, level: int) -> review_pb2.CheckResponse:
    return review_pb2.CheckResponse(
        decision=decision,  # type: ignore[arg-type]
        findings=[
            review_pb2.Finding(
                rule="drop-table",
                level=level,
                file="a.sql",
                line=1,
                column=1,  # type: ignore[arg-type]
                message="m",
                help="h",
            )
        ],
        statements=2,
        policy_digest="sha256:00",
    )


def test_convert_response() -> None:
    got = response_to_dict(_response(common_pb2.DECISION_NEEDS_APPROVAL, common_pb2.LEVEL_APPROVAL))
    assert got == {
        "decision": "needs_approval",
        "findings": [
            {
                "rule": "drop-table",
                "level": "approval",
                "file": "a.sql",
                "line": 1,
                "column": 1,
                "message": "m",
                "help": "h",
            }
        ],
        "statements": 2,
        "policy_digest": "sha256:00",
        "suppressions": [],
        "impact": [],
        "reviewed_files": [],
        "context_files": [],
        "server_version": "",
        "server_version_source": "",
    }
    assert list(got) == [
        "decision",
        "findings",
        "statements",
        "policy_digest",
        "suppressions",
        "impact",
        "reviewed_files",
        "context_files",
        "server_version",
        "server_version_source",
    ]


def test_convert_response_impact() -> None:
    response = _response(common_pb2.DECISION_ALLOW, common_pb2.LEVEL_WARN)
    response.impact.add(
        file="a.sql",
        line=2,
        kind="add_column",
        objects=["table t", "column t.c"],
        lock="ACCESS EXCLUSIVE",
        table_rows=1200,
        table_bytes=-1,
    )
    response.impact.add(
        file="a.sql",
        line=3,
        kind="create_table",
        objects=["table u"],
        lock="",
        table_rows=-1,
        table_bytes=-1,
    )
    assert response_to_dict(response)["impact"] == [
        {
            "file": "a.sql",
            "line": 2,
            "kind": "add_column",
            "objects": ["table t", "column t.c"],
            "lock": "ACCESS EXCLUSIVE",
            "table_rows": 1200,
            "table_bytes": None,
            "measured": None,
        },
        {
            "file": "a.sql",
            "line": 3,
            "kind": "create_table",
            "objects": ["table u"],
            "lock": None,
            "table_rows": None,
            "table_bytes": None,
            "measured": None,
        },
    ]


def test_convert_response_suppressions() -> None:
    response = _response(common_pb2.DECISION_ALLOW, common_pb2.LEVEL_WARN)
    response.suppressions.append(
        review_pb2.Suppression(
            rule="drop-table", file="a.sql", line=3, reason="INC-1: dead", scope="statement"
        )
    )
    assert response_to_dict(response)["suppressions"] == [
        {
            "rule": "drop-table",
            "file": "a.sql",
            "line": 3,
            "reason": "INC-1: dead",
            "scope": "statement",
        }
    ]


@pytest.mark.parametrize(
    ("decision", "level"),
    [
        (common_pb2.DECISION_UNSPECIFIED, common_pb2.LEVEL_DENY),
        (common_pb2.DECISION_ALLOW, common_pb2.LEVEL_UNSPECIFIED),
        (99, common_pb2.LEVEL_DENY),
    ],
)
def test_convert_refuses_unknown_enums(decision: int, level: int) -> None:
    with pytest.raises(ResponseError):
        response_to_dict(_response(decision, level))


def test_read_migrations_sends_sidecar_and_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "V1__a.sql").write_bytes(b"SELECT 1;\r\n")
    (tmp_path / "db" / "V1__a.sql.yaml").write_bytes(b"owner: team-a\n")
    (tmp_path / "db" / "V2__b.sql").write_bytes(b"SELECT 2;")
    got = read_migrations([tmp_path / "db" / "V1__a.sql", Path("db/V2__b.sql")])
    assert [(m.path, m.content, m.metadata) for m in got] == [
        ("db/V1__a.sql", b"SELECT 1;\r\n", b"owner: team-a\n"),
        ("db/V2__b.sql", b"SELECT 2;", None),
    ]
    with pytest.raises(InvalidRequest, match="cannot read"):
        read_migrations([tmp_path / "db" / "missing.sql"])


def test_build_request_refuses_unknown_dialect() -> None:
    with pytest.raises(InvalidRequest, match="unknown dialect 'oracle'"):
        build_request(migrations=[], environment="e", target="t", dialect="oracle")
    req = build_request(migrations=[], environment="e", target="t", dialect="mysql")
    assert req.dialect == common_pb2.DIALECT_MYSQL


def test_parse_vars() -> None:
    assert parse_vars(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(InvalidRequest):
        parse_vars(["novalue"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--local", "--dialect", "oracle"], "unknown dialect 'oracle'"),
        (["--local", "--format", "xml"], "unknown format 'xml'"),
        ([], "no server"),
        (["--local", "--var", "oops"], "--var expects KEY=VALUE"),
    ],
)
def test_check_usage_errors_exit_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SQLGATE_SERVER", raising=False)
    f = tmp_path / "V1__x.sql"
    f.write_text("SELECT 1;\n")
    assert main(["check", "--env", "production", *argv, str(f)]) == 2
    assert message in capsys.readouterr().err


def test_check_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--local", "--env", "production", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_check_unreachable_server_exits_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = tmp_path / "V1__x.sql"
    f.write_text("SELECT 1;\n")
    code = main(
        ["check", "--server", f"127.0.0.1:{port}", "--timeout", "5", "--env", "prod", str(f)]
    )
    assert code == 5
    assert f"cannot reach sqlgate server at 127.0.0.1:{port}" in capsys.readouterr().err


def test_policy_test_passes_on_the_shipped_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test"]) == 0
    out = capsys.readouterr().out
    assert ": PASS (" in out and "FAIL" not in out
    assert out.splitlines()[-1].startswith("PASS: ")


def test_policy_test_fails_on_a_failing_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.rego").write_text("package demo\n\nx := 1\n")
    (tmp_path / "p_test.rego").write_text(
        "package demo_test\n\nimport data.demo\n\n"
        "test_ok if { demo.x == 1 }\n\ntest_wrong if { demo.x == 2 }\n"
    )
    assert main(["policy", "test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "data.demo_test.test_ok: PASS" in out
    assert "data.demo_test.test_wrong: FAIL" in out
    assert "FAIL: 1/2" in out
