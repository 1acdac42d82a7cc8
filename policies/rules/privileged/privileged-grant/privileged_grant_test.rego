package sqlgate.rules.privileged.privileged_grant_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_grant

test_fires_on_grant_with_security_approver if {
	r := privileged_grant.report with input as {"dialect": "postgres", "statements": [{"kind": "grant", "index": 2, "privileges": ["select"], "objects": ["users"], "grantees": ["bob"]}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	f.statement == 2
	contains(f.message, "GRANT select ON users")
}

test_fires_on_revoke if {
	count(privileged_grant.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "revoke", "index": 0}]}
}

test_quiet_on_other_statements if {
	count(privileged_grant.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "table": "t"}]}
}

test_fires_on_default_privileges_and_security_labels if {
	r := privileged_grant.report with input as {"dialect": "postgres", "statements": [
		{"kind": "alter_default_privileges", "index": 0, "is_grant": true, "privileges": ["select"], "object_type": "table", "grantees": ["public"]},
		{"kind": "security_label", "index": 1, "object_type": "column", "provider": "anon"},
	]}
	count(r) == 2
	every f in r {
		f.approver_role == "security"
	}
}
