# METADATA
# title: BEGIN without COMMIT
# description: A file that opens a transaction and never commits or rolls it back: its changes are rolled back when the session ends, or stay locked.
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
	some b in input.statements
	b.kind == "transaction"
	b.action == "begin"
	not ended_after(b)
}

ended_after(b) if {
	some c in input.statements
	c.kind == "transaction"
	c.action in {"commit", "rollback"}
	c.file == b.file
	c.index > b.index
}
