package sqlgate.rules.destructive.drop_column_test

import rego.v1

import data.sqlgate.rules.destructive.drop_column

test_fires_on_drop_column if {
	r := drop_column.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_column", "index": 1, "table": "users", "column": "email"}]}
	count(r) == 1
	some f in r
	f.statement == 1
	contains(f.message, "users.email")
}

test_fires_on_mysql if {
	count(drop_column.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "drop_column", "index": 0, "table": "t", "column": "c"}]}
}

test_quiet_on_add_column if {
	count(drop_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c"}}]}
}
