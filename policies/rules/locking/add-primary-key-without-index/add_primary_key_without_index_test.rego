package sqlgate.rules.locking.add_primary_key_without_index_test

import rego.v1

import data.sqlgate.rules.locking.add_primary_key_without_index

test_fires_on_add_primary_key if {
	r := add_primary_key_without_index.report with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "items", "constraint_type": "primary_key", "columns": ["id"], "using_index": null}]}
	count(r) == 1
	some f in r
	contains(f.message, "items")
}

test_fires_on_serial_primary_key_column if {
	r := add_primary_key_without_index.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "items", "column": {"name": "id", "type": "serial", "primary_key": true}}]}
	count(r) == 1
	some f in r
	contains(f.message, "items.id")
}

test_quiet_with_using_index if {
	count(add_primary_key_without_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "items", "constraint_type": "primary_key", "columns": [], "using_index": "items_pkey"}]}
}

test_quiet_on_new_table if {
	count(add_primary_key_without_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "items", "constraint_type": "primary_key", "columns": ["id"], "using_index": null}]}
}

test_quiet_on_mysql if {
	count(add_primary_key_without_index.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "items", "constraint_type": "primary_key", "columns": ["id"], "using_index": null}]}
}
