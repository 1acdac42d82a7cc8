# METADATA
# title: TRUNCATE ... CASCADE
# description: TRUNCATE ... CASCADE also empties every table that references the named ones, which the statement does not list.
# custom:
#   id: truncate-cascade
#   level: deny
package sqlgate.rules.destructive.truncate_cascade

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "truncate-cascade",
	"statement": s.index,
	"message": sprintf("TRUNCATE %s CASCADE also empties every table with a foreign key to it", [lib.names(s, "tables")]),
	"help": "List every table to empty explicitly, without CASCADE, so the review sees what is deleted.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "truncate"
	s.cascade == true
}
