# METADATA
# title: Foreign key added without NOT VALID
# description: Adding a foreign key to an existing table validates every row while holding a SHARE ROW EXCLUSIVE lock on both tables.
# custom:
#   id: fk-not-valid-missing
#   level: deny
package sqlgate.rules.integrity.fk_not_valid_missing

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "fk-not-valid-missing",
	"statement": s.index,
	"message": sprintf("foreign key %s on existing table %s is validated under lock: add it NOT VALID", [lib.field(s, "name"), lib.field(s, "table")]),
	"help": "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a separate statement (it takes a weaker lock).",
} if {
	lib.postgres
	some s in lib.by_kind.add_foreign_key
	not s.not_valid
	lib.existing_table(s)
}

report contains {
	"rule": "fk-not-valid-missing",
	"statement": s.index,
	"message": sprintf("column %s.%s adds a foreign key to an existing table that is validated under lock", [lib.field(s, "table"), lib.field(s.column, "name")]),
	"help": "Add the column without REFERENCES, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID and VALIDATE CONSTRAINT separately.",
} if {
	lib.postgres
	some s in lib.by_kind.add_column
	is_object(s.foreign_key)
	not s.foreign_key.not_valid
	lib.existing_table(s)
}
