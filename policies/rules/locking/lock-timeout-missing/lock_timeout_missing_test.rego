package sqlgate.rules.locking.lock_timeout_missing_test

import rego.v1

import data.sqlgate.rules.locking.lock_timeout_missing

test_fires_without_lock_timeout if {
	r := lock_timeout_missing.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "users", "facts": {"lock": "ACCESS EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "ACCESS EXCLUSIVE")
	contains(f.message, "users")
}

test_fires_on_share_lock if {
	count(lock_timeout_missing.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "facts": {"lock": "SHARE", "lock_timeout_set": false, "table_created_in_set": false}}]}
}

test_quiet_with_lock_timeout if {
	count(lock_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 1, "table": "t", "facts": {"lock": "ACCESS EXCLUSIVE", "lock_timeout_set": true, "table_created_in_set": false}}]}
}

test_quiet_on_weak_lock if {
	count(lock_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "facts": {"lock": "SHARE UPDATE EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": false}}]}
}

test_quiet_on_new_table if {
	count(lock_timeout_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 1, "table": "t", "facts": {"lock": "ACCESS EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": true}}]}
}

test_quiet_on_mysql if {
	count(lock_timeout_missing.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "facts": {"lock": "ACCESS EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": false}}]}
}

strong(i, file) := {"kind": "add_column", "index": i, "file": file, "table": "t", "facts": {"lock": "ACCESS EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": false}}

test_once_per_file_at_the_first_statement_that_needs_it if {
	weak := {"kind": "create_index", "index": 0, "file": "a.sql", "table": "t", "facts": {"lock": "SHARE UPDATE EXCLUSIVE", "lock_timeout_set": false, "table_created_in_set": false}}
	stmts := [weak, strong(1, "a.sql"), strong(2, "a.sql"), strong(3, "b.sql"), strong(4, "b.sql")]
	r := lock_timeout_missing.report with input as {"dialect": "postgres", "statements": stmts}
	{f.statement | some f in r} == {1, 3}
}
