# METADATA
# title: DROP DATABASE
# description: DROP DATABASE destroys every object and row of a database; it never belongs in a migration.
# custom:
#   id: drop-database
#   level: deny
package sqlgate.rules.destructive.drop_database

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "drop-database",
	"statement": s.index,
	"message": sprintf("DROP DATABASE %s destroys the whole database", [lib.field(s, "name")]),
	"help": "Databases are dropped by an operator with a backup at hand, not by a migration.",
} if {
	some s in input.statements
	s.kind == "drop_database"
}
