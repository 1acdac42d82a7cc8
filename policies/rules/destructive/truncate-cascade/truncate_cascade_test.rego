package sqlgate.rules.destructive.truncate_cascade_test

import rego.v1

import data.sqlgate.rules.destructive.truncate_cascade

test_fires_on_cascade if {
	r := truncate_cascade.report with input as {"dialect": "postgres", "statements": [{"kind": "truncate", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["users"], "cascade": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "users")
}

test_quiet_without_cascade if {
	count(truncate_cascade.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "truncate", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["users"], "cascade": false}]}
}

test_quiet_on_mysql if {
	count(truncate_cascade.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "truncate", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["users"], "cascade": true}]}
}
