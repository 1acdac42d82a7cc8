# METADATA
# title: Calling a function that acts outside the transaction or the database
# description: >-
#   dblink_exec, lo_unlink, pg_terminate_backend, pg_read_file and the other functions in
#   data/functions.yaml act on another connection, another session, the server or its
#   files; a rollback does not undo them and the reviewed statements do not show them.
# custom:
#   id: privileged-function
#   level: approval
package sqlgate.rules.privileged.privileged_function

import rego.v1

# The unqualified, lower-cased name: `pg_catalog."PG_TERMINATE_BACKEND"` -> pg_terminate_backend.
short(name) := lower(trim(parts[count(parts) - 1], "\"")) if {
	parts := split(name, ".")
}

report contains {
	"rule": "privileged-function",
	"statement": s.index,
	"message": sprintf("calls %s: it %s", [name, why]),
	"help": "Do this outside the migration (operations runbook, a separate reviewed job); if it must run here, get a security approver.",
	"approver_role": "security",
} if {
	some s in input.statements
	some name in object.get(s, "functions", [])
	why := data.sqlgate.config.functions.privileged[short(name)]
}
