package sqlgate.rules.locking.unique_constraint_without_index_test

import rego.v1

import data.sqlgate.rules.locking.unique_constraint_without_index

test_fires_on_add_unique if {
	r := unique_constraint_without_index.report with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "constraint_type": "unique", "columns": ["email"], "using_index": null}]}
	count(r) == 1
	some f in r
	contains(f.message, "email")
}

test_fires_on_unique_column if {
	r := unique_constraint_without_index.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": {"name": "email", "unique": true}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.email")
}

test_quiet_with_using_index if {
	count(unique_constraint_without_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "constraint_type": "unique", "columns": [], "using_index": "users_email_key"}]}
}

test_quiet_on_check if {
	count(unique_constraint_without_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "constraint_type": "check", "columns": [], "using_index": null}]}
}

test_quiet_on_new_table if {
	count(unique_constraint_without_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "users", "constraint_type": "unique", "columns": ["email"], "using_index": null}]}
}

test_quiet_on_mysql if {
	count(unique_constraint_without_index.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "constraint_type": "unique", "columns": ["email"], "using_index": null}]}
}
