package sqlgate.rules.mysql.mysql_table_rebuild_test

import rego.v1

import data.sqlgate.rules.mysql.mysql_table_rebuild

test_fires_on_modify if {
	r := mysql_table_rebuild.report with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "column": "c", "type": "BIGINT"}]}
	count(r) == 1
	some f in r
	contains(f.message, "column definition")
}

test_fires_on_drop_primary_key if {
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "alter_table_other", "index": 0, "table": "t", "subtype": "DropPrimaryKey"}]}
}

test_fires_on_convert_charset if {
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "alter_table_other", "index": 0, "table": "t", "subtype": "ConvertToCharset"}]}
}

test_fires_on_fulltext if {
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "create_index", "index": 0, "table": "t", "index_type": "fulltext"}]}
}

test_fires_on_add_column_after_on_old_or_unknown_server if {
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "placement": "AFTER a"}]}
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "server_version": "8.0.28", "statements": [{"kind": "add_column", "index": 0, "table": "t", "placement": "FIRST"}]}
}

test_add_column_after_is_instant_from_8_0_29 if {
	count(mysql_table_rebuild.report) == 0 with input as {"dialect": "mysql", "server_version": "8.0.35", "statements": [{"kind": "add_column", "index": 0, "table": "t", "placement": "AFTER a"}]}
}

test_quiet_with_inplace_lock_none if {
	count(mysql_table_rebuild.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "algorithm": "INPLACE", "lock_option": "NONE"}]}
}

test_fires_with_inplace_without_lock_none if {
	count(mysql_table_rebuild.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "algorithm": "INPLACE"}]}
}

test_quiet_on_plain_add_column_and_postgres if {
	count(mysql_table_rebuild.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t"}]}
	count(mysql_table_rebuild.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t"}]}
}

test_quiet_on_new_table if {
	count(mysql_table_rebuild.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_column_type", "index": 0, "table": "t", "facts": {"table_created_in_set": true}}]}
}
