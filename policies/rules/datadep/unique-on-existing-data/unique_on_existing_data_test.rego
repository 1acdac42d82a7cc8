package sqlgate.rules.datadep.unique_on_existing_data_test

import rego.v1

import data.sqlgate.rules.datadep.unique_on_existing_data

test_fires_on_unique_index if {
	r := unique_on_existing_data.report with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "columns": ["email"], "unique": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "UNIQUE INDEX on t (email)")
}

test_fires_on_unique_constraint_mysql if {
	count(unique_on_existing_data.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "add_constraint", "index": 0, "table": "t", "constraint_type": "unique", "columns": ["a"]}]}
}

test_quiet_on_using_index if {
	count(unique_on_existing_data.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_constraint", "index": 0, "table": "t", "constraint_type": "unique", "using_index": "t_a_idx"}]}
}

test_quiet_on_new_table_and_plain_index if {
	count(unique_on_existing_data.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "table": "t", "unique": true, "facts": {"table_created_in_set": true}}, {"kind": "create_index", "index": 1, "table": "t", "unique": false}]}
}
