# METADATA
# title: Renaming a column
# description: Renaming a column breaks every running version of the application that still uses the old name.
# custom:
#   id: rename-column
#   level: warn
package sqlgate.rules.compat.rename_column

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "rename-column",
	"statement": s.index,
	"message": sprintf("renaming %s.%s to %s breaks code that still uses the old name", [lib.field(s, "table"), lib.field(s, "column"), lib.field(s, "new_name")]),
	"help": "Add the new column, write to both, backfill, move reads, then drop the old column; or make sure no deployed code uses the old name.",
} if {
	some s in lib.by_kind.rename_column
	lib.existing_table(s)
}
