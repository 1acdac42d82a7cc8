# METADATA
# title: ADD COLUMN with a default before PostgreSQL 11
# description: Before PostgreSQL 11, ADD COLUMN with any DEFAULT (even a constant) rewrites the whole table under an ACCESS EXCLUSIVE lock; an unknown server version is treated as older than 11.
# custom:
#   id: add-column-default-rewrite
#   level: warn
package sqlgate.rules.locking.add_column_default_rewrite

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "add-column-default-rewrite",
	"statement": s.index,
	"message": sprintf("adding %s.%s with DEFAULT %s rewrites the whole table before PostgreSQL 11 (target version: %s)", [lib.field(s, "table"), lib.field(s.column, "name"), lib.field(s.column, "default"), lib.pg_version_text]),
	"help": "On PostgreSQL 10 or older: add the column without a default, SET DEFAULT for new rows, backfill in batches. On 11+ declare the version (--pg-version or a catalog) and a constant default is instant.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "add_column"
	object.get(s.column, "default", null) != null
	not s.column.default_volatile
	lib.existing_table(s)
	lib.pg_before(11)
}
