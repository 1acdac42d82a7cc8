package sqlgate.rules.privileged.privileged_alter_system_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_alter_system

test_fires_on_alter_system if {
	r := privileged_alter_system.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_system", "index": 0, "name": "work_mem", "value": "1GB"}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "work_mem")
}

test_quiet_on_set if {
	count(privileged_alter_system.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "set", "index": 0, "name": "work_mem", "value": "1GB"}]}
}
