package sqlgate.rules.privileged.privileged_set_role_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_set_role

test_fires_on_set_role if {
	r := privileged_set_role.report with input as {"dialect": "postgres", "statements": [{"kind": "set", "index": 0, "name": "role", "value": "admin"}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "admin")
}

test_fires_on_session_authorization if {
	count(privileged_set_role.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "set", "index": 0, "name": "session_authorization", "value": "postgres"}]}
}

test_quiet_on_reset_role if {
	count(privileged_set_role.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "set", "index": 0, "name": "role", "value": null}, {"kind": "set", "index": 1, "name": "role", "value": "NONE"}]}
}

test_quiet_on_other_settings if {
	count(privileged_set_role.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "set", "index": 0, "name": "lock_timeout", "value": "1s"}]}
}
