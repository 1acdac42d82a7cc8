package sqlgate.rules.integrity.fk_not_valid_missing_test

import rego.v1

import data.sqlgate.rules.integrity.fk_not_valid_missing

test_fires_without_not_valid if {
	r := fk_not_valid_missing.report with input as {"dialect": "postgres", "statements": [{"kind": "add_foreign_key", "index": 0, "table": "orders", "name": "orders_user_fk", "columns": ["user_id"], "not_valid": false, "facts": {"table_created_in_set": false}}]}
	count(r) == 1
	some f in r
	contains(f.message, "orders_user_fk")
}

test_quiet_with_not_valid if {
	count(fk_not_valid_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_foreign_key", "index": 0, "table": "orders", "not_valid": true, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_new_table if {
	count(fk_not_valid_missing.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_foreign_key", "index": 1, "table": "orders", "not_valid": false, "facts": {"table_created_in_set": true}}]}
}

test_fires_on_add_column_references if {
	count(fk_not_valid_missing.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "orders", "column": {"name": "user_id"}, "foreign_key": {"columns": ["user_id"], "not_valid": false}, "facts": {"table_created_in_set": false}}]}
}

test_quiet_on_mysql if {
	count(fk_not_valid_missing.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_foreign_key", "index": 0, "table": "orders", "not_valid": false}]}
}
