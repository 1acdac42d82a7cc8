# METADATA
# title: CREATE INDEX without CONCURRENTLY
# description: On PostgreSQL, CREATE INDEX without CONCURRENTLY blocks all writes to an existing table while the index builds.
# custom:
#   id: index-not-concurrent
#   level: deny
package sqlgate.rules.locking.index_not_concurrent

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "index-not-concurrent",
	"statement": s.index,
	"message": sprintf("CREATE INDEX %s on %s blocks writes to the table while it builds", [lib.field(s, "name"), lib.field(s, "table")]),
	"help": "Use CREATE INDEX CONCURRENTLY, outside a transaction block.",
} if {
	lib.postgres
	some s in lib.by_kind.create_index
	not s.concurrently
	lib.existing_table(s)

	# ON ONLY parent creates an invalid index on the partitioned parent alone: instant.
	object.get(s, "only", false) == false
}
