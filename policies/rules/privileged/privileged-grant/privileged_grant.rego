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

# ALTER DEFAULT PRIVILEGES grants (or revokes) on every object created later: a grant too.
report contains {
	"rule": "privileged-grant",
	"statement": s.index,
	"message": sprintf("ALTER DEFAULT PRIVILEGES %s %s ON %s TO/FROM %s changes the access rights of every %s created later", [grant_word(s), lib.names(s, "privileges"), upper(lib.field(s, "object_type")), lib.names(s, "grantees"), lib.field(s, "object_type")]),
	"help": "Default privileges belong in reviewed access management; get a security approver to sign off on this change.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.alter_default_privileges
}

# SECURITY LABEL changes what a label-based security provider (sepgsql, anon) allows.
report contains {
	"rule": "privileged-grant",
	"statement": s.index,
	"message": sprintf("SECURITY LABEL on a %s changes what the %s security provider allows", [lib.field(s, "object_type"), lib.field(s, "provider")]),
	"help": "Security labels are access rules; get a security approver to sign off on this change.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.security_label
}

grant_word(s) := "GRANT" if s.is_grant == true

else := "REVOKE"
