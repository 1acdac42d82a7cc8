package sqlgate.rules.privileged.privileged_function_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_function

listed := {"dblink_exec": "runs SQL elsewhere", "pg_terminate_backend": "kills a session", "lo_unlink": "deletes a large object"}

test_fires_on_a_listed_function if {
	r := privileged_function.report with input as {"dialect": "postgres", "statements": [{"kind": "select", "index": 0, "functions": ["dblink_exec"]}]}
		with data.sqlgate.config.functions.privileged as listed
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "dblink_exec")
}

test_fires_whatever_the_schema_or_quoting if {
	r := privileged_function.report with input as {"dialect": "postgres", "statements": [
		{"kind": "select", "index": 0, "functions": ["pg_catalog.pg_terminate_backend"]},
		{"kind": "update", "index": 1, "functions": ["ext.\"LO_UNLINK\""]},
	]}
		with data.sqlgate.config.functions.privileged as listed
	count(r) == 2
}

test_fires_on_any_kind if {
	count(privileged_function.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "insert", "index": 0, "functions": ["now", "dblink_exec"]}]}
		with data.sqlgate.config.functions.privileged as listed
}

test_quiet_on_other_functions if {
	count(privileged_function.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "select", "index": 0, "functions": ["now", "my_dblink_exec_wrapper"]}, {"kind": "select", "index": 1}]}
		with data.sqlgate.config.functions.privileged as listed
}
