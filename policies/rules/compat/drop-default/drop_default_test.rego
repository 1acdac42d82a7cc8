package sqlgate.rules.compat.drop_default_test

import rego.v1

import data.sqlgate.rules.compat.drop_default

test_fires_on_drop_default if {
	r := drop_default.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_default", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": "created_at"}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.created_at")
}

test_fires_on_drop_expression if {
	r := drop_default.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "subtype": "AT_DropExpression"}]}
	count(r) == 1
	some f in r
	contains(f.message, "DROP EXPRESSION")
}

test_quiet_on_new_table if {
	count(drop_default.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_default", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "users", "column": "c"}]}
}

test_quiet_on_mysql if {
	count(drop_default.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "drop_default", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": "c"}]}
}
