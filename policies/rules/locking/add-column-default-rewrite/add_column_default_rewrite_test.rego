package sqlgate.rules.locking.add_column_default_rewrite_test

import rego.v1

import data.sqlgate.rules.locking.add_column_default_rewrite

test_fires_when_version_unknown if {
	r := add_column_default_rewrite.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "users", "column": {"name": "active", "default": "true", "default_volatile": false}}], "server_version": null}
	count(r) == 1
	some f in r
	contains(f.message, "users.active")
}

test_fires_on_pg10 if {
	r := add_column_default_rewrite.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": "10.23"}
	count(r) == 1
	some f in r
	contains(f.message, "10")
}

test_quiet_on_pg11 if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": "11"}
}

test_quiet_on_pg16_long_version if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": "PostgreSQL 16.2 (Debian)"}
}

test_fires_on_catalog_pg10 if {
	r := add_column_default_rewrite.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": null, "catalog": {"server_version_num": 100012}}
	count(r) == 1
}

test_quiet_on_catalog_pg11 if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": null, "catalog": {"server_version_num": 110000}}
}

test_fires_on_pg96_text if {
	r := add_column_default_rewrite.report with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}], "server_version": "9.6"}
	count(r) == 1
}

test_quiet_on_volatile_default if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "random()", "default_volatile": true}}]}
}

test_quiet_without_default if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": null, "default_volatile": false}}]}
}

test_quiet_on_new_table if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": true}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}]}
}

test_quiet_on_mysql if {
	count(add_column_default_rewrite.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "column": {"name": "c", "default": "0", "default_volatile": false}}]}
}
