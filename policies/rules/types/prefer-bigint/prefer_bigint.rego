# METADATA
# title: 32/16-bit integer column
# description: integer, smallint and serial columns can run out of values; widening one later rewrites the table.
# custom:
#   id: prefer-bigint
#   level: warn
package sqlgate.rules.types.prefer_bigint

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "prefer-bigint",
	"statement": c.statement.index,
	"message": sprintf("column %s.%s is %s: it can run out of values, and widening it later rewrites the table", [c.table, c.column, c.type]),
	"help": "Use bigint (or bigserial / bigint GENERATED ... AS IDENTITY).",
} if {
	lib.postgres
	some c in lib.typed_columns
	regex.match(`^(integer|int|int4|int2|smallint|serial|serial4|smallserial|serial2)$`, c.type)
}
