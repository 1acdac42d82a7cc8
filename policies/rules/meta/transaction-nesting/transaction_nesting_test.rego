package sqlgate.rules.meta.transaction_nesting_test

import rego.v1

import data.sqlgate.rules.meta.transaction_nesting

test_fires_on_nested_begin if {
	r := transaction_nesting.report with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 2, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "commit"}]}
	count(r) == 1
	some f in r
	contains(f.message, "BEGIN")
}

test_quiet_on_sequential_transactions if {
	count(transaction_nesting.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "commit"}, {"kind": "transaction", "index": 2, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 3, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "commit"}]}
}

test_quiet_across_files if {
	count(transaction_nesting.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "other.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}]}
}

test_quiet_on_mysql if {
	count(transaction_nesting.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "transaction", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}, {"kind": "transaction", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "action": "begin"}]}
}
