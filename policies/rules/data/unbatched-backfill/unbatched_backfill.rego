# METADATA
# title: UPDATE without WHERE
# description: An UPDATE with no WHERE clause rewrites every row in one transaction.
# custom:
#   id: unbatched-backfill
#   level: deny
package sqlgate.rules.data.unbatched_backfill

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "unbatched-backfill",
	"statement": s.index,
	"message": sprintf("UPDATE %s has no WHERE clause: it rewrites every row in one transaction", [lib.field(s, "table")]),
	"help": "Backfill in batches (UPDATE ... WHERE id BETWEEN ... ), each in its own transaction, or run it as a background job.",
} if {
	some s in lib.by_kind.update
	not s.has_where
}
