package sqlgate.rules.data.unbatched_backfill_test

import rego.v1

import data.sqlgate.rules.data.unbatched_backfill

test_fires_without_where if {
	r := unbatched_backfill.report with input as {"dialect": "postgres", "statements": [{"kind": "update", "index": 5, "table": "users", "has_where": false}]}
	count(r) == 1
	some f in r
	f.statement == 5
}

test_fires_on_mysql if {
	count(unbatched_backfill.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "update", "index": 0, "table": "t", "has_where": false}]}
}

test_quiet_with_where if {
	count(unbatched_backfill.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "update", "index": 0, "table": "t", "has_where": true}]}
}
