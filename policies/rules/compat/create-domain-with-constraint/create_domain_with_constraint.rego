# METADATA
# title: CREATE DOMAIN with a CHECK constraint
# description: 'A CHECK on a domain cannot later be changed online: altering it checks every column that uses the domain.'
# custom:
#   id: create-domain-with-constraint
#   level: warn
package sqlgate.rules.compat.create_domain_with_constraint

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "create-domain-with-constraint",
	"statement": s.index,
	"message": sprintf("domain %s has a CHECK constraint: changing it later checks every column using the domain under locks", [lib.field(s, "name")]),
	"help": "Create the domain without CHECK and put CHECK constraints on the table columns (they can be added NOT VALID and validated online).",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "create_type"
	s.type_kind == "domain"
	"check" in object.get(s, "constraints", [])
}
