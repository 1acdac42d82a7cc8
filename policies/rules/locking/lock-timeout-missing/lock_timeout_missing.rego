# METADATA
# title: Strong lock without lock_timeout
# description: A statement that takes a strong lock on an existing table, with no lock_timeout set, can queue behind a long transaction and block all traffic to the table while it waits.
# custom:
#   id: lock-timeout-missing
#   level: warn
package sqlgate.rules.locking.lock_timeout_missing

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "lock-timeout-missing",
	"statement": s.index,
	"message": sprintf("%s takes the %s lock on %s with no lock_timeout set", [upper(replace(s.kind, "_", " ")), s.facts.lock, lib.field(s, "table")]),
	"help": "SET lock_timeout = '2s' (or SET LOCAL inside the transaction) before the statement, and retry on timeout.",
} if {
	lib.postgres
	some s in input.statements
	s.facts.lock in lib.strong_locks
	lib.existing_table(s)
	not s.facts.lock_timeout_set
}
