package sqlgate.rules.meta.unrecognized_statement_test

import rego.v1

import data.sqlgate.rules.meta.unrecognized_statement

test_fires_on_unknown_with_reason if {
	r := unrecognized_statement.report with input as {"dialect": "postgres", "statements": [{"kind": "unknown", "index": 2, "reason": "sqlglot and pglast disagree on the boundary", "opaque": true}]}
	count(r) == 1
	some f in r
	f.statement == 2
	contains(f.message, "disagree on the boundary")
}

test_fires_on_opaque if {
	r := unrecognized_statement.report with input as {"dialect": "postgres", "statements": [{"kind": "do_block", "index": 0, "language": "plpgsql", "opaque": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "do_block")
}

test_fires_on_kind_the_policy_does_not_know if {
	count(unrecognized_statement.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "alter_system", "index": 0, "opaque": false}]}
}

test_fires_on_missing_kind if {
	count(unrecognized_statement.report) == 1 with input as {"dialect": "postgres", "statements": [{"index": 0}]}
}

test_quiet_on_understood_statements if {
	count(unrecognized_statement.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "opaque": false}, {"kind": "select", "index": 1, "opaque": false}]}
}
