# METADATA
# title: Dropping a table
# description: DROP TABLE deletes the table and every row in it; it cannot be undone without a restore.
# custom:
#   id: drop-table
#   level: approval
package sqlgate.rules.destructive.drop_table

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-table",
	"statement": s.index,
	"message": sprintf("DROP TABLE %s deletes the table and all of its data", [lib.names(s, "tables")]),
	"help": "Make sure nothing reads or writes the table any more (deploy the code change first), take a backup, and get the drop approved.",
} if {
	some s in lib.by_kind.drop_table
}
