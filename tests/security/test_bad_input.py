"""Bad input is refused as INVALID_ARGUMENT before the expensive work, never INTERNAL.

One real server (SQLite store) on 127.0.0.1 for the module. Each trick is dressed
several ways: file names (NUL, other C0/C1 controls, bidi overrides, ``..`` in several
spellings, POSIX/Windows/UNC absolute paths) in every place names arrive (Check
migrations, rollback files, RedeemToken digests, execution reports); statement counts
far over the limit that must be refused by the splitter's count (the message says
"counted before parsing"), placeholder expansions over the byte limits, and catalogs
and metadata nested too deeply for a recursive decoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from serving import address_of, serving
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)

from .conftest import SAFE, Env, security_config


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("bad-input")
    config, tokens = security_config(tmp, f"sqlite:///{tmp / 'sqlgate.db'}")
    with serving(config) as running, open_channel(address_of(running), tls=None) as channel:
        yield Env(running, tokens, channel)


def _check(
    env: Env,
    files: list[tuple[str, bytes]],
    *,
    variables: dict[str, str] | None = None,
    catalog: bytes = b"",
    rollback_files: tuple[str, ...] = (),
    metadata: bytes = b"",
) -> review_pb2.CheckResponse:
    request = review_pb2.CheckRequest(
        environment="production",
        target="main-db",
        dialect=common_pb2.DIALECT_POSTGRES,
        repo="acme/app",
        commit="abc123",
        migrations=[review_pb2.Migration(path=p, content=c, metadata=metadata) for p, c in files],
        variables=variables or {},
        catalog=catalog,
        rollback_files=rollback_files,
    )
    stub = review_pb2_grpc.ReviewServiceStub(env.channel)
    return stub.Check(request, timeout=120, metadata=env.meta("alice"))


def _refused(call: object, *parts: str) -> str:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as info:
        call()
    err = info.value
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT, (err.code(), err.details())
    details = str(err.details())
    for part in parts:
        assert part in details, details
    return details


BAD_NAMES = [
    ("db/V1\x00.sql", "U+0000"),
    ("db/V1__x.sql\n-- V2__ok.sql", "U+000A"),
    ("db/\x1b[2KV1.sql", "U+001B"),
    ("db/V1\x7f.sql", "U+007F"),
    ("db/V1\x85.sql", "U+0085"),
    ("db/V1__\u202egpj.sql", "U+202E"),
    ("db/V1__\u2066x\u2069.sql", "U+2066"),
    ("../other-repo/V1.sql", "'..'"),
    ("db/../../etc/V1.sql", "'..'"),
    ("db\\..\\V1.sql", "'..'"),
    ("db/..", "'..'"),
    ("/etc/V1.sql", "absolute"),
    ("//server/share/V1.sql", "absolute"),
    ("\\\\server\\share\\V1.sql", "absolute"),
    ("C:\\migrations\\V1.sql", "absolute"),
    ("c:V1.sql", "absolute"),
]


@pytest.mark.parametrize(("name", "why"), BAD_NAMES)
def test_check_refuses_bad_migration_names(env: Env, name: str, why: str) -> None:
    _refused(lambda: _check(env, [("db/V0__ok.sql", SAFE), (name, SAFE)]), why)


@pytest.mark.parametrize(("name", "why"), BAD_NAMES[::3])
def test_check_refuses_bad_rollback_names(env: Env, name: str, why: str) -> None:
    _refused(lambda: _check(env, [("db/V1__ok.sql", SAFE)], rollback_files=(name,)), why)


@pytest.mark.parametrize(("name", "why"), BAD_NAMES[::2])
def test_redeem_and_report_refuse_bad_names(env: Env, name: str, why: str) -> None:
    stub = execution_pb2_grpc.ExecutionServiceStub(env.channel)
    redeem = execution_pb2.RedeemTokenRequest(
        token="v4.public.not-a-token",
        environment="production",
        target="main-db",
        digests=[common_pb2.FileDigest(path=name, sha256="0" * 64)],
    )
    _refused(lambda: stub.RedeemToken(redeem, timeout=30, metadata=env.meta("rita")), why)
    report = execution_pb2.ReportExecutionRequest(
        report_id="r-1",
        token_id="t-1",
        verdict_id="v-1",
        outcome=execution_pb2.EXECUTION_OUTCOME_FAILED,
        statements=[execution_pb2.StatementReport(file=name, index=0, line=1)],
    )
    _refused(lambda: stub.ReportExecution(report, timeout=30, metadata=env.meta("rita")), why)


def test_ordinary_names_still_pass(env: Env) -> None:
    names = ["V1__a.sql", "db/migrations/V2__b..c.sql", "db/./V3__é.sql", "a b/V4.sql"]
    reply = _check(
        env, [(n, SAFE.replace(b" t ", f" t{i} ".encode())) for i, n in enumerate(names)]
    )
    assert reply.decision in (common_pb2.DECISION_ALLOW, common_pb2.DECISION_NEEDS_APPROVAL)
    assert reply.statements == 4


@pytest.mark.parametrize(
    "files",
    [
        [("db/V1.sql", b"SELECT 1;\n" * 400_000)],  # one file, 8x the limit
        [("db/V1.sql", b"SELECT 1;" * 30_000), ("db/V2.sql", b";;/* x */ DELETE FROM t;" * 30_000)],
        [("db/V1.sql", b"BEGIN;COMMIT;" * 200_000)],  # two per line, no newlines at all
    ],
    ids=["one-file", "two-files-mixed", "one-line"],
)
def test_statement_limit_is_enforced_by_the_count_before_parsing(
    env: Env, files: list[tuple[str, bytes]]
) -> None:
    _refused(lambda: _check(env, files), "more than 50000 statements", "counted before parsing")


@pytest.mark.parametrize(
    ("files", "variables", "what"),
    [
        # 30 x 1 MB: the 4 MiB per-file limit, refused before expanding
        ([("db/V1.sql", b"SELECT '${a}';\n" * 30)], {"a": "x" * (1 << 20)}, "per-file limit"),
        # Go-template and Phabricator spellings, and many small expansions
        ([("db/V1.sql", b"SELECT '{{ .A }}';" * 5000)], {"A": "y" * 1000}, "per-file limit"),
        ([("db/V1.sql", b"SELECT '{$NS}';" * 400)], {"NS": "z" * 12_000}, "per-file limit"),
        # each file under its limit, the set over the 32 MiB total
        (
            [(f"db/V{i}.sql", b"SELECT '${a}';" * 3) for i in range(12)],
            {"a": "w" * (1 << 20)},
            "total size once template placeholders are expanded",
        ),
    ],
    ids=["flyway", "go", "phab", "total"],
)
def test_expanded_size_is_bounded_before_expanding(
    env: Env, files: list[tuple[str, bytes]], variables: dict[str, str], what: str
) -> None:
    _refused(lambda: _check(env, files, variables=variables), what)


def test_expansion_under_the_limits_is_reviewed(env: Env) -> None:
    reply = _check(env, [("db/V1.sql", b"SELECT '${a}';\n" * 3)], variables={"a": "x" * 1000})
    assert reply.statements == 3


@pytest.mark.parametrize("depth", [65, 3_000, 200_000])
@pytest.mark.parametrize("container", ["[]", "{}"])
def test_deep_catalog_is_an_input_error(env: Env, depth: int, container: str) -> None:
    if container == "[]":
        nested = "[" * depth + "]" * depth
    else:
        nested = '{"k": ' * depth + "1" + "}" * depth
    doc = '{"version": 1, "tables": [], "extra": ' + nested + "}"
    if depth < 500:  # valid JSON the decoder can read: the depth check must refuse it
        json.loads(doc)
    _refused(lambda: _check(env, [("db/V1.sql", SAFE)], catalog=doc.encode()), "nests deeper")


def test_deep_metadata_is_an_input_error(env: Env) -> None:
    deep = b"owner: " + b"[" * 5000 + b"]" * 5000 + b"\n"
    _refused(lambda: _check(env, [("db/V1.sql", SAFE)], metadata=deep), "nests too deeply")


def test_server_still_answers_after_the_bad_input(env: Env) -> None:
    assert _check(env, [("db/V1.sql", SAFE)]).statements == 1


def test_cli_local_refusals_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlgate.cli.main import main

    big = tmp_path / "V1__big.sql"
    big.write_bytes(b"SELECT '${a}';\n" * 30)
    code = main(
        ["check", "--local", "--env", "production", "--var", f"a={'x' * 200_000}", str(big)]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "V1__big.sql" in err and "per-file limit of 4194304" in err
    deep = tmp_path / "catalog.json"
    deep.write_text('{"version": 1, "tables": [], "x": ' + "[" * 5000 + "]" * 5000 + "}")
    ok = tmp_path / "V2__ok.sql"
    ok.write_bytes(SAFE)
    code = main(["check", "--local", "--env", "production", "--catalog", str(deep), str(ok)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "nests deeper than 64 levels" in err
