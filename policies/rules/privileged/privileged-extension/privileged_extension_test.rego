package sqlgate.rules.privileged.privileged_extension_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_extension

test_fires_on_create_extension if {
	r := privileged_extension.report with input as {"dialect": "postgres", "statements": [{"kind": "create_extension", "index": 0, "name": "plpython3u"}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "plpython3u")
}

test_quiet_on_drop_extension if {
	count(privileged_extension.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "drop_extension", "index": 0, "name": "x"}]}
}
