# METADATA
# title: ADD CHECK constraint without NOT VALID
# description: ALTER TABLE ... ADD CHECK scans the whole table to validate existing rows while holding an ACCESS EXCLUSIVE lock.
# custom:
#   id: check-not-valid-missing
#   level: deny
package sqlgate.rules.locking.check_not_valid_missing

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "check-not-valid-missing",
	"statement": s.index,
	"message": sprintf("adding CHECK constraint %s on %s without NOT VALID scans the table under an ACCESS EXCLUSIVE lock", [lib.field(s, "name"), lib.field(s, "table")]),
	"help": "ADD CONSTRAINT ... NOT VALID (instant), then VALIDATE CONSTRAINT in a separate transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue).",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_constraint"
	s.constraint_type == "check"
	s.not_valid != true
	lib.existing_table(s)
}
