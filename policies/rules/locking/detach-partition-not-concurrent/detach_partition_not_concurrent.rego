# METADATA
# title: DETACH PARTITION without CONCURRENTLY
# description: ALTER TABLE ... DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table.
# custom:
#   id: detach-partition-not-concurrent
#   level: approval
package sqlgate.rules.locking.detach_partition_not_concurrent

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "detach-partition-not-concurrent",
	"statement": s.index,
	"message": sprintf("DETACH PARTITION on %s without CONCURRENTLY locks the whole partitioned table (ACCESS EXCLUSIVE)", [lib.field(s, "table")]),
	"help": detach_help,
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_table_other"
	s.subtype == "AT_DetachPartition"
	s.concurrently != true
}

detach_help := "Use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), outside a transaction block." if {
	lib.pg_at_least(14)
} else := "DETACH PARTITION CONCURRENTLY needs PostgreSQL 14 (target version: unknown or older): schedule the detach in a quiet window with a short lock_timeout."
