# METADATA
# title: Moving an object to another schema
# description: 'ALTER ... SET SCHEMA moves the object: running code that names it with the old schema (or relies on search_path) breaks.'
# custom:
#   id: set-schema
#   level: warn
package sqlgate.rules.compat.set_schema

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "set-schema",
	"statement": s.index,
	"message": sprintf("moving %s %s to another schema breaks running code that refers to it by its old name", [lib.field(s, "object_type"), lib.field(s, "name")]),
	"help": "Create the object in the new schema (or a view/synonym), move the code over, then drop the old one.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_object"
	s.operation == "set_schema"
}
