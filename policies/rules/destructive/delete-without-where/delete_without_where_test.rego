package sqlgate.rules.destructive.delete_without_where_test

import rego.v1

import data.sqlgate.rules.destructive.delete_without_where

test_fires_without_where if {
	r := delete_without_where.report with input as {"dialect": "postgres", "statements": [{"kind": "delete", "index": 0, "table": "sessions", "has_where": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "sessions")
}

test_fires_when_has_where_is_missing if {
	count(delete_without_where.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "delete", "index": 0, "table": "t"}]}
}

test_quiet_with_where if {
	count(delete_without_where.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "delete", "index": 0, "table": "t", "has_where": true}]}
}
