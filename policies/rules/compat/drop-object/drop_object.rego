# METADATA
# title: Dropping a view, function, type, domain, sequence or extension
# description: DROP VIEW/FUNCTION/PROCEDURE/TYPE/DOMAIN/SEQUENCE/EXTENSION breaks the running code that still uses the object.
# custom:
#   id: drop-object
#   level: approval
package sqlgate.rules.compat.drop_object

import rego.v1

import data.sqlgate.lib

objects := {"function", "procedure", "routine", "aggregate", "type", "domain", "sequence"}

report contains {
	"rule": "drop-object",
	"statement": s.index,
	"message": sprintf("dropping %s %s breaks running code that still uses it", [s.object_type, lib.names(s, "names")]),
	"help": "Stop using the object in the deployed code first; drop it in a later release.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "drop_object"
	s.object_type in objects
}

report contains {
	"rule": "drop-object",
	"statement": s.index,
	"message": sprintf("dropping view %s breaks running code that still queries it", [lib.names(s, "names")]),
	"help": "Stop using the view in the deployed code first; drop it in a later release.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "drop_view"
}

report contains {
	"rule": "drop-object",
	"statement": s.index,
	"message": sprintf("dropping extension %s removes its types and functions from running code", [lib.field(s, "name")]),
	"help": "Make sure nothing uses the extension's objects any more, then drop it in a later release.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "drop_extension"
}
