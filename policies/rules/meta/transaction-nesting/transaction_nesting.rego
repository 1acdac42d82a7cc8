# METADATA
# title: BEGIN inside an open transaction
# description: 'A BEGIN while a transaction is already open is ignored with a warning, and the first COMMIT ends the outer transaction: the migration is not atomic the way it reads.'
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
	some b in nested_begins
}

# A BEGIN nested in an open transaction: the boundary just before it in the same file is
# also a BEGIN (an earlier BEGIN with no COMMIT or ROLLBACK in between). Neighbours in
# lib.transaction_bounds, so the rule stays linear in the number of statements.
nested_begins contains {"index": b[1]} if {
	bounds := lib.transaction_bounds
	some k, b in bounds
	k > 0
	b[2] == "begin"
	a := bounds[k - 1]
	a[2] == "begin"
	a[0] == b[0]
}
