# METADATA
# title: Table not found
# description: >-
#   With a catalog: the statement targets a table that neither exists in the database nor
#   is created earlier in the set (facts.table_exists is false). Without a catalog the
#   fact is null and nothing is reported.
# custom:
#   id: table-not-found
#   level: deny
package sqlgate.rules.catalog.table_not_found

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "table-not-found",
	"statement": s.index,
	"message": sprintf("%v targets %v, which does not exist in %v and is not created earlier in the set", [upper(replace(s.kind, "_", " ")), target(s), object.get(input, "target", "the target")]),
	"help": "Check the table name and schema, and that the catalog is of the right database; create the table earlier in the set if it is new.",
} if {
	some s in input.statements
	s.kind != "create_table"
	object.get(s, ["facts", "table_exists"], null) == false
	not object.get(s, "if_exists", false)
}

target(s) := lib.field(s, "table") if s.table

else := lib.names(s, "tables")
