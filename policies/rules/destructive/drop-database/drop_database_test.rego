package sqlgate.rules.destructive.drop_database_test

import rego.v1

import data.sqlgate.rules.destructive.drop_database

test_fires_on_drop_database if {
	r := drop_database.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_database", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "shop"}]}
	count(r) == 1
	some f in r
	contains(f.message, "shop")
}

test_fires_on_mysql_too if {
	r := drop_database.report with input as {"dialect": "mysql", "statements": [{"kind": "drop_database", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "shop"}]}
	count(r) == 1
}

test_quiet_on_drop_table if {
	count(drop_database.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["t"]}]}
}
