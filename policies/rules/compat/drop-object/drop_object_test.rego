package sqlgate.rules.compat.drop_object_test

import rego.v1

import data.sqlgate.rules.compat.drop_object

test_fires_on_drop_function if {
	r := drop_object.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "function", "names": ["f"]}]}
	count(r) == 1
	some f in r
	contains(f.message, "function f")
}

test_fires_on_drop_view if {
	r := drop_object.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_view", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "names": ["v"], "materialized": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "view v")
}

test_fires_on_drop_extension if {
	r := drop_object.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_extension", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "hstore"}]}
	count(r) == 1
	some f in r
	contains(f.message, "hstore")
}

test_quiet_on_drop_trigger if {
	count(drop_object.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "trigger", "names": ["t.tr"]}]}
}

test_quiet_on_mysql if {
	count(drop_object.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "drop_view", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "names": ["v"], "materialized": false}]}
}
