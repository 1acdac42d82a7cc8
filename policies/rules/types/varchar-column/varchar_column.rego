# METADATA
# title: varchar(n) column
# description: varchar(n) gives no speed benefit over text, and changing n later can lock or rewrite the table.
# custom:
#   id: varchar-column
#   level: warn
package sqlgate.rules.types.varchar_column

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "varchar-column",
	"statement": c.statement.index,
	"message": sprintf("column %s.%s is %s: changing its length later needs an ACCESS EXCLUSIVE lock", [c.table, c.column, c.type]),
	"help": "Use text with a CHECK (length(col) <= n) constraint (added NOT VALID, then validated).",
} if {
	lib.postgres
	some c in lib.typed_columns
	regex.match(`^(varchar|character varying)\s*\(`, c.type)
}
