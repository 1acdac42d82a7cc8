package sqlgate.rules.catalog.column_not_found_test

import rego.v1

import data.sqlgate.rules.catalog.column_not_found

stmt(exists, extra) := object.union({"kind": "drop_column", "index": 2, "table": "accounts", "column": "nickname", "facts": {"column_exists": exists}}, extra)

run(s) := r if {
	r := column_not_found.report with input as {"statements": [s]}
}

test_fires_on_missing_column if {
	r := run(stmt(false, {}))
	count(r) == 1
	some f in r
	f.message == "accounts.nickname does not exist and is not added earlier in the set"
}

test_quiet_when_it_exists if count(run(stmt(true, {}))) == 0

test_quiet_without_a_catalog if count(run(stmt(null, {}))) == 0

test_quiet_with_if_exists if count(run(stmt(false, {"if_exists": true}))) == 0
