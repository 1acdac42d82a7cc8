package sqlgate.rules.types.prefer_identity_test

import rego.v1

import data.sqlgate.rules.types.prefer_identity

test_fires_on_serial if {
	r := prefer_identity.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "serial"}]}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c is serial")
}

test_fires_on_bigserial if {
	r := prefer_identity.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "bigserial"}]}]}
	count(r) == 1
}

test_quiet_on_bigint if {
	count(prefer_identity.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "bigint"}]}]}
}

test_quiet_on_mysql if {
	count(prefer_identity.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "serial"}]}]}
}
