package sqlgate.rules.locking.set_not_null_test

import rego.v1

import data.sqlgate.rules.locking.set_not_null

test_fires_on_existing_table if {
	r := set_not_null.report with input as {"dialect": "postgres", "statements": [{"kind": "set_not_null", "index": 0, "table": "users", "column": "email", "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.email")
}

test_quiet_on_new_table if {
	count(set_not_null.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "set_not_null", "index": 1, "table": "t", "column": "c", "facts": {"table_created_in_set": true}}]}
}

test_quiet_on_mysql if {
	count(set_not_null.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "set_not_null", "index": 0, "table": "t", "column": "c"}]}
}
