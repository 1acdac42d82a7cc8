# METADATA
# title: DELETE without WHERE
# description: A DELETE with no WHERE clause removes every row of the table.
# custom:
#   id: delete-without-where
#   level: approval
package sqlgate.rules.destructive.delete_without_where

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "delete-without-where",
	"statement": s.index,
	"message": sprintf("DELETE FROM %s has no WHERE clause: it deletes every row", [lib.field(s, "table")]),
	"help": "Add a WHERE clause that selects only the rows to delete, and batch it; if every row must really go, get it approved.",
} if {
	some s in lib.by_kind.delete
	not s.has_where
}
