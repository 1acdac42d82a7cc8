# METADATA
# title: Changing a column's identity
# description: 'ADD/SET/DROP IDENTITY changes how the column is filled: inserts from running code that set (or omit) the value can fail.'
# custom:
#   id: alter-identity
#   level: warn
package sqlgate.rules.compat.alter_identity

import rego.v1

import data.sqlgate.lib

subtypes := {"AT_AddIdentity", "AT_SetIdentity", "AT_DropIdentity"}

report contains {
	"rule": "alter-identity",
	"statement": s.index,
	"message": sprintf("changing the identity of a column of %s (%s) changes how its values are generated for running code", [lib.field(s, "table"), trim_prefix(s.subtype, "AT_")]),
	"help": "Check that every writer works with the new identity behaviour (GENERATED ALWAYS rejects explicit values) before changing it.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_table_other"
	s.subtype in subtypes
	lib.existing_table(s)
}
