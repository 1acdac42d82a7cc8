# METADATA
# title: Dropping a column default or generation expression
# description: 'DROP DEFAULT / DROP EXPRESSION stops filling a column automatically: inserts from running code that omit it get NULL or fail.'
# custom:
#   id: drop-default
#   level: warn
package sqlgate.rules.compat.drop_default

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-default",
	"statement": s.index,
	"message": sprintf("dropping the default of %s.%s: running code that omits the column now inserts NULL (or fails on NOT NULL)", [lib.field(s, "table"), lib.field(s, "column")]),
	"help": "Release code that always sets the column first, then drop the default.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "drop_default"
	lib.existing_table(s)
}

report contains {
	"rule": "drop-default",
	"statement": s.index,
	"message": sprintf("DROP EXPRESSION on %s turns a generated column into a plain one: new rows no longer get a computed value", [lib.field(s, "table")]),
	"help": "Release code that computes and writes the value first, then drop the expression.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_table_other"
	s.subtype == "AT_DropExpression"
	lib.existing_table(s)
}
