package sqlgate.rules.locking.index_not_concurrent_test

import rego.v1

import data.sqlgate.rules.locking.index_not_concurrent

test_fires_on_existing_table if {
	r := index_not_concurrent.report with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "name": "users_email_idx", "table": "users", "concurrently": false, "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users_email_idx")
}

test_fires_when_facts_are_missing if {
	count(index_not_concurrent.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "concurrently": false}]}
}

test_quiet_when_concurrent if {
	count(index_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "concurrently": true, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_table_created_in_set if {
	count(index_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 1, "table": "t", "concurrently": false, "facts": {"table_created_in_set": true}}]}
}

test_quiet_on_mysql if {
	count(index_not_concurrent.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_index", "index": 0, "table": "t", "concurrently": false, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_only_parent if {
	count(index_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "name": "p_idx", "table": "p", "columns": ["a"], "concurrently": false, "only": true, "facts": {"table_created_in_set": false}}]}
}
