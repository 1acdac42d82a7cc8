package sqlgate.rules.locking.enum_value_in_transaction_test

import rego.v1

import data.sqlgate.rules.locking.enum_value_in_transaction

test_fires_when_version_unknown if {
	r := enum_value_in_transaction.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_type_add_value", "index": 0, "file": "m.sql", "in_transaction": true, "facts": {"table_created_in_set": false}, "type": "mood", "value": "meh"}]}
	count(r) == 1
	some f in r
	contains(f.message, "mood")
}

test_fires_on_pg11 if {
	r := enum_value_in_transaction.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_type_add_value", "index": 0, "file": "m.sql", "in_transaction": true, "facts": {"table_created_in_set": false}, "type": "mood", "value": "meh"}], "server_version": "11.22"}
	count(r) == 1
	some f in r
	contains(f.message, "11")
}

test_quiet_on_pg12 if {
	count(enum_value_in_transaction.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_type_add_value", "index": 0, "file": "m.sql", "in_transaction": true, "facts": {"table_created_in_set": false}, "type": "mood", "value": "meh"}], "server_version": "12"}
}

test_quiet_outside_transaction if {
	count(enum_value_in_transaction.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_type_add_value", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "type": "mood", "value": "meh"}]}
}

test_quiet_on_mysql if {
	count(enum_value_in_transaction.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_type_add_value", "index": 0, "file": "m.sql", "in_transaction": true, "facts": {"table_created_in_set": false}, "type": "mood", "value": "meh"}]}
}
