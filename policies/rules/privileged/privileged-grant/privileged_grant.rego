# METADATA
# title: Granting or revoking privileges
# description: GRANT and REVOKE change who may read or change data; a security approver must review them.
# custom:
#   id: privileged-grant
#   level: approval
package sqlgate.rules.privileged.privileged_grant

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-grant",
	"statement": s.index,
	"message": sprintf("%s %s ON %s TO/FROM %s changes access rights", [upper(s.kind), lib.names(s, "privileges"), lib.names(s, "objects"), lib.names(s, "grantees")]),
	"help": "Grants belong in reviewed access management; get a security approver to sign off on this change.",
	"approver_role": "security",
} if {
	some s in input.statements
	s.kind in {"grant", "revoke"}
}
