# METADATA
# title: DROP INDEX without CONCURRENTLY
# description: On PostgreSQL, DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.
# custom:
#   id: drop-index-not-concurrent
#   level: deny
package sqlgate.rules.locking.drop_index_not_concurrent

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-index-not-concurrent",
	"statement": s.index,
	"message": sprintf("DROP INDEX %s locks its table against reads and writes", [lib.names(s, "names")]),
	"help": "Use DROP INDEX CONCURRENTLY, outside a transaction block.",
} if {
	lib.postgres
	some s in lib.by_kind.drop_index
	not s.concurrently

	# An index on a table an earlier statement of the set created (as index-not-concurrent).
	lib.existing_table(s)
}
