package sqlgate.rules.mysql.mysql_inline_references_test

import rego.v1

import data.sqlgate.rules.mysql.mysql_inline_references

test_fires_on_inline_references if {
	r := mysql_inline_references.report with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "u_id"}, "inline_references": "users"}]}
	count(r) == 1
	some f in r
	contains(f.message, "t.u_id REFERENCES users")
}

test_quiet_without if {
	count(mysql_inline_references.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c"}, "inline_references": null}]}
}

test_quiet_on_postgres if {
	count(mysql_inline_references.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "t", "column": {"name": "c"}, "inline_references": "u"}]}
}
