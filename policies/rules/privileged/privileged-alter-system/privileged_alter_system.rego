# METADATA
# title: Changing server configuration
# description: ALTER SYSTEM rewrites postgresql.auto.conf for the whole server; it needs a security approver.
# custom:
#   id: privileged-alter-system
#   level: approval
package sqlgate.rules.privileged.privileged_alter_system

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-alter-system",
	"statement": s.index,
	"message": sprintf("ALTER SYSTEM changes the server setting %s for every database on the server", [lib.field(s, "name")]),
	"help": "Server configuration belongs in the platform's configuration management, not a migration; get a security approver.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.alter_system
}
