package sqlgate.rules.privileged.privileged_role_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_role

test_fires_on_create_role if {
	r := privileged_role.report with input as {"dialect": "postgres", "statements": [{"kind": "role", "index": 0, "operation": "create", "names": ["app"], "options": ["superuser"]}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "CREATE ROLE/USER")
}

test_fires_on_role_rename if {
	count(privileged_role.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "object_type": "role", "name": "a"}]}
}

test_quiet_on_other_alter_object if {
	count(privileged_role.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_object", "index": 0, "object_type": "sequence", "name": "s"}]}
}
