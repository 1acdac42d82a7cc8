package sqlgate.rules.destructive.drop_table_test

import rego.v1

import data.sqlgate.rules.destructive.drop_table

test_fires_on_drop_table if {
	r := drop_table.report with input as {"dialect": "postgres", "statements": [{"kind": "drop_table", "index": 3, "tables": ["users", "accounts"]}]}
	count(r) == 1
	some f in r
	f.rule == "drop-table"
	f.statement == 3
	contains(f.message, "users, accounts")
}

test_fires_on_mysql_too if {
	count(drop_table.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "drop_table", "index": 0, "tables": ["t"]}]}
}

test_fires_without_table_names if {
	count(drop_table.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "drop_table", "index": 0}]}
}

test_quiet_on_other_statements if {
	count(drop_table.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_index", "index": 0, "names": ["i"]}, {"kind": "create_table", "index": 1, "table": "t"}]}
}
