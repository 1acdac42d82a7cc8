# METADATA
# title: Strong lock without a statement_timeout
# description: 'A statement that takes a strong lock on an existing table runs without a statement_timeout set earlier in the set: a slow scan or rewrite holds the lock indefinitely.'
# custom:
#   id: statement-timeout-missing
#   level: warn
package sqlgate.rules.locking.statement_timeout_missing

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "statement-timeout-missing",
	"statement": s.index,
	"message": sprintf("%s lock on %s with no statement_timeout set before it", [lib.field(s.facts, "lock"), lib.field(s, "table")]),
	"help": "SET statement_timeout = '...' (and lock_timeout) at the top of the migration so a slow statement is cancelled instead of holding its lock.",
} if {
	lib.postgres
	some s in input.statements
	s.facts.lock in lib.strong_locks
	s.facts.statement_timeout_set == false
	lib.existing_table(s)
}
