package sqlgate.rules.meta.retry_unsafe_ddl_test

import rego.v1

import data.sqlgate.rules.meta.retry_unsafe_ddl

test_fires_on_create_index if {
	r := retry_unsafe_ddl.report with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "i", "table": "t", "if_not_exists": false, "concurrently": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "CREATE INDEX")
}

test_fires_on_drop_table_when_files_are_not_wrapped if {
	r := retry_unsafe_ddl.report with data.sqlgate.config.execution.wraps_files_in_transaction as false with input as {"dialect": "postgres", "statements": [{"kind": "drop_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["t"], "if_exists": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "DROP TABLE")
}

test_quiet_with_if_not_exists if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "i", "table": "t", "if_not_exists": true}]}
}

test_quiet_with_if_exists if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "names": ["i"], "if_exists": true}]}
}

test_quiet_when_fields_missing if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_table", "index": 0, "tables": ["t"]}]}
}

test_quiet_in_transaction if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": true, "facts": {"table_created_in_set": false}, "table": "t", "if_not_exists": false}]}
}

test_quiet_on_temporary_table if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "if_not_exists": false, "temporary": true}]}
}

test_quiet_on_mysql if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "create_table", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "t", "if_not_exists": false}]}
}

# The runner wraps each file's transactional statements in one transaction: a plain
# CREATE INDEX or DROP TABLE is rolled back on failure and safe to retry.
test_quiet_when_the_executor_wraps_files if {
	count(retry_unsafe_ddl.report) == 0 with input as {"dialect": "postgres", "statements": [
		{"kind": "create_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "name": "i", "table": "t", "if_not_exists": false, "concurrently": false},
		{"kind": "drop_table", "index": 1, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "tables": ["t"], "if_exists": false},
	]}
}

test_concurrent_drop_index_fires if {
	r := retry_unsafe_ddl.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {}, "names": ["i"], "if_exists": false, "concurrently": true}]}
	count(r) == 1
}
