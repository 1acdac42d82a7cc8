package sqlgate.rules.catalog.table_not_found_test

import rego.v1

import data.sqlgate.rules.catalog.table_not_found

stmt(kind, exists, extra) := object.union({"kind": kind, "index": 0, "table": "orders", "facts": {"table_exists": exists}}, extra)

run(s) := r if {
	r := table_not_found.report with input as {"target": "main", "statements": [s]}
}

test_fires_on_missing_table if {
	r := run(stmt("update", false, {}))
	count(r) == 1
	some f in r
	contains(f.message, "orders")
}

test_quiet_when_the_table_exists if count(run(stmt("update", true, {}))) == 0

test_quiet_without_a_catalog if count(run(stmt("update", null, {}))) == 0

test_quiet_on_create_table if count(run(stmt("create_table", false, {}))) == 0

test_quiet_with_if_exists if count(run(stmt("drop_table", false, {"if_exists": true}))) == 0
