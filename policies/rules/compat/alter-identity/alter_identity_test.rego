package sqlgate.rules.compat.alter_identity_test

import rego.v1

import data.sqlgate.rules.compat.alter_identity

test_fires_on_set_identity if {
	r := alter_identity.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "subtype": "AT_SetIdentity"}]}
	count(r) == 1
	some f in r
	contains(f.message, "SetIdentity")
}

test_fires_on_drop_identity if {
	r := alter_identity.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "subtype": "AT_DropIdentity"}]}
	count(r) == 1
}

test_quiet_on_other_subtype if {
	count(alter_identity.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "subtype": "AT_ChangeOwner"}]}
}

test_quiet_on_mysql if {
	count(alter_identity.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "subtype": "AT_SetIdentity"}]}
}
