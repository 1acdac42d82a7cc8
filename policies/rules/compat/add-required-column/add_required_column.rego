# METADATA
# title: Adding a NOT NULL column without a default
# description: ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows, and breaks inserts from code that does not know the column.
# custom:
#   id: add-required-column
#   level: deny
package sqlgate.rules.compat.add_required_column

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "add-required-column",
	"statement": s.index,
	"message": sprintf("column %s.%s is NOT NULL with no default: the ALTER fails on a non-empty table and old code's inserts break", [lib.field(s, "table"), lib.field(s.column, "name")]),
	"help": "Add the column nullable (or with a constant DEFAULT), backfill it in batches, then add the NOT NULL constraint.",
} if {
	lib.postgres
	some s in lib.by_kind.add_column
	s.column.not_null == true
	object.get(s.column, "default", null) == null
	not s.column.primary_key
	lib.existing_table(s)
}
