package sqlgate.rules.datadep.modify_not_null_test

import rego.v1

import data.sqlgate.rules.datadep.modify_not_null

test_fires_on_modify_not_null if {
	r := modify_not_null.report with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "definition": {"name": "c", "not_null": true}}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c is redefined NOT NULL")
}

test_quiet_on_nullable if {
	count(modify_not_null.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "definition": {"name": "c", "not_null": false}}]}
}

test_quiet_on_postgres if {
	count(modify_not_null.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "definition": {"name": "c", "not_null": true}}]}
}

test_quiet_when_already_not_null if {
	count(modify_not_null.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "definition": {"name": "c", "not_null": true}, "facts": {"column_not_null": true}}]}
}

test_fires_when_it_was_nullable if {
	count(modify_not_null.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "definition": {"name": "c", "not_null": true}, "facts": {"column_not_null": false}}]}
}
