# METADATA
# title: char(n) column
# description: char(n) pads values with spaces and is never better than text or varchar in PostgreSQL.
# custom:
#   id: char-column
#   level: warn
package sqlgate.rules.types.char_column

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "char-column",
	"statement": c.statement.index,
	"message": sprintf("column %s.%s is %s: char(n) pads with spaces and compares surprisingly", [c.table, c.column, c.type]),
	"help": "Use text (with a CHECK on length if needed).",
} if {
	lib.postgres
	some c in lib.typed_columns
	regex.match(`^(char|character|bpchar)(\s*\(.*\))?$`, c.type)
}
