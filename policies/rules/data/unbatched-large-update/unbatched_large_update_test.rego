package sqlgate.rules.data.unbatched_large_update_test

import rego.v1

import data.sqlgate.rules.data.unbatched_large_update

size := {"large": {"min_rows": 1000, "min_bytes": 1000000}}

stmt(rows, bytes, extra) := object.union({"kind": "update", "index": 1, "table": "events", "has_where": true, "batch": null, "facts": {"table_rows": rows, "table_bytes": bytes}}, extra)

run(s) := r if {
	r := unbatched_large_update.report with input as {"statements": [s]} with data.sqlgate.config.size as size
}

test_fires_on_many_rows if count(run(stmt(5000, 10, {}))) == 1

test_fires_on_many_bytes if count(run(stmt(10, 2000000, {"kind": "delete"}))) == 1

test_quiet_on_a_small_table if count(run(stmt(10, 10, {}))) == 0

test_quiet_when_batched if count(run(stmt(5000, 10, {"batch": {"key": "id", "size": 100}}))) == 0

test_quiet_without_a_catalog if count(run(stmt(null, null, {}))) == 0

test_quiet_without_where if count(run(stmt(5000, 10, {"has_where": false}))) == 0
