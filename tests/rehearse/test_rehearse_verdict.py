"""``rehearse --verdict``: the rehearsal runs exactly a signed verdict's files, checked on
a real server's verdict against the pinned keys; other bytes, other files or another
server's keys are refused before any scratch database exists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rehearse_db import Target
from serving import address_of, check_files, principals_config, serving
from sqlgate.config import EnvironmentRules
from sqlgate.rpc.server import RunningServer
from sqlgate.trust.keys import Keyset

pytestmark = pytest.mark.postgres

UP = "ALTER TABLE orders ADD COLUMN status text;\n"
DOWN = "ALTER TABLE orders DROP COLUMN status;\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    config, tokens = principals_config(
        tmp_path / "srv",
        f"sqlite:///{tmp_path / 'srv.db'}",
        {"alice": {"author": ("*",)}, "rita": {"runner": ("*",)}},
        {"staging": EnvironmentRules(approvers=1)},
    )
    with serving(config) as running:
        yield running, tokens


def _check(
    running: RunningServer,
    token: str,
    files: dict[str, str],
    *,
    variables: dict[str, str] | None = None,
    dialect: str = "postgres",
) -> str:
    response = check_files(
        running, token, files, environment="staging", dialect=dialect, variables=variables
    )
    return str(response.verdict_id)


def test_rehearsal_is_bound_to_the_verdict_and_refuses_other_bytes(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    target.write("db/V1__status.sql", UP)
    target.write("db/U1__status.sql", DOWN)
    verdict_id = _check(running, tokens["alice"], {"db/V1__status.sql": UP})
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    bound = ("--verdict", verdict_id, "--server", address_of(running))

    code, out, err, report = target.rehearse(capsys, "db/V1__status.sql", extra=bound)
    assert code == 0, out + err
    assert report["verdict"]["verdict_id"] == verdict_id
    assert report["verdict"]["environment"] == "staging"
    assert report["files"][0]["sha256"] == __import__("hashlib").sha256(UP.encode()).hexdigest()
    assert f"rehearsed verdict {verdict_id}" in out

    # one byte more: 13, nothing rehearsed (no report, no scratch)
    target.write("db/V1__status.sql", UP + " ")
    code, _out, err, report = target.rehearse(capsys, "db/V1__status.sql", extra=bound)
    assert code == 13 and "not the reviewed" in err and report == {}

    # another file set: 12
    target.write("db/V1__status.sql", UP)
    target.write("db/V2__more.sql", "SELECT 1;\n")
    code, _out, err, _report = target.rehearse(
        capsys, "db/V1__status.sql", "db/V2__more.sql", extra=bound
    )
    assert code == 12 and "covers the path(s) db/V1__status.sql" in err

    # keys of another server pinned: 10
    other = Keyset.generate(target.dir / "other-keys")
    keys = target.dir / "other.json"
    keys.write_text(other.public_keyset().to_json())
    code, _out, err, _report = target.rehearse(
        capsys, "db/V1__status.sql", extra=(*bound, "--keys", str(keys))
    )
    assert code == 10, err

    # an unknown verdict: 12
    code, _out, err, _report = target.rehearse(
        capsys, "db/V1__status.sql", extra=("--verdict", "nope", "--server", address_of(running))
    )
    assert code == 12 and "GetVerdict" in err
    assert json.dumps(report)  # the last good report stays valid JSON


def test_mysql_target_is_refused_plainly(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.write("V1__x.sql", "SELECT 1;\n")
    from sqlgate_client.runner import cli

    code = cli.main(
        ["rehearse", "--dsn", "mysql://root@127.0.0.1/app", "--scratch-dsn", "x", "V1__x.sql"]
    )
    _out, err = capsys.readouterr()
    assert code == 2 and "PostgreSQL targets only" in err


def test_rehearsal_runs_the_reviewed_expansion_under_the_verdicts_binding(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    templated = "ALTER TABLE orders ADD COLUMN ${col} text;\n"
    target.write("db/V1__col.sql", templated)
    verdict_id = _check(
        running, tokens["alice"], {"db/V1__col.sql": templated}, variables={"col": "status"}
    )
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    bound = ("--verdict", verdict_id, "--server", address_of(running))

    # no values, or other values: the reviewed expansion is not what would run (26)
    for extra in ((), ("--var", "col=status text; DROP TABLE orders; --")):
        code, _out, err, report = target.rehearse(capsys, "db/V1__col.sql", extra=(*bound, *extra))
        assert code == 26, err
        assert report == {}, "nothing may be rehearsed under a binding mismatch"

    # the reviewed values: the scratch ran the expansion, not the raw placeholder
    code, out, err, report = target.rehearse(
        capsys, "db/V1__col.sql", extra=(*bound, "--var", "col=status")
    )
    assert code == 0, out + err
    [statement] = [t for t in report["statements"] if t["file"] == "db/V1__col.sql"]
    assert statement["outcome"] == "succeeded", statement
    assert statement["sql"].strip().rstrip(";") == "ALTER TABLE orders ADD COLUMN status text"

    # --var without a verdict has nothing to be checked against: usage (2)
    code, _out, err, _report = target.rehearse(capsys, "db/V1__col.sql", extra=("--var", "a=b"))
    assert code == 2 and "--var goes with --verdict" in err


def test_rehearsal_refuses_a_verdict_reviewed_as_another_dialect(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    target.write("db/V1__status.sql", UP)
    verdict_id = _check(running, tokens["alice"], {"db/V1__status.sql": UP}, dialect="mysql")
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    code, _out, err, report = target.rehearse(
        capsys,
        "db/V1__status.sql",
        extra=("--verdict", verdict_id, "--server", address_of(running)),
    )
    assert code == 26 and "'mysql'" in err, err
    assert report == {}
