package sqlgate.rules.privileged.privileged_security_definer_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_security_definer

test_fires_on_definer if {
	r := privileged_security_definer.report with input as {"dialect": "postgres", "statements": [{"kind": "create_function", "index": 0, "name": "f", "security_definer": true}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
}

test_quiet_on_invoker if {
	count(privileged_security_definer.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_function", "index": 0, "name": "f", "security_definer": false}]}
}
