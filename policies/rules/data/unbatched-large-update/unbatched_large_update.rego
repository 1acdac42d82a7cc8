# METADATA
# title: Unbatched UPDATE/DELETE on a large table
# description: >-
#   With a catalog: an UPDATE or DELETE with a WHERE clause on a table at or above the
#   large-table thresholds (policy data size.yaml) and no `-- sqlgate:batch` directive.
#   One statement touching a large table holds row locks and bloats it for its whole run.
# custom:
#   id: unbatched-large-update
#   level: approval
package sqlgate.rules.data.unbatched_large_update

import rego.v1

import data.sqlgate.lib

default large := {}

large := data.sqlgate.config.size.large

is_large(s) if object.get(s, ["facts", "table_rows"], -1) >= object.get(large, "min_rows", 0)

is_large(s) if object.get(s, ["facts", "table_bytes"], -1) >= object.get(large, "min_bytes", 0)

report contains {
	"rule": "unbatched-large-update",
	"statement": s.index,
	"message": sprintf("%v on %v (about %v rows, %v bytes) runs as one statement with no batching", [upper(s.kind), lib.field(s, "table"), s.facts.table_rows, s.facts.table_bytes]),
	"help": "Batch it: -- sqlgate:batch key=id size=1000 pause=50ms before the statement, and run the batches in separate transactions.",
} if {
	some s in input.statements
	s.kind in {"update", "delete"}
	s.has_where
	object.get(s, "batch", null) == null
	is_number(object.get(s, ["facts", "table_rows"], null))
	is_large(s)
}
