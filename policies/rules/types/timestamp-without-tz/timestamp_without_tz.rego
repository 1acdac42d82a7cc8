# METADATA
# title: timestamp without time zone column
# description: 'timestamp without time zone stores wall-clock time with no zone: values are ambiguous and shift with the session''s TimeZone.'
# custom:
#   id: timestamp-without-tz
#   level: warn
package sqlgate.rules.types.timestamp_without_tz

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "timestamp-without-tz",
	"statement": c.statement.index,
	"message": sprintf("column %s.%s is %s: values carry no time zone and are ambiguous", [c.table, c.column, c.type]),
	"help": "Use timestamptz (timestamp with time zone).",
} if {
	lib.postgres
	some c in lib.typed_columns
	regex.match(`^timestamp(\s*\(\d+\))?(\s+without time zone)?$`, c.type)
}
