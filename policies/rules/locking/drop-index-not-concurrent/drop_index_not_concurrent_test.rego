package sqlgate.rules.locking.drop_index_not_concurrent_test

import rego.v1

import data.sqlgate.rules.locking.drop_index_not_concurrent

test_fires_without_concurrently if {
	r := drop_index_not_concurrent.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "names": ["users_email_idx"], "concurrently": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "users_email_idx")
}

test_quiet_when_concurrent if {
	count(drop_index_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "names": ["i"], "concurrently": true}]}
}

test_quiet_on_mysql if {
	count(drop_index_not_concurrent.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "drop_index", "index": 0, "names": ["i"], "concurrently": false}]}
}

test_quiet_on_table_created_in_set if {
	count(drop_index_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 1, "names": ["t_idx"], "concurrently": false, "facts": {"table_created_in_set": true}}]}
}
