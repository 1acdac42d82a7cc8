"""Rehearsal evidence on a real server: ``rehearse --verdict --submit`` records the result
bound to the verdict's files and audits it; a later check of the same files sees it in
``input.evidence`` and a failed rehearsal denies them (``rehearsal-failed``) with the
evidence in the message; other files, other callers and malformed reports are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from rehearse_db import Target
from serving import address_of, check_files, principals_config, serving
from sqlgate.config import EnvironmentRules
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
)

pytestmark = pytest.mark.postgres

UP = "ALTER TABLE orders ADD COLUMN status text;\nCREATE INDEX orders_status ON orders (status);\n"
GOOD_DOWN = "DROP INDEX orders_status;\nALTER TABLE orders DROP COLUMN status;\n"
BAD_DOWN = (
    "ALTER TABLE orders DROP COLUMN status CASCADE;\nCREATE INDEX left_behind ON orders (id);\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    config, tokens = principals_config(
        tmp_path / "srv",
        f"sqlite:///{tmp_path / 'srv.db'}",
        {"alice": {"author": ("*",)}, "rita": {"runner": ("staging",)}},
        {"staging": EnvironmentRules(approvers=1), "production": EnvironmentRules(approvers=1)},
    )
    with serving(config) as running:
        yield running, tokens


def _meta(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _check(running: RunningServer, token: str, env: str, files: dict[str, str]) -> Any:
    return check_files(running, token, files, environment=env)


def _events(running: RunningServer, kind: str) -> list[Any]:
    return [e for e in running.app.store.iter_audit() if e.kind == kind]


def test_failed_rollback_evidence_denies_the_same_files_with_the_diff(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    target.write("db/V1__s.sql", UP)
    target.write("db/U1__s.sql", BAD_DOWN)
    staging = _check(running, tokens["alice"], "staging", {"db/V1__s.sql": UP})
    assert not [f for f in staging.findings if f.rule == "rehearsal-failed"]
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    code, out, err, report = target.rehearse(
        capsys,
        "db/V1__s.sql",
        extra=("--verdict", staging.verdict_id, "--server", address_of(running), "--submit"),
    )
    assert code == 23, out + err  # the rollback left an index behind
    assert "recorded as audit event" in out and "(FAILED)" in out
    [event] = _events(running, "rehearsal_evidence")
    assert event.details["verdict_id"] == staging.verdict_id
    assert event.details["environment"] == "staging" and event.details["passed"] is False
    assert event.details["rollback"] == "failed" and event.details["data_rows"] == 0

    # production, same files: denied, the evidence and its diff in the message
    production = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP})
    assert production.decision == common_pb2.DECISION_DENY
    [finding] = [f for f in production.findings if f.rule == "rehearsal-failed"]
    assert report["rollback"]["status"] == "failed"
    assert (
        f"rehearsal {event.details['evidence_id']} in staging/main-db: rollback test failed"
        in finding.message
    )
    assert "+ index public.left_behind" in finding.message
    # other bytes have no evidence: the finding is gone
    other = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP + "\n"})
    assert not [f for f in other.findings if f.rule == "rehearsal-failed"]


def test_passing_evidence_is_recorded_and_raises_nothing(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    target.write("db/V1__s.sql", UP)
    target.write("db/U1__s.sql", GOOD_DOWN)
    staging = _check(running, tokens["alice"], "staging", {"db/V1__s.sql": UP})
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    code, out, err, _report = target.rehearse(
        capsys,
        "db/V1__s.sql",
        extra=("--verdict", staging.verdict_id, "--server", address_of(running), "--submit"),
    )
    assert code == 0, out + err
    assert "(passed)" in out
    [record] = running.app.store.list_rehearsals(
        (("db/V1__s.sql", __import__("hashlib").sha256(UP.encode()).hexdigest()),)
    )
    assert record.passed and record.environment == "staging"
    locks = record.summary["statements"][0]["locks"]
    assert locks[0]["relation"] == "orders" and locks[0]["mode"] == "ACCESS EXCLUSIVE"
    production = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP})
    assert not [f for f in production.findings if f.rule == "rehearsal-failed"]
    # the impact preview carries the measured figures of that rehearsal
    first = production.impact[0]
    assert first.HasField("measured") and first.measured.environment == "staging"
    assert first.measured.locks[0].startswith("ACCESS EXCLUSIVE on orders")


def test_submissions_that_do_not_match_the_verdict_or_caller_are_refused(
    server: tuple[RunningServer, dict[str, str]],
) -> None:
    running, tokens = server
    staging = _check(running, tokens["alice"], "staging", {"db/V1__s.sql": UP})
    digest = __import__("hashlib").sha256(UP.encode()).hexdigest()
    report = json.dumps({"files": [{"path": "db/V1__s.sql", "sha256": digest}]}).encode()

    def submit(who: str, digests: list[tuple[str, str]], body: bytes, verdict: str) -> Any:
        with open_channel(address_of(running), tls=None) as channel:
            return execution_pb2_grpc.ExecutionServiceStub(channel).SubmitRehearsal(
                execution_pb2.SubmitRehearsalRequest(
                    evidence_id="ev-1",
                    verdict_id=verdict,
                    digests=[common_pb2.FileDigest(path=p, sha256=d) for p, d in digests],
                    rehearsal=body,
                ),
                timeout=30,
                metadata=_meta(tokens[who]),
            )

    cases = [
        ("alice", [("db/V1__s.sql", digest)], report, staging.verdict_id, "not_runner"),
        ("rita", [("db/V1__s.sql", "0" * 64)], report, staging.verdict_id, "digest_mismatch"),
        ("rita", [("db/V9__x.sql", digest)], report, staging.verdict_id, "digest_mismatch"),
        ("rita", [("db/V1__s.sql", digest)], b"not json", staging.verdict_id, "bad_request"),
        ("rita", [("db/V1__s.sql", digest)], b'{"files": []}', staging.verdict_id, "digest"),
        ("rita", [("db/V1__s.sql", digest)], report, "vrd_nope", "verdict_not_found"),
    ]
    for who, digests, body, verdict, reason in cases:
        with pytest.raises(grpc.RpcError) as info:
            submit(who, digests, body, verdict)
        assert reason in (info.value.details() or ""), (who, reason, info.value.details())
    assert len(_events(running, "rehearsal_evidence_refused")) == len(cases)
    assert _events(running, "rehearsal_evidence") == []

    # production verdict: rita holds runner only in staging
    production = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP})
    with pytest.raises(grpc.RpcError) as info:
        submit("rita", [("db/V1__s.sql", digest)], report, production.verdict_id)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # accepted once; the same id again with the same content is not a second record
    first = submit("rita", [("db/V1__s.sql", digest)], report, staging.verdict_id)
    again = submit("rita", [("db/V1__s.sql", digest)], report, staging.verdict_id)
    assert first.audit_sequence == again.audit_sequence and first.passed
    assert len(_events(running, "rehearsal_evidence")) == 1


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    config, tokens = principals_config(
        tmp_path / "gated",
        f"sqlite:///{tmp_path / 'gated.db'}",
        {"alice": {"author": ("*",)}, "rita": {"runner": ("*",)}},
        {
            "staging": EnvironmentRules(approvers=1),
            "production": EnvironmentRules(
                approvers=1, require_rehearsal=True, require_rollback_test=True
            ),
        },
        promotion=("dev", "staging", "production"),
    )
    with serving(config) as running:
        yield running, tokens


def test_production_needs_a_passing_staging_rehearsal_with_rollback_test(
    target: Target,
    gated: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = gated
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
    target.write("db/V1__s.sql", UP)

    def needs(check: Any) -> list[str]:
        return [f.message for f in check.findings if f.rule == "promotion-requirement"]

    first = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP})
    assert first.decision == common_pb2.DECISION_DENY
    [message] = needs(first)
    assert message.startswith("needs: staging rehearsal")
    # staging itself has no requirement
    staging = _check(running, tokens["alice"], "staging", {"db/V1__s.sql": UP})
    assert needs(staging) == []

    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    bound = ("--verdict", staging.verdict_id, "--server", address_of(running), "--submit")
    # a passing rehearsal without a down file: the rollback test is missing
    code, out, err, _ = target.rehearse(capsys, "db/V1__s.sql", extra=bound)
    assert code == 0, out + err
    [message] = needs(_check(running, tokens["alice"], "production", {"db/V1__s.sql": UP}))
    assert message.startswith("needs: staging rollback test")
    # with the down file: the rollback test passes and the requirement is met
    target.write("db/U1__s.sql", GOOD_DOWN)
    code, out, err, _ = target.rehearse(capsys, "db/V1__s.sql", extra=bound)
    assert code == 0, out + err
    assert needs(_check(running, tokens["alice"], "production", {"db/V1__s.sql": UP})) == []
    # other bytes: no evidence for them, the requirement is back
    changed = _check(running, tokens["alice"], "production", {"db/V1__s.sql": UP + "\n"})
    assert needs(changed) and needs(changed)[0].startswith("needs: staging rehearsal")


def test_promotion_config_is_validated() -> None:
    from sqlgate.config import config_from_mapping
    from sqlgate.errors import ConfigError

    ok = config_from_mapping(
        {
            "approvals": {
                "promotion": ["dev", "staging", "production"],
                "environments": {"production": {"require_rehearsal": True}},
            }
        }
    ).approvals
    assert ok.previous("production") == "staging" and ok.previous("dev") is None
    assert ok.for_environment("production").require_rehearsal is True
    for bad, match in [
        ({"environments": {"production": {"require_rehearsal": True}}}, "promotion"),
        (
            {
                "promotion": ["production"],
                "environments": {"production": {"require_rollback_test": True}},
            },
            "an environment before",
        ),
        ({"promotion": ["a", "a"]}, "twice"),
    ]:
        with pytest.raises(ConfigError, match=match):
            config_from_mapping({"approvals": bad})


def test_measured_rewrite_of_a_large_table_is_refused_with_the_evidence(
    target: Target,
    server: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = server
    target.sql("CREATE TABLE orders (id bigint PRIMARY KEY, qty integer NOT NULL)")
    widen = "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;\n"
    target.write("db/V2__w.sql", widen)
    target.write("db/U2__w.sql", "ALTER TABLE orders ALTER COLUMN qty TYPE integer;\n")
    staging = _check(running, tokens["alice"], "staging", {"db/V2__w.sql": widen})
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["rita"])
    code, out, err, _ = target.rehearse(
        capsys,
        "db/V2__w.sql",
        extra=("--verdict", staging.verdict_id, "--server", address_of(running), "--submit"),
    )
    assert code == 0, out + err
    assert "rewrote table orders" in out

    policies = Path(__file__).resolve().parents[2] / "policies" / "rules" / "meta"
    catalog = (policies / "rehearsal-rewrite-large-table" / "catalog.json").read_bytes()
    checked = check_files(
        running, tokens["alice"], {"db/V2__w.sql": widen}, environment="production", catalog=catalog
    )
    assert checked.decision == common_pb2.DECISION_DENY
    [finding] = [f for f in checked.findings if f.rule == "rehearsal-rewrite-large-table"]
    assert "in staging/main-db measured a rewrite of table orders" in finding.message
    assert "about 3400000 rows" in finding.message
    # without the large catalog (sizes unknown) the measured rewrite alone does not deny
    plain = _check(running, tokens["alice"], "production", {"db/V2__w.sql": widen})
    assert not [f for f in plain.findings if f.rule == "rehearsal-rewrite-large-table"]
