package sqlgate.rules.mysql.mysql_lock_blocking_test

import rego.v1

import data.sqlgate.rules.mysql.mysql_lock_blocking

test_fires_on_exclusive if {
	r := mysql_lock_blocking.report with input as {"dialect": "mysql", "statements": [{"kind": "create_index", "index": 0, "table": "t", "lock_option": "EXCLUSIVE"}]}
	count(r) == 1
	some f in r
	contains(f.message, "reads and writes")
}

test_fires_on_shared if {
	count(mysql_lock_blocking.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "lock_option": "SHARED"}]}
}

test_quiet_on_none if {
	count(mysql_lock_blocking.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "lock_option": "NONE"}]}
}

test_quiet_on_postgres if {
	count(mysql_lock_blocking.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "lock_option": "EXCLUSIVE"}]}
}
