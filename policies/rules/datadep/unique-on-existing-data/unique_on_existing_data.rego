# METADATA
# title: Unique index or key on existing data
# description: A UNIQUE index or PRIMARY KEY on an existing table fails if the data already has duplicates.
# custom:
#   id: unique-on-existing-data
#   level: warn
package sqlgate.rules.datadep.unique_on_existing_data

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "unique-on-existing-data",
	"statement": s.index,
	"message": sprintf("%s on %s (%s) fails if existing rows hold duplicates", [what(s), lib.field(s, "table"), lib.names(s, "columns")]),
	"help": "Check for duplicates first (SELECT cols, count(*) ... GROUP BY cols HAVING count(*) > 1) and clean them up in an earlier migration.",
} if {
	some s in input.statements
	lib.existing_table(s)
	unique_on(s)
}

unique_on(s) if {
	s.kind == "create_index"
	s.unique == true
}

unique_on(s) if {
	s.kind == "add_constraint"
	s.constraint_type in {"unique", "primary_key"}
	not is_string(object.get(s, "using_index", null))
}

what(s) := "UNIQUE INDEX" if s.kind == "create_index"

else := sprintf("%s constraint", [upper(replace(s.constraint_type, "_", " "))])
