package sqlgate.rules.types.timestamp_without_tz_test

import rego.v1

import data.sqlgate.rules.types.timestamp_without_tz

test_fires_on_timestamp if {
	r := timestamp_without_tz.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "timestamp"}]}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.c is timestamp")
}

test_fires_on_explicit_without if {
	r := timestamp_without_tz.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "timestamp(3) without time zone"}]}]}
	count(r) == 1
}

test_quiet_on_timestamptz if {
	count(timestamp_without_tz.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "timestamptz"}]}]}
}

test_quiet_on_with_time_zone if {
	count(timestamp_without_tz.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "timestamp with time zone"}]}]}
}

test_quiet_on_mysql if {
	count(timestamp_without_tz.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "columns": [{"name": "c", "type": "timestamp"}]}]}
}
