"""The impact preview: per changing statement the objects, the static lock and the
catalog's size estimate, through the real parser and policies, across the gRPC message
and in the text and markdown outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlgate.impact import impact_of, objects_of
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, review
from sqlgate.rpc.messages import result_to_proto
from sqlgate_client.convert import response_to_dict
from sqlgate_client.render import markdown, text

ROOT = Path(__file__).resolve().parents[1]
SQL = b"""SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
CREATE INDEX CONCURRENTLY orders_status ON orders (status);
ALTER TABLE orders ADD CONSTRAINT orders_cust_fk FOREIGN KEY (customer_id)
    REFERENCES customers (id) NOT VALID;
UPDATE customers SET tier = 'gold' WHERE id < 10;
CREATE TABLE audit (id bigint PRIMARY KEY, note text);
SELECT 1;
DROP INDEX CONCURRENTLY old_idx;
"""


def _catalog() -> bytes:
    def table(name: str, rows: int, size: int) -> dict[str, object]:
        return {
            "schema": "public",
            "name": name,
            "kind": "table",
            "partition_of": None,
            "row_estimate": rows,
            "size_bytes": size,
            "columns": [],
            "indexes": [],
            "constraints": [],
            "foreign_keys": [],
        }

    return json.dumps(
        {
            "version": 1,
            "dialect": "postgres",
            "server_version": "15.4",
            "server_version_num": 150004,
            "database": "app",
            "taken_at": "2026-01-02T03:04:05Z",
            "schemas": ["public"],
            "extensions": [],
            "tables": [
                table("customers", 52_000, 9_437_184),
                table("orders", 3_400_000, 1_610_612_736),
            ],
        }
    ).encode()


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    e = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    yield e
    e.close()


def _review(engine: EmbeddedEngine, catalog: bytes | None) -> dict[str, object]:
    request = ReviewRequest(
        repo="acme/shop",
        commit="c1",
        environment="production",
        target="main-db",
        dialect="postgres",
        migrations=[MigrationFile("db/V5__orders.sql", SQL)],
        catalog=catalog,
    )
    return review(request, engine=engine).to_json()


def test_impact_lists_changing_statements_with_objects_lock_and_size(
    engine: EmbeddedEngine,
) -> None:
    impact = _review(engine, _catalog())["impact"]
    assert isinstance(impact, list)
    by_line = {e["line"]: e for e in impact}
    assert sorted(by_line) == [2, 3, 4, 6, 7, 9]  # SET and SELECT change nothing
    assert by_line[2] == {
        "file": "db/V5__orders.sql",
        "line": 2,
        "kind": "add_column",
        "objects": ["table orders", "column orders.status"],
        "lock": "ACCESS EXCLUSIVE",
        "table_rows": 3_400_000,
        "table_bytes": 1_610_612_736,
        "measured": None,
    }
    assert by_line[3]["objects"] == ["table orders", "index orders_status"]
    assert by_line[3]["lock"] == "SHARE UPDATE EXCLUSIVE"
    assert by_line[4]["objects"] == ["table orders", "constraint orders_cust_fk"]
    assert by_line[4]["lock"] == "SHARE ROW EXCLUSIVE"
    assert (by_line[6]["lock"], by_line[6]["table_rows"]) == ("ROW EXCLUSIVE", 52_000)
    # a new table: no lock on an existing table, no size
    assert by_line[7]["objects"] == ["table audit", "column audit.id", "column audit.note"]
    assert (by_line[7]["lock"], by_line[7]["table_rows"], by_line[7]["table_bytes"]) == (
        None,
        None,
        None,
    )
    assert by_line[9]["objects"] == ["index old_idx"]


def test_without_catalog_sizes_are_unknown_and_the_output_says_so(
    engine: EmbeddedEngine,
) -> None:
    result = _review(engine, None)
    impact = result["impact"]
    assert isinstance(impact, list)
    assert all(e["table_rows"] is None and e["table_bytes"] is None for e in impact)
    assert "table sizes unknown" in text.render(result, {})


def test_impact_survives_the_grpc_message_unchanged(engine: EmbeddedEngine) -> None:
    request = ReviewRequest(
        repo="r",
        commit="c",
        environment="production",
        target="t",
        dialect="postgres",
        migrations=[MigrationFile("db/V5__orders.sql", SQL)],
        catalog=_catalog(),
    )
    result = review(request, engine=engine)
    message = result_to_proto(result)
    assert response_to_dict(message)["impact"] == result.to_json()["impact"]


def test_text_and_markdown_show_a_summary_and_one_row_per_statement(
    engine: EmbeddedEngine,
) -> None:
    result = _review(engine, _catalog())
    out = text.render(result, {})
    assert (
        "impact: 6 statement(s) change 3 table(s); 2 take a lock that blocks writes "
        "(SHARE or stronger); largest table: orders (~3,400,000 rows, 1.5 GB)" in out
    )
    assert (
        "  db/V5__orders.sql:2 add_column: table orders, column orders.status; "
        "ACCESS EXCLUSIVE; ~3,400,000 rows, 1.5 GB" in out
    )
    md = markdown.render(result, {})
    assert "#### Impact" in md
    assert (
        "| statement | changes | lock (static) | table size (catalog) | measured (rehearsal) |"
        in md
    )
    assert (
        "| `db/V5__orders.sql:6` update | table customers | ROW EXCLUSIVE | ~52,000 rows, 9.0 MB"
        " | not rehearsed |" in md
    )
    assert md.index("#### Impact") < md.index("<sub>policy")


def test_markdown_cells_are_escaped_and_long_lists_truncated() -> None:
    entry = {
        "file": "x.sql",
        "line": 1,
        "kind": "add_column",
        "objects": ["table a|b", "column a|b.<script>"],
        "lock": "ACCESS EXCLUSIVE",
        "table_rows": None,
        "table_bytes": None,
    }
    result = {
        "decision": "allow",
        "findings": [],
        "statements": 5000,
        "policy_digest": "sha256:00",
        "suppressions": [],
        "impact": [dict(entry, line=i) for i in range(1, 5001)],
    }
    md = markdown.render(result, {})
    assert "table a\\|b, column a\\|b.&lt;script&gt;" in md and "<script>" not in md
    assert len(md) <= markdown.LIMIT
    assert "more statement(s) not shown" in md


def test_objects_of_statement_shapes() -> None:
    assert objects_of({"kind": "drop_table", "table": "t"}) == ["table t"]
    assert objects_of({"kind": "rename_column", "table": "t", "column": "a"}) == [
        "table t",
        "column t.a",
    ]
    assert objects_of({"kind": "create_sequence", "name": "s"}) == ["sequence s"]
    assert impact_of([{"kind": "set"}, {"kind": "select"}, {"kind": "commit"}]) == []


def test_measured_figures_from_rehearsal_evidence(engine: EmbeddedEngine) -> None:
    evidence = [
        {
            "kind": "rehearsal",
            "evidence_id": "ev7",
            "environment": "staging",
            "statements": [
                {
                    "file": "db/V5__orders.sql",
                    "line": 2,
                    "duration_ms": 412.4,
                    "rows": 0,
                    "locks": [
                        {"relation": "orders", "mode": "ACCESS EXCLUSIVE", "held_ms": 950.2},
                        {"relation": "x_new", "mode": "ACCESS EXCLUSIVE", "created": True},
                    ],
                    "rewrites": [{"relation": "orders", "kind": "table"}],
                }
            ],
        }
    ]
    request = ReviewRequest(
        repo="r",
        commit="c",
        environment="production",
        target="t",
        dialect="postgres",
        migrations=[MigrationFile("db/V5__orders.sql", SQL)],
        catalog=_catalog(),
    )
    result = review(request, engine=engine, evidence=evidence)
    by_line = {e["line"]: e for e in result.to_json()["impact"]}
    assert by_line[2]["measured"] == {
        "evidence_id": "ev7",
        "environment": "staging",
        "duration_ms": 412.4,
        "rows": 0,
        "locks": ["ACCESS EXCLUSIVE on orders 950 ms"],
        "rewrites": ["orders"],
    }
    assert by_line[3]["measured"] is None
    # through the gRPC message unchanged, and shown in text and markdown
    as_dict = response_to_dict(result_to_proto(result))
    assert as_dict["impact"] == result.to_json()["impact"]
    assert (
        "measured in staging (ev7): 412 ms, 0 rows; ACCESS EXCLUSIVE on orders 950 ms; "
        "rewrote orders" in text.render(as_dict, {})
    )
    assert "measured in staging (ev7)" in markdown.render(as_dict, {})
