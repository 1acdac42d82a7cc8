# METADATA
# title: Dropping a constraint
# description: Dropping a foreign key, check or unique constraint removes an integrity guarantee the data relies on.
# custom:
#   id: drop-constraint
#   level: warn
package sqlgate.rules.constraints.drop_constraint

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-constraint",
	"statement": s.index,
	"message": sprintf("dropping %s %s on %s removes an integrity guarantee", [what(s), lib.field(s, "name"), lib.field(s, "table")]),
	"help": "Make sure nothing relies on the constraint any more (application checks, cascades), and that it is not dropped only to load bad data.",
} if {
	some s in lib.by_kind.drop_constraint
}

what(s) := "foreign key" if s.constraint_type == "foreign_key"

else := "check constraint" if s.constraint_type == "check"

else := "constraint"
