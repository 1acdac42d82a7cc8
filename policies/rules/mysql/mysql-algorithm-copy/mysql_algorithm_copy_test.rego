package sqlgate.rules.mysql.mysql_algorithm_copy_test

import rego.v1

import data.sqlgate.rules.mysql.mysql_algorithm_copy

test_fires_on_copy if {
	r := mysql_algorithm_copy.report with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "algorithm": "COPY"}]}
	count(r) == 1
	some f in r
	contains(f.message, "ALTER TABLE t")
}

test_quiet_on_postgres if {
	count(mysql_algorithm_copy.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "algorithm": "COPY"}]}
}

test_quiet_on_inplace if {
	count(mysql_algorithm_copy.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "algorithm": "INPLACE", "lock_option": "NONE"}]}
}

test_quiet_on_new_table if {
	count(mysql_algorithm_copy.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "algorithm": "COPY", "facts": {"table_created_in_set": true}}]}
}
