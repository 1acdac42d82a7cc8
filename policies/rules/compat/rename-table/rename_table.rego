# METADATA
# title: Renaming a table
# description: Renaming a table breaks every running version of the application that still uses the old name.
# custom:
#   id: rename-table
#   level: warn
package sqlgate.rules.compat.rename_table

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "rename-table",
	"statement": s.index,
	"message": sprintf("renaming table %s to %s breaks code that still uses the old name", [lib.field(s, "table"), lib.field(s, "new_name")]),
	"help": "Create the new table (or a view with the old name over it), migrate code, then drop the old name later.",
} if {
	some s in lib.by_kind.rename_table
	lib.existing_table(s)
}
