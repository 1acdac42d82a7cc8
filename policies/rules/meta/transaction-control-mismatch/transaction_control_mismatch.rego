# METADATA
# title: Transaction control that does not match the executor's transaction
# description: >-
#   A BEGIN, COMMIT, ROLLBACK or SAVEPOINT other than one BEGIN opening the file and one
#   COMMIT closing it does not match the transaction the executor runs the file in
#   (sqlgate-runner wraps each file itself and refuses such a file; migration tools that
#   wrap files see a nested BEGIN or a COMMIT that ends their transaction early), and a
#   file whose tool runs it in a transaction (goose, dbmate, sql-migrate) should have
#   none.
# custom:
#   id: transaction-control-mismatch
#   level: warn
package sqlgate.rules.meta.transaction_control_mismatch

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "transaction-control-mismatch",
	"statement": s.index,
	"message": sprintf("%s in %s does not match the executor's transaction: %s", [upper(s.action), s.file, why]),
	"help": "Leave transaction control to the executor (sqlgate-runner wraps each file), or write the file as exactly BEGIN; ...; COMMIT; with nothing else controlling the transaction.",
} if {
	lib.postgres
	some j, s in input.statements
	s.kind == "transaction"
	object.get(s, "via", null) == null
	why := mismatch(j, s)
}

# Only a BEGIN that opens its file and a COMMIT that closes it match the executor.
mismatch(j, s) := "only a BEGIN opening the file matches" if {
	s.action == "begin"
	not first_of_file(j)
	not tool_wraps(s.file)
} else := "only a COMMIT closing the file matches" if {
	s.action == "commit"
	not last_of_file(j)
	not tool_wraps(s.file)
} else := sprintf("%s runs this file in its own transaction", [tool_name(s.file)]) if {
	tool_wraps(s.file)
} else := "the executor's transaction is one BEGIN ... COMMIT per file" if {
	not s.action in {"begin", "commit"}
}

first_of_file(j) if j == 0

first_of_file(j) if {
	j > 0
	input.statements[j - 1].file != input.statements[j].file
}

last_of_file(j) if j == count(input.statements) - 1

last_of_file(j) if {
	j < count(input.statements) - 1
	input.statements[j + 1].file != input.statements[j].file
}

tool_wraps(path) if {
	some f in object.get(input, "files", [])
	f.path == path
	tool := object.get(f, "tool", null)
	is_object(tool)
	object.get(tool, "transaction", false) == true
}

tool_name(path) := name if {
	some f in object.get(input, "files", [])
	f.path == path
	tool := object.get(f, "tool", null)
	is_object(tool)
	name := object.get(tool, "name", "the migration tool")
}
