# METADATA
# title: Truncating a table
# description: TRUNCATE deletes every row of a table at once, under an ACCESS EXCLUSIVE lock.
# custom:
#   id: truncate
#   level: approval
package sqlgate.rules.destructive.truncate

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "truncate",
	"statement": s.index,
	"message": sprintf("TRUNCATE %s deletes every row", [lib.names(s, "tables")]),
	"help": "If the data really must go, get the truncate approved; to remove some rows use a batched DELETE with a WHERE clause.",
} if {
	some s in lib.by_kind.truncate
}
