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
