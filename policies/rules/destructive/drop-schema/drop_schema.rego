# METADATA
# title: Dropping a schema or database
# description: DROP SCHEMA and DROP DATABASE delete every object (and row) they contain.
# custom:
#   id: drop-schema
#   level: approval
package sqlgate.rules.destructive.drop_schema

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-schema",
	"statement": s.index,
	"message": sprintf("DROP SCHEMA %s deletes every object in it", [lib.names(s, "names")]),
	"help": "Move or archive what the schema contains first, and get the drop approved.",
} if {
	some s in lib.by_kind.drop_schema
}

report contains {
	"rule": "drop-schema",
	"statement": s.index,
	"message": sprintf("DROP DATABASE %s deletes the whole database", [lib.field(s, "name")]),
	"help": "Dropping a database does not belong in a migration; do it by hand, with approval, after a backup.",
} if {
	some s in lib.by_kind.drop_database
}
