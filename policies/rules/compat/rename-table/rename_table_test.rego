package sqlgate.rules.compat.rename_table_test

import rego.v1

import data.sqlgate.rules.compat.rename_table

test_fires_on_rename if {
	r := rename_table.report with input as {"dialect": "postgres", "statements": [{"kind": "rename_table", "index": 0, "table": "users", "new_name": "accounts", "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users to accounts")
}

test_quiet_on_new_table if {
	count(rename_table.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "rename_table", "index": 1, "table": "t", "new_name": "u", "facts": {"table_created_in_set": true}}]}
}
