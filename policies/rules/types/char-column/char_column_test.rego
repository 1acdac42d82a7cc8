package sqlgate.rules.types.char_column_test

import rego.v1

import data.sqlgate.rules.types.char_column

test_fires_on_char if {
	r := char_column.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "char(10)"}]}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c")
}

test_fires_on_add_column if {
	r := char_column.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "type": "character(2)"}}]}
	count(r) == 1
}

test_quiet_on_varchar if {
	count(char_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "varchar(10)"}]}]}
}

test_quiet_on_text if {
	count(char_column.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "text"}]}]}
}

test_quiet_on_mysql if {
	count(char_column.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "char(10)"}]}]}
}
