package sqlgate.rules.destructive.truncate_test

import rego.v1

import data.sqlgate.rules.destructive.truncate

test_fires_on_truncate if {
	r := truncate.report with input as {"dialect": "postgres", "statements": [{"kind": "truncate", "index": 0, "tables": ["events"]}]}
	count(r) == 1
	some f in r
	contains(f.message, "events")
}

test_quiet_on_delete if {
	count(truncate.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "delete", "index": 0, "table": "events", "has_where": true}]}
}
