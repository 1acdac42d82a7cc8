# METADATA
# title: Creating or changing roles and users
# description: CREATE/ALTER/DROP ROLE or USER change who can log in and with which attributes.
# custom:
#   id: privileged-role
#   level: approval
package sqlgate.rules.privileged.privileged_role

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-role",
	"statement": s.index,
	"message": sprintf("%s changes database roles (%s)", [what(s), lib.names(s, "names")]),
	"help": "Roles and users belong in access management; get a security approver.",
	"approver_role": "security",
} if {
	some s in input.statements
	role_change(s)
}

role_change(s) if s.kind == "role"

role_change(s) if {
	s.kind == "alter_object"
	s.object_type == "role"
}

what(s) := sprintf("%s ROLE/USER", [upper(s.operation)]) if {
	s.kind == "role"
	is_string(s.operation)
} else := "ALTER ROLE"
