package sqlgate.rules.types.varchar_column_test

import rego.v1

import data.sqlgate.rules.types.varchar_column

test_fires_on_varchar if {
	r := varchar_column.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "varchar(255)"}]}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c is varchar(255)")
}

test_fires_on_type_change if {
	r := varchar_column.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": "c", "type": "character varying(20)"}]}
	count(r) == 1
}

test_quiet_on_unbounded_varchar if {
	count(varchar_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "varchar"}]}]}
}

test_quiet_on_text if {
	count(varchar_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "text"}]}]}
}

test_quiet_on_mysql if {
	count(varchar_column.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "varchar(255)"}]}]}
}
