package sqlgate.rules.compat.create_domain_with_constraint_test

import rego.v1

import data.sqlgate.rules.compat.create_domain_with_constraint

test_fires_on_check_domain if {
	r := create_domain_with_constraint.report with input as {"dialect": "postgres", "statements": [{"kind": "create_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "type_kind": "domain", "constraints": ["check"]}]}
	count(r) == 1
	some f in r
	contains(f.message, "positive")
}

test_quiet_on_plain_domain if {
	count(create_domain_with_constraint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "email", "type_kind": "domain", "constraints": []}]}
}

test_quiet_on_not_null_domain if {
	count(create_domain_with_constraint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "email", "type_kind": "domain", "constraints": ["not_null"]}]}
}

test_quiet_on_mysql if {
	count(create_domain_with_constraint.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_type", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "type_kind": "domain", "constraints": ["check"]}]}
}
