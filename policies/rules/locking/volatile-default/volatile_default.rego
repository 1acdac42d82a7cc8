# METADATA
# title: ADD COLUMN with a volatile default
# description: ADD COLUMN with a volatile DEFAULT (random(), clock_timestamp(), gen_random_uuid()...) rewrites the whole table under an ACCESS EXCLUSIVE lock.
# custom:
#   id: volatile-default
#   level: warn
package sqlgate.rules.locking.volatile_default

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "volatile-default",
	"statement": s.index,
	"message": sprintf("adding %s.%s with volatile default %s rewrites the whole table", [lib.field(s, "table"), lib.field(s.column, "name"), lib.field(s.column, "default")]),
	"help": "Add the column without a default (or with a constant one), backfill it in batches, then SET DEFAULT for new rows.",
} if {
	lib.postgres
	some s in lib.by_kind.add_column
	s.column.default_volatile == true
	lib.existing_table(s)
}
