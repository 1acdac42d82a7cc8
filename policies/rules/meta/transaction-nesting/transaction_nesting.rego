# METADATA
# title: BEGIN inside an open transaction
# description: A BEGIN while a transaction is already open is ignored with a warning, and the first COMMIT ends the outer transaction: the migration is not atomic the way it reads.
# custom:
#   id: transaction-nesting
#   level: warn
package sqlgate.rules.meta.transaction_nesting

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "transaction-nesting",
	"statement": b.index,
	"message": "BEGIN inside an already open transaction is ignored: the first COMMIT ends the outer transaction",
	"help": "Use one BEGIN/COMMIT pair per file (or SAVEPOINT for a nested unit), and none if the migration tool already wraps each file in a transaction.",
} if {
	lib.postgres
	some b in input.statements
	is_begin(b)
	some a in input.statements
	is_begin(a)
	a.file == b.file
	a.index < b.index
	not closed_between(a, b)
}

is_begin(s) if {
	s.kind == "transaction"
	s.action == "begin"
}

closed_between(a, b) if {
	some c in input.statements
	c.kind == "transaction"
	c.action in {"commit", "rollback"}
	c.file == a.file
	c.index > a.index
	c.index < b.index
}
