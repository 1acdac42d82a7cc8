# METADATA
# title: Dropping a NOT NULL constraint
# description: ALTER COLUMN ... DROP NOT NULL lets NULLs in that running code (and other readers) do not expect.
# custom:
#   id: drop-not-null
#   level: warn
package sqlgate.rules.compat.drop_not_null

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-not-null",
	"statement": s.index,
	"message": sprintf("dropping NOT NULL on %s.%s lets NULLs in that running code may not handle", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Make sure every reader handles NULL in the column before dropping the constraint.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "drop_not_null"
	lib.existing_table(s)
}
