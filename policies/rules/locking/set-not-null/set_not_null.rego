# METADATA
# title: SET NOT NULL on an existing table
# description: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK constraint proves it.
# custom:
#   id: set-not-null
#   level: warn
package sqlgate.rules.locking.set_not_null

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "set-not-null",
	"statement": s.index,
	"message": sprintf("SET NOT NULL on %s.%s scans the whole table under an ACCESS EXCLUSIVE lock", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a separate statement, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check.",
} if {
	lib.postgres
	some s in lib.by_kind.set_not_null
	lib.existing_table(s)
}
