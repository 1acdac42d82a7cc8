# METADATA
# title: ALTER TYPE ... ADD VALUE inside a transaction before PostgreSQL 12
# description: 'Before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block: the migration fails. An unknown server version is treated as older than 12.'
# custom:
#   id: enum-value-in-transaction
#   level: deny
package sqlgate.rules.locking.enum_value_in_transaction

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "enum-value-in-transaction",
	"statement": s.index,
	"message": sprintf("ALTER TYPE %s ADD VALUE %s inside a transaction block fails before PostgreSQL 12 (target version: %s)", [lib.field(s, "type"), lib.field(s, "value"), lib.pg_version_text]),
	"help": "Run ADD VALUE outside BEGIN/COMMIT (its own migration without a transaction), or declare PostgreSQL 12+ with --pg-version.",
} if {
	lib.postgres
	some s in input.statements
	s.kind == "alter_type_add_value"
	s.in_transaction == true
	lib.pg_before(12)
}
