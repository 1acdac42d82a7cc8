# METADATA
# title: Changing a column's type
# description: ALTER COLUMN ... TYPE usually rewrites the whole table under an ACCESS EXCLUSIVE lock and can break application code.
# custom:
#   id: column-type-change
#   level: approval
package sqlgate.rules.locking.column_type_change

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "column-type-change",
	"statement": s.index,
	"message": sprintf("changing %s.%s to %s may rewrite the table under an exclusive lock", [lib.field(s, "table"), lib.field(s, "column"), lib.field(s, "type")]),
	"help": "Add a new column with the new type, backfill it in batches, switch the code over, then drop the old column.",
} if {
	some s in lib.by_kind.alter_column_type
	lib.existing_table(s)
}
