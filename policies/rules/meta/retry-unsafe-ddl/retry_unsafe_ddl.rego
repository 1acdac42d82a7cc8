# METADATA
# title: DDL that fails when retried
# description: Outside a transaction, a CREATE/ADD without IF NOT EXISTS or a DROP without IF EXISTS fails when a half-applied migration is run again.
# custom:
#   id: retry-unsafe-ddl
#   level: warn
package sqlgate.rules.meta.retry_unsafe_ddl

import rego.v1

import data.sqlgate.lib

creates := {"create_table", "create_index", "add_column"}

# Whether a statement runs with no transaction around it, so a failure after it leaves it
# applied: outside an explicit BEGIN, and either it cannot run in a transaction at all
# (CONCURRENTLY) or the executor does not wrap files (data/execution.yaml).
default wrapped := true

wrapped := data.sqlgate.config.execution.wraps_files_in_transaction

unprotected(s) if {
	s.in_transaction == false
	object.get(s, "concurrently", false) == true
}

unprotected(s) if {
	s.in_transaction == false
	wrapped == false
}

drops := {"drop_table", "drop_index", "drop_column", "drop_view", "drop_constraint"}

report contains {
	"rule": "retry-unsafe-ddl",
	"statement": s.index,
	"message": sprintf("%s without IF NOT EXISTS outside a transaction fails if the migration is retried after a partial run", [upper(replace(s.kind, "_", " "))]),
	"help": "Add IF NOT EXISTS, or run the file in a transaction so a failure leaves nothing behind.",
} if {
	lib.postgres
	some s in input.statements
	s.kind in creates
	s.if_not_exists == false
	object.get(s, "temporary", false) == false
	unprotected(s)
}

report contains {
	"rule": "retry-unsafe-ddl",
	"statement": s.index,
	"message": sprintf("%s without IF EXISTS outside a transaction fails if the migration is retried after a partial run", [upper(replace(s.kind, "_", " "))]),
	"help": "Add IF EXISTS, or run the file in a transaction so a failure leaves nothing behind.",
} if {
	lib.postgres
	some s in input.statements
	s.kind in drops
	s.if_exists == false
	unprotected(s)
}
