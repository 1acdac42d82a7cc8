# METADATA
# title: CONCURRENTLY inside a transaction
# description: CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block; PostgreSQL rejects it.
# custom:
#   id: concurrent-index-in-transaction
#   level: deny
package sqlgate.rules.locking.concurrent_index_in_transaction

import rego.v1

import data.sqlgate.lib

index_kinds := {"create_index", "drop_index"}

report contains {
	"rule": "concurrent-index-in-transaction",
	"statement": s.index,
	"message": sprintf("%s CONCURRENTLY inside a transaction block fails on PostgreSQL", [upper(replace(s.kind, "_", " "))]),
	"help": "Run the concurrent index statement outside BEGIN/COMMIT (most migration tools need it in its own, non-transactional migration).",
} if {
	lib.postgres
	some s in input.statements
	s.kind in index_kinds
	s.concurrently == true
	s.in_transaction == true
}
