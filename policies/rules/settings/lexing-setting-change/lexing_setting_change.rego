# METADATA
# title: Changing a setting that changes how SQL text is read
# description: >-
#   With standard_conforming_strings off (or another client_encoding or backslash_quote)
#   PostgreSQL splits and reads the following SQL differently from the review: a string
#   reviewed as one SELECT can run as a DROP. Any change of them is refused.
# custom:
#   id: lexing-setting-change
#   level: deny
package sqlgate.rules.settings.lexing_setting_change

import rego.v1

import data.sqlgate.lib

lexing := data.sqlgate.config.settings.lexing

# The value as the policy compares it: lower-case, unquoted; "default" for RESET/DEFAULT.
value(s) := "default" if {
	object.get(s, "value", null) == null
} else := lower(trim(sprintf("%v", [s.value]), "'\" "))

how(s) := "set_config()" if {
	object.get(s, "via", null) == "set_config"
} else := sprintf("ALTER %s ... SET", [upper(s.scope)]) if {
	object.get(s, "scope", "session") in {"role", "database"}
} else := "a function's SET clause" if {
	object.get(s, "scope", "session") == "function"
} else := "RESET" if {
	object.get(s, "value", null) == null
} else := "SET LOCAL" if {
	object.get(s, "local", false) == true
} else := "SET"

report contains {
	"rule": "lexing-setting-change",
	"statement": s.index,
	"message": sprintf("%s changes %s to %s: later SQL would be read differently from how it was reviewed", [how(s), s.name, value(s)]),
	"help": "Remove it: migrations run with standard_conforming_strings on, backslash_quote safe_encoding and client_encoding UTF8, as reviewed. Use E'...' strings for escapes.",
} if {
	some s in lib.by_kind.set
	allowed := lexing[s.name]
	not value(s) in allowed
}

# RESET ALL (or a set_config whose setting name is computed) may restore a lexing setting
# to a role or database default that differs from the reviewed one.
report contains {
	"rule": "lexing-setting-change",
	"statement": s.index,
	"message": sprintf("%s may change standard_conforming_strings and the other lexing settings", [label]),
	"help": "Reset only the settings you changed, by name.",
} if {
	some s in lib.by_kind.set
	s.name in {"all", "?"}
	label := {"all": "RESET ALL", "?": "set_config() of a setting computed at run time"}[s.name]
}
