package sqlgate.rules.locking.volatile_default_test

import rego.v1

import data.sqlgate.rules.locking.volatile_default

test_fires_on_volatile_default if {
	r := volatile_default.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "users", "column": {"name": "token", "default": "gen_random_uuid()", "default_volatile": true}, "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "users.token")
}

test_quiet_on_constant_default if {
	count(volatile_default.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_mysql if {
	count(volatile_default.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c", "default": "uuid()", "default_volatile": true}}]}
}
