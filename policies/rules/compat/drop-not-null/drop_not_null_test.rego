package sqlgate.rules.compat.drop_not_null_test

import rego.v1

import data.sqlgate.rules.compat.drop_not_null

test_fires_on_drop_not_null if {
	r := drop_not_null.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_not_null", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": "email"}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.email")
}

test_quiet_on_new_table if {
	count(drop_not_null.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_not_null", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "users", "column": "email"}]}
}

test_quiet_on_mysql if {
	count(drop_not_null.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "drop_not_null", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": "email"}]}
}
