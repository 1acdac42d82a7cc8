package sqlgate.rules.compat.rename_object_test

import rego.v1

import data.sqlgate.rules.compat.rename_object

test_fires_on_rename_sequence if {
	r := rename_object.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "sequence", "name": "s", "operation": "rename"}]}
	count(r) == 1
	some f in r
	contains(f.message, "sequence s")
}

test_quiet_on_plain_alter if {
	count(rename_object.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "sequence", "name": "s", "operation": "alter"}]}
}

test_quiet_on_mysql if {
	count(rename_object.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_object", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "object_type": "view", "name": "v", "operation": "rename"}]}
}
