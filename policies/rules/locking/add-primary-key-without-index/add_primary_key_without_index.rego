# METADATA
# title: ADD PRIMARY KEY without USING INDEX
# description: ALTER TABLE ... ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY) builds the index, and may scan for NOT NULL, under an ACCESS EXCLUSIVE lock.
# custom:
#   id: add-primary-key-without-index
#   level: deny
package sqlgate.rules.locking.add_primary_key_without_index

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "add-primary-key-without-index",
	"statement": s.index,
	"message": sprintf("adding PRIMARY KEY %s on %s builds its index under an ACCESS EXCLUSIVE lock", [lib.names(s, "columns"), lib.field(s, "table")]),
	"help": "CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY USING INDEX.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_constraint"
	s.constraint_type == "primary_key"
	object.get(s, "using_index", null) == null
	lib.existing_table(s)
}

report contains {
	"rule": "add-primary-key-without-index",
	"statement": s.index,
	"message": sprintf("adding column %s.%s as PRIMARY KEY fills and indexes it under an ACCESS EXCLUSIVE lock", [lib.field(s, "table"), lib.field(s.column, "name")]),
	"help": "Add the column, backfill it, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_column"
	s.column.primary_key == true
	lib.existing_table(s)
}
