package sqlgate.rules.locking.column_type_change_test

import rego.v1

import data.sqlgate.rules.locking.column_type_change

test_fires_on_type_change if {
	r := column_type_change.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "table": "users", "column": "age", "type": "bigint", "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.age to bigint")
}

test_fires_on_mysql if {
	count(column_type_change.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "type": "int"}]}
}

test_quiet_on_new_table if {
	count(column_type_change.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 1, "table": "t", "column": "c", "type": "int", "facts": {"table_created_in_set": true}}]}
}
