# METADATA
# title: Dropping a column
# description: DROP COLUMN deletes the column's data and breaks code that still reads it.
# custom:
#   id: drop-column
#   level: approval
package sqlgate.rules.destructive.drop_column

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-column",
	"statement": s.index,
	"message": sprintf("dropping column %s.%s deletes its data", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Stop reading and writing the column in application code first, deploy, then drop it in a later, approved migration.",
} if {
	some s in lib.by_kind.drop_column
}
