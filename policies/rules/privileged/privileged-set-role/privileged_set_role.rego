# METADATA
# title: Switching role or session user
# description: SET ROLE / SET SESSION AUTHORIZATION run the rest of the migration as another role.
# custom:
#   id: privileged-set-role
#   level: approval
package sqlgate.rules.privileged.privileged_set_role

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-set-role",
	"statement": s.index,
	"message": sprintf("SET %s %s runs what follows with another role's privileges", [upper(replace(s.name, "_", " ")), s.value]),
	"help": "Run migrations as the migration role; if another role is really needed, get a security approver.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.set
	s.name in {"role", "session_authorization"}
	is_string(s.value)
	not lower(s.value) in {"none", "default"}
}
