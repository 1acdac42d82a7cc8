package sqlgate.rules.compat.add_required_column_test

import rego.v1

import data.sqlgate.rules.compat.add_required_column

test_fires_on_not_null_without_default if {
	r := add_required_column.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "users", "column": {"name": "tenant_id", "type": "bigint", "not_null": true, "default": null}, "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.tenant_id")
}

test_quiet_with_default if {
	count(add_required_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c", "not_null": true, "default": "0"}, "facts": {"table_created_in_set": false}}]}
}

test_quiet_when_nullable if {
	count(add_required_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c", "not_null": false, "default": null}, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_new_table if {
	count(add_required_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 1, "table": "t", "column": {"name": "c", "not_null": true, "default": null}, "facts": {"table_created_in_set": true}}]}
}

test_quiet_on_mysql if {
	count(add_required_column.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c", "not_null": true, "default": null}}]}
}
