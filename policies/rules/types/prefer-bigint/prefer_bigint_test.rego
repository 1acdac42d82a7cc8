package sqlgate.rules.types.prefer_bigint_test

import rego.v1

import data.sqlgate.rules.types.prefer_bigint

test_fires_on_integer if {
	r := prefer_bigint.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "integer"}]}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c is integer")
}

test_fires_on_smallint if {
	r := prefer_bigint.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "smallint"}]}]}
	count(r) == 1
}

test_fires_on_type_change if {
	r := prefer_bigint.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": "c", "type": "int4"}]}
	count(r) == 1
}

test_quiet_on_bigint if {
	count(prefer_bigint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "bigint"}]}]}
}

test_quiet_on_int_array if {
	count(prefer_bigint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "integer[]"}]}]}
}

test_quiet_on_mysql if {
	count(prefer_bigint.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "int"}]}]}
}
