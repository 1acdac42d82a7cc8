package sqlgate.rules.compat.set_schema_test

import rego.v1

import data.sqlgate.rules.compat.set_schema

test_fires_on_set_schema if {
	r := set_schema.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "table", "name": "users", "operation": "set_schema"}]}
	count(r) == 1
	some f in r
	contains(f.message, "table users")
}

test_quiet_on_owner if {
	count(set_schema.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "table", "name": "users", "operation": "owner"}]}
}

test_quiet_on_mysql if {
	count(set_schema.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "table", "name": "users", "operation": "set_schema"}]}
}
