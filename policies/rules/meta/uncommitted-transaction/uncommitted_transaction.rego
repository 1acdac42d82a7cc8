# METADATA
# title: BEGIN without COMMIT
# description: 'A file that opens a transaction and never commits or rolls it back: its changes are rolled back when the session ends, or stay locked.'
# custom:
#   id: uncommitted-transaction
#   level: approval
package sqlgate.rules.meta.uncommitted_transaction

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "uncommitted-transaction",
	"statement": b.index,
	"message": sprintf("transaction opened in %s is never committed or rolled back", [lib.field(b, "file")]),
	"help": "End every BEGIN with COMMIT (or ROLLBACK) in the same file.",
} if {
	lib.postgres
	some b in lib.by_kind.transaction
	b.action == "begin"
	not ended_after(b)
}

ended_after(b) if last_end[b.file] > b.index

# The index of the last COMMIT or ROLLBACK of each file, from the sorted boundaries (one
# pass): a BEGIN after it, or in a file with none, is never ended.
last_end[e[0]] := e[1] if {
	ends := [[x[0], x[1]] | some x in lib.transaction_bounds; x[2] != "begin"]
	some j, e in ends
	not same_file(ends, j + 1, e[0])
}

same_file(list, j, file) if list[j][0] == file
