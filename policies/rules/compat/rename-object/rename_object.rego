# METADATA
# title: Renaming a view, function, type, sequence, index or other object
# description: RENAME of an object other than a table or column breaks running code that still uses the old name.
# custom:
#   id: rename-object
#   level: warn
package sqlgate.rules.compat.rename_object

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "rename-object",
	"statement": s.index,
	"message": sprintf("renaming %s %s breaks running code that uses the old name", [lib.field(s, "object_type"), lib.field(s, "name")]),
	"help": "Create the object under the new name (or a compatibility view/wrapper), move the code over, then drop the old name.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_object"
	s.operation == "rename"
}
