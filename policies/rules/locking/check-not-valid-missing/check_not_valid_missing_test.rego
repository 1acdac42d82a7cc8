package sqlgate.rules.locking.check_not_valid_missing_test

import rego.v1

import data.sqlgate.rules.locking.check_not_valid_missing

test_fires_on_check if {
	r := check_not_valid_missing.report with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "orders", "name": "orders_qty_check", "constraint_type": "check", "not_valid": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "orders_qty_check")
}

test_quiet_when_not_valid if {
	count(check_not_valid_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "orders", "name": "c", "constraint_type": "check", "not_valid": true}]}
}

test_quiet_on_unique if {
	count(check_not_valid_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "orders", "name": "c", "constraint_type": "unique", "not_valid": false}]}
}

test_quiet_on_new_table if {
	count(check_not_valid_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "orders", "name": "c", "constraint_type": "check", "not_valid": false}]}
}

test_quiet_on_mysql if {
	count(check_not_valid_missing.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_constraint", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "orders", "name": "c", "constraint_type": "check", "not_valid": false}]}
}
