# METADATA
# title: REINDEX without CONCURRENTLY
# description: REINDEX without CONCURRENTLY blocks writes to the table (and reads through the index) for the whole rebuild.
# custom:
#   id: reindex-not-concurrent
#   level: deny
package sqlgate.rules.locking.reindex_not_concurrent

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "reindex-not-concurrent",
	"statement": s.index,
	"message": sprintf("REINDEX %s %s without CONCURRENTLY blocks writes for the whole rebuild", [upper(lib.field(s, "target")), lib.field(s, "name")]),
	"help": help,
} if {
	lib.postgres
	some s in input.statements
	s.kind == "reindex"
	s.concurrently != true
	object.get(s, "target", "") != "system"
	help := reindex_help
}

reindex_help := "Use REINDEX ... CONCURRENTLY (PostgreSQL 12+)." if {
	lib.pg_at_least(12)
} else := "REINDEX CONCURRENTLY needs PostgreSQL 12 (target version: unknown or older): CREATE INDEX CONCURRENTLY a copy, then drop the old index concurrently."
