# METADATA
# title: Shared helpers for sqlgate rules
# description: >-
#   Small, total helpers: every one yields a value (never undefined) for any input, so a
#   rule's message can never silently drop a finding because a field was missing.
package sqlgate.lib

import rego.v1

# The input declares MySQL. PostgreSQL-only rules fire on every other dialect, including a
# missing or unknown one: fail closed.
mysql if input.dialect == "mysql"

postgres if not mysql

# The statement's table was not created earlier in the same set (or the fact is missing).
existing_table(s) if not s.facts.table_created_in_set

# A field rendered as text, "?" when absent.
field(s, key) := sprintf("%v", [object.get(s, key, "?")])

# A list field rendered as "a, b", "?" when absent or empty.
names(s, key) := text if {
	items := [sprintf("%v", [x]) | some x in object.get(s, key, [])]
	count(items) > 0
	text := concat(", ", items)
} else := "?"

# Strong lock modes: they block reads or writes of the table for as long as they are held.
strong_locks := {"ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"}

# The PostgreSQL major version the set targets: from input.server_version ("16", "16.2",
# "9.6", "PostgreSQL 15.4", "150004"), else the catalog's server_version_num; undefined
# when neither says. Rules ask `pg_before(n)`, which holds for an unknown version: an
# unknown version is assumed to be the oldest, so its rules are the strictest.
pg_major := major if {
	is_string(input.server_version)
	found := regex.find_n(`[0-9]+`, input.server_version, 1)
	major := version_major(to_number(without_leading_zeros(found[0])))
} else := major if {
	is_number(input.catalog.server_version_num)
	major := version_major(input.catalog.server_version_num)
}

# "016" -> "16", "000" -> "0": OPA's to_number reads leading zeros and regorus refuses
# them, so both engines are given digits without them.
without_leading_zeros(digits) := trimmed if {
	trimmed := trim_left(digits, "0")
	trimmed != ""
} else := "0"

# 150004 (server_version_num) -> 15; 15 -> 15.
version_major(n) := floor(n / 10000) if n >= 10000

version_major(n) := n if n < 10000

pg_at_least(v) if pg_major >= v

pg_before(v) if not pg_at_least(v)

# The target version as text for messages: "16" or "unknown".
pg_version_text := sprintf("%v", [pg_major]) if pg_major

else := "unknown"

# Every column definition with a type: CREATE TABLE columns, ADD COLUMN, ALTER COLUMN TYPE.
# Each is {statement, table, column, type (lower-case)}.
typed_columns contains {"statement": s, "table": field(s, "table"), "column": c.name, "type": lower(c.type)} if {
	some s in by_kind.create_table
	some c in object.get(s, "columns", [])
	is_string(c.type)
}

typed_columns contains {"statement": s, "table": field(s, "table"), "column": s.column.name, "type": lower(s.column.type)} if {
	some s in by_kind.add_column
	is_string(s.column.type)
}

typed_columns contains {"statement": s, "table": field(s, "table"), "column": field(s, "column"), "type": lower(s.type)} if {
	some s in by_kind.alter_column_type
	is_string(s.type)
}
