# METADATA
# title: MODIFY ... NOT NULL on an existing column (MySQL)
# description: Redefining a column as NOT NULL fails (strict mode) or silently rewrites NULLs to zero values when rows hold NULL.
# custom:
#   id: modify-not-null
#   level: warn
package sqlgate.rules.datadep.modify_not_null

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "modify-not-null",
	"statement": s.index,
	"message": sprintf("%s.%s is redefined NOT NULL: existing NULLs make it fail (or turn into zero values outside strict mode)", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Backfill NULLs first (UPDATE ... SET c = <value> WHERE c IS NULL, in batches), then make the column NOT NULL.",
} if {
	lib.mysql
	some s in lib.by_kind.alter_column_type
	lib.existing_table(s)
	object.get(object.get(s, "definition", {}), "not_null", false) == true

	# Restating NOT NULL on a column that already is (catalog or earlier in the set) checks
	# nothing new; unknown (null) still fires.
	object.get(object.get(s, "facts", {}), "column_not_null", null) != true
}
