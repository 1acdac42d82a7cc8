package sqlgate.rules.locking.concurrent_index_in_transaction_test

import rego.v1

import data.sqlgate.rules.locking.concurrent_index_in_transaction

test_fires_on_create_in_transaction if {
	r := concurrent_index_in_transaction.report with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 1, "table": "t", "concurrently": true, "in_transaction": true}]}
	count(r) == 1
	some f in r
	startswith(f.message, "CREATE INDEX CONCURRENTLY")
}

test_fires_on_drop_in_transaction if {
	count(concurrent_index_in_transaction.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "names": ["i"], "concurrently": true, "in_transaction": true}]}
}

test_quiet_outside_transaction if {
	count(concurrent_index_in_transaction.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "concurrently": true, "in_transaction": false}]}
}

test_quiet_when_not_concurrent if {
	count(concurrent_index_in_transaction.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "concurrently": false, "in_transaction": true}]}
}
