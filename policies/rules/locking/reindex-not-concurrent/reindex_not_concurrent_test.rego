package sqlgate.rules.locking.reindex_not_concurrent_test

import rego.v1

import data.sqlgate.rules.locking.reindex_not_concurrent

test_fires_on_plain_reindex if {
	r := reindex_not_concurrent.report with input as {"dialect": "postgres", "statements": [{"kind": "reindex", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "target": "index", "name": "users_email_idx", "concurrently": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "users_email_idx")
}

test_help_on_pg12_says_concurrently if {
	r := reindex_not_concurrent.report with input as {"dialect": "postgres", "statements": [{"kind": "reindex", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "target": "table", "name": "t", "concurrently": false}], "server_version": "12"}
	count(r) == 1
}

test_quiet_when_concurrent if {
	count(reindex_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "reindex", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "target": "index", "name": "i", "concurrently": true}]}
}

test_quiet_on_system if {
	count(reindex_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "reindex", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "target": "system", "name": "db", "concurrently": false}]}
}

test_quiet_on_mysql if {
	count(reindex_not_concurrent.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "reindex", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "target": "index", "name": "i", "concurrently": false}]}
}

test_help_depends_on_version if {
	old := reindex_not_concurrent.report with input as {"dialect": "postgres", "server_version": "11", "statements": [{"kind": "reindex", "index": 0, "target": "index", "name": "i", "concurrently": false}]}
	new := reindex_not_concurrent.report with input as {"dialect": "postgres", "server_version": "12.1", "statements": [{"kind": "reindex", "index": 0, "target": "index", "name": "i", "concurrently": false}]}
	some o in old
	contains(o.help, "needs PostgreSQL 12")
	some n in new
	startswith(n.help, "Use REINDEX ... CONCURRENTLY")
}
