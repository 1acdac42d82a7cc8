package sqlgate.rules.meta.uncommitted_transaction_test

import rego.v1

import data.sqlgate.rules.meta.uncommitted_transaction

test_fires_on_open_transaction if {
	r := uncommitted_transaction.report with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "create_table", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t"}]}
	count(r) == 1
	some f in r
	contains(f.message, "m.sql")
}

test_quiet_when_committed if {
	count(uncommitted_transaction.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "commit"}]}
}

test_fires_when_commit_is_in_another_file if {
	r := uncommitted_transaction.report with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "other.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "commit"}]}
	count(r) == 1
}

test_quiet_on_mysql if {
	count(uncommitted_transaction.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}]}
}
