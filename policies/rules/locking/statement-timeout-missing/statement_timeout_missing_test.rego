package sqlgate.rules.locking.statement_timeout_missing_test

import rego.v1

import data.sqlgate.rules.locking.statement_timeout_missing

test_fires_without_timeout if {
	r := statement_timeout_missing.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "ACCESS EXCLUSIVE", "statement_timeout_set": false}, "table": "users"}]}
	count(r) == 1
	some f in r
	contains(f.message, "users")
}

test_quiet_after_timeout if {
	count(statement_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "ACCESS EXCLUSIVE", "statement_timeout_set": true}, "table": "users"}]}
}

test_quiet_when_fact_missing if {
	count(statement_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "ACCESS EXCLUSIVE"}, "table": "users"}]}
}

test_quiet_on_weak_lock if {
	count(statement_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "SHARE UPDATE EXCLUSIVE", "statement_timeout_set": false}, "table": "users"}]}
}

test_quiet_on_new_table if {
	count(statement_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true, "lock": "ACCESS EXCLUSIVE", "statement_timeout_set": false}, "table": "users"}]}
}

test_quiet_on_mysql if {
	count(statement_timeout_missing.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "ACCESS EXCLUSIVE", "statement_timeout_set": false}, "table": "users"}]}
}

strong(i, file) := {"kind": "alter_column_type", "index": i, "file": file, "in_transaction": false, "facts": {"table_created_in_set": false, "lock": "ACCESS EXCLUSIVE", "statement_timeout_set": false}, "table": "users"}

test_once_per_file_at_the_first_statement_that_needs_it if {
	set := {"kind": "set", "index": 0, "file": "a.sql", "facts": {"lock": null}}
	stmts := [set, strong(1, "a.sql"), strong(2, "a.sql"), strong(3, "b.sql")]
	r := statement_timeout_missing.report with input as {"dialect": "postgres", "statements": stmts}
	{f.statement | some f in r} == {1, 3}
}
