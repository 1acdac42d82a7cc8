# METADATA
# title: Creating an extension
# description: CREATE EXTENSION installs code into the database, often as superuser; untrusted extensions can reach the OS.
# custom:
#   id: privileged-extension
#   level: approval
package sqlgate.rules.privileged.privileged_extension

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-extension",
	"statement": s.index,
	"message": sprintf("CREATE EXTENSION %s installs code into the database", [lib.field(s, "name")]),
	"help": "Extensions are part of the platform: check it is on the allowed list and get a security approver.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.create_extension
}
