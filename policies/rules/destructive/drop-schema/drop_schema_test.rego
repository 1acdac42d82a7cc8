package sqlgate.rules.destructive.drop_schema_test

import rego.v1

import data.sqlgate.rules.destructive.drop_schema

test_fires_on_drop_schema if {
	r := drop_schema.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_schema", "index": 0, "names": ["billing"], "cascade": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "billing")
}

test_fires_on_drop_database if {
	r := drop_schema.report with input as {"dialect": "mysql", "statements": [{"kind": "drop_database", "index": 2, "name": "shop"}]}
	count(r) == 1
	some f in r
	f.statement == 2
	contains(f.message, "DATABASE shop")
}

test_quiet_on_create_schema if {
	count(drop_schema.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_schema", "index": 0, "name": "billing"}]}
}
