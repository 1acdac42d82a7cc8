package sqlgate.rules.locking.alter_domain_add_constraint_test

import rego.v1

import data.sqlgate.rules.locking.alter_domain_add_constraint

test_fires_on_add_constraint if {
	r := alter_domain_add_constraint.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_domain", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "action": "add_constraint", "not_valid": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "positive")
}

test_quiet_when_not_valid if {
	count(alter_domain_add_constraint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_domain", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "action": "add_constraint", "not_valid": true}]}
}

test_quiet_on_drop_constraint if {
	count(alter_domain_add_constraint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_domain", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "action": "drop_constraint", "not_valid": false}]}
}

test_quiet_on_mysql if {
	count(alter_domain_add_constraint.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_domain", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "positive", "action": "add_constraint", "not_valid": false}]}
}
