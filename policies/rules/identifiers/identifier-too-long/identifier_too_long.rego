# METADATA
# title: Identifier too long
# description: >-
#   PostgreSQL silently truncates names longer than 63 bytes (NAMEDATALEN - 1), so the
#   object gets another name than the migration and the code use, and two long names can
#   collide; MySQL and MariaDB refuse names longer than 64 characters and the migration
#   fails part-way.
# custom:
#   id: identifier-too-long
#   level: deny
package sqlgate.rules.identifiers.identifier_too_long

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "identifier-too-long",
	"statement": s.index,
	"message": sprintf("identifier %v is %d bytes long; PostgreSQL truncates it to 63 bytes", [ident.name, ident.bytes]),
	"help": "Use a name of at most 63 bytes of UTF-8 (non-ASCII characters take several).",
} if {
	lib.postgres
	some s in input.statements
	some ident in object.get(object.get(s, "facts", {}), "long_identifiers", [])
}

report contains {
	"rule": "identifier-too-long",
	"statement": s.index,
	"message": sprintf("identifier %v is %d characters long; MySQL/MariaDB refuse names over 64 characters", [ident.name, count(ident.name)]),
	"help": "Use a name of at most 64 characters.",
} if {
	lib.mysql
	some s in input.statements
	some ident in object.get(object.get(s, "facts", {}), "identifiers", [])
	count(ident.name) > 64
}
