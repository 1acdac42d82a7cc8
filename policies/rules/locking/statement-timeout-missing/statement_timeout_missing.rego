# METADATA
# title: Strong lock without a statement_timeout
# description: 'A statement that takes a strong lock on an existing table runs without a statement_timeout set earlier in the set: a slow scan or rewrite holds the lock indefinitely.'
# custom:
#   id: statement-timeout-missing
#   level: warn
package sqlgate.rules.locking.statement_timeout_missing

import rego.v1

import data.sqlgate.lib

# Statements that need the setting, by position; the rule reports the first of each file
# (one fix, SET at the top of the file, covers them all: reporting each one was 43% of
# all findings on real repositories).
needs contains j if {
	lib.postgres
	some j, s in input.statements
	s.facts.lock in lib.strong_locks
	s.facts.statement_timeout_set == false
	lib.existing_table(s)
}

ordered := sort(needs)

file_of(j) := object.get(input.statements[j], "file", "")

first_in_file(k, _) if k == 0

first_in_file(k, j) if {
	k > 0
	file_of(ordered[k - 1]) != file_of(j)
}

report contains {
	"rule": "statement-timeout-missing",
	"statement": s.index,
	"message": sprintf("%s lock on %s with no statement_timeout set before it", [lib.field(s.facts, "lock"), lib.field(s, "table")]),
	"help": "SET statement_timeout = '...' (and lock_timeout) at the top of the migration so a slow statement is cancelled instead of holding its lock.",
} if {
	some k, j in ordered
	first_in_file(k, j)
	s := input.statements[j]
}
