package sqlgate.rules.meta.transaction_control_mismatch_test

import rego.v1

import data.sqlgate.rules.meta.transaction_control_mismatch

tx(i, file, action) := {"kind": "transaction", "index": i, "file": file, "action": action}

other(i, file) := {"kind": "create_table", "index": i, "file": file, "table": "t"}

test_begin_commit_around_the_file_is_quiet if {
	count(transaction_control_mismatch.report) == 0 with input as {"dialect": "postgres", "statements": [tx(0, "a.sql", "begin"), other(1, "a.sql"), tx(2, "a.sql", "commit"), other(3, "b.sql")]}
}

test_commit_in_the_middle_fires if {
	r := transaction_control_mismatch.report with input as {"dialect": "postgres", "statements": [other(0, "a.sql"), tx(1, "a.sql", "commit"), other(2, "a.sql")]}
	{f.statement | some f in r} == {1}
}

test_begin_not_first_and_savepoint_fire if {
	r := transaction_control_mismatch.report with input as {"dialect": "postgres", "statements": [other(0, "a.sql"), tx(1, "a.sql", "begin"), tx(2, "a.sql", "savepoint"), other(3, "a.sql"), tx(4, "a.sql", "commit")]}
	{f.statement | some f in r} == {1, 2}
}

test_a_tool_that_wraps_the_file_flags_even_the_matching_pair if {
	files := [{"path": "a.sql", "tool": {"name": "goose", "transaction": true}}]
	r := transaction_control_mismatch.report with input as {"dialect": "postgres", "files": files, "statements": [tx(0, "a.sql", "begin"), other(1, "a.sql"), tx(2, "a.sql", "commit")]}
	count(r) == 2
	no_tx := [{"path": "a.sql", "tool": {"name": "goose", "transaction": false}}]
	count(transaction_control_mismatch.report) == 0 with input as {"dialect": "postgres", "files": no_tx, "statements": [tx(0, "a.sql", "begin"), other(1, "a.sql"), tx(2, "a.sql", "commit")]}
}
