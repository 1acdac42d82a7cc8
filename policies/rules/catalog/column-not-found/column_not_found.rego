# METADATA
# title: Column not found
# description: >-
#   With a catalog: the statement alters, drops or renames a column that neither exists
#   in the table nor is added earlier in the set (facts.column_exists is false).
# custom:
#   id: column-not-found
#   level: deny
package sqlgate.rules.catalog.column_not_found

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "column-not-found",
	"statement": s.index,
	"message": sprintf("%v.%v does not exist and is not added earlier in the set", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Check the column name against the table; add the column earlier in the set if it is new.",
} if {
	some s in input.statements
	object.get(s, ["facts", "column_exists"], null) == false
	not object.get(s, "if_exists", false)
}
