# METADATA
# title: Strong lock without lock_timeout
# description: A statement that takes a strong lock on an existing table, with no lock_timeout set, can queue behind a long transaction and block all traffic to the table while it waits.
# custom:
#   id: lock-timeout-missing
#   level: warn
package sqlgate.rules.locking.lock_timeout_missing

import rego.v1

import data.sqlgate.lib

# Statements that need the setting, by position; the rule reports the first of each file
# (one fix, SET at the top of the file, covers them all: reporting each one was 43% of
# all findings on real repositories).
needs contains j if {
	lib.postgres
	some j, s in input.statements
	s.facts.lock in lib.strong_locks
	lib.existing_table(s)
	not s.facts.lock_timeout_set
}

ordered := sort(needs)

file_of(j) := object.get(input.statements[j], "file", "")

first_in_file(k, _) if k == 0

first_in_file(k, j) if {
	k > 0
	file_of(ordered[k - 1]) != file_of(j)
}

report contains {
	"rule": "lock-timeout-missing",
	"statement": s.index,
	"message": sprintf("%s takes the %s lock on %s with no lock_timeout set", [upper(replace(s.kind, "_", " ")), s.facts.lock, lib.field(s, "table")]),
	"help": "SET lock_timeout = '2s' (or SET LOCAL inside the transaction) before the statement, and retry on timeout.",
} if {
	some k, j in ordered
	first_in_file(k, j)
	s := input.statements[j]
}
