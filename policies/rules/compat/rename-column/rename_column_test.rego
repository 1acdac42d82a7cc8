package sqlgate.rules.compat.rename_column_test

import rego.v1

import data.sqlgate.rules.compat.rename_column

test_fires_on_rename if {
	r := rename_column.report with input as {"dialect": "mysql", "statements": [{"kind": "rename_column", "index": 0, "table": "users", "column": "name", "new_name": "full_name"}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.name to full_name")
}

test_quiet_on_new_table if {
	count(rename_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "rename_column", "index": 1, "table": "t", "column": "a", "new_name": "b", "facts": {"table_created_in_set": true}}]}
}
