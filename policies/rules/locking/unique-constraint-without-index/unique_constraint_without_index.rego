# METADATA
# title: ADD UNIQUE constraint without USING INDEX
# description: ALTER TABLE ... ADD UNIQUE (or ADD COLUMN ... UNIQUE) builds the index while holding an ACCESS EXCLUSIVE lock that blocks reads and writes.
# custom:
#   id: unique-constraint-without-index
#   level: deny
package sqlgate.rules.locking.unique_constraint_without_index

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "unique-constraint-without-index",
	"statement": s.index,
	"message": sprintf("adding UNIQUE %s on %s builds its index under an ACCESS EXCLUSIVE lock", [lib.names(s, "columns"), lib.field(s, "table")]),
	"help": "CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_constraint"
	s.constraint_type == "unique"
	object.get(s, "using_index", null) == null
	lib.existing_table(s)
}

report contains {
	"rule": "unique-constraint-without-index",
	"statement": s.index,
	"message": sprintf("adding column %s.%s UNIQUE builds its index under an ACCESS EXCLUSIVE lock", [lib.field(s, "table"), lib.field(s.column, "name")]),
	"help": "Add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_column"
	s.column.unique == true
	lib.existing_table(s)
}
