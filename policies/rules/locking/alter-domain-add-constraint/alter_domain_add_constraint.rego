# METADATA
# title: ALTER DOMAIN ... ADD CONSTRAINT
# description: Adding a constraint to a domain checks every column of every table that uses the domain, under locks, and cannot be done safely online.
# custom:
#   id: alter-domain-add-constraint
#   level: approval
package sqlgate.rules.locking.alter_domain_add_constraint

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "alter-domain-add-constraint",
	"statement": s.index,
	"message": sprintf("ALTER DOMAIN %s ADD CONSTRAINT checks every column using the domain while holding locks", [lib.field(s, "name")]),
	"help": "Put the CHECK on the table columns instead (ADD CONSTRAINT ... NOT VALID, then VALIDATE), or add it to the domain with NOT VALID and validate it in a quiet window.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_domain"
	s.action == "add_constraint"
	s.not_valid != true
}
