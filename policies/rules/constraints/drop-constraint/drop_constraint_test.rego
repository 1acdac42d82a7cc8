package sqlgate.rules.constraints.drop_constraint_test

import rego.v1

import data.sqlgate.rules.constraints.drop_constraint

test_fires_on_drop_foreign_key if {
	r := drop_constraint.report with input as {"dialect": "mysql", "statements": [{"kind": "drop_constraint", "index": 0, "table": "t", "name": "fk1", "constraint_type": "foreign_key"}]}
	count(r) == 1
	some f in r
	contains(f.message, "foreign key fk1 on t")
}

test_fires_on_untyped_constraint if {
	r := drop_constraint.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_constraint", "index": 0, "table": "t", "name": "c"}]}
	some f in r
	contains(f.message, "constraint c")
}

test_quiet_on_add if {
	count(drop_constraint.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "table": "t", "name": "c"}]}
}
