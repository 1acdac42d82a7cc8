# METADATA
# title: Changing a setting that switches off a protection
# description: >-
#   session_replication_role = replica skips triggers and foreign-key checks, a
#   lock_timeout or statement_timeout of 0 (or above the runner's caps) lets a migration
#   block production, a search_path change makes later names mean other tables, and a
#   setting changed on a role or database changes every later session. A person must
#   approve them.
# custom:
#   id: safety-setting-change
#   level: approval
package sqlgate.rules.settings.safety_setting_change

import rego.v1

import data.sqlgate.lib

config := data.sqlgate.config.settings

value(s) := "default" if {
	object.get(s, "value", null) == null
} else := lower(trim(sprintf("%v", [s.value]), "'\" "))

scope(s) := object.get(s, "scope", "session")

# PostgreSQL's time units; a bare number is milliseconds.
unit_ms := {"": 1, "us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}

# The duration in milliseconds, undefined when it is not a duration PostgreSQL would read.
duration_ms(text) := to_number(parts[1]) * unit_ms[parts[2]] if {
	parts := regex.find_all_string_submatch_n(`^([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d|)$`, text, 1)[0]
}

# Why a timeout value is a problem; undefined when it is within the cap.
timeout_problem(s, cap) := "switches it off (0 means no limit)" if {
	value(s) != "default"
	duration_ms(value(s)) == 0
} else := "resets it to the session default (no limit unless the role sets one)" if {
	value(s) == "default"
} else := sprintf("sets it above the runner's cap of %v ms", [cap]) if {
	duration_ms(value(s)) > cap
} else := "sets it to a value that is not a duration" if {
	not duration_ms(value(s))
}

where(s) := sprintf(" for every later session (ALTER %s ... SET)", [upper(scope(s))]) if {
	scope(s) in {"role", "database"}
} else := ""

# Listed safety settings set to a value outside their allowed list.
report contains finding(s, sprintf("%s = %s", [s.name, value(s)])) if {
	some s in lib.by_kind.set
	scope(s) != "function"
	allowed := config.safety[s.name]
	not value(s) in allowed
}

# lock_timeout / statement_timeout: 0, RESET, not a duration, or above the runner's cap.
report contains finding(s, sprintf("%s %s", [s.name, problem])) if {
	some s in lib.by_kind.set
	scope(s) != "function"
	cap := config.timeout_caps_ms[s.name]
	problem := timeout_problem(s, cap)
}

# Any setting changed as the default of a role or a database: it changes later sessions
# (the application's too), not only the migration's.
report contains finding(s, sprintf("%s = %s", [s.name, value(s)])) if {
	some s in lib.by_kind.set
	scope(s) in {"role", "database"}
	not config.safety[s.name]
	not config.timeout_caps_ms[s.name]
	not config.lexing[s.name]
}

# set_config() of a setting whose name is computed at run time: it cannot be judged.
report contains finding(s, "a setting whose name is computed at run time") if {
	some s in lib.by_kind.set
	s.name == "?"
}

finding(s, what) := {
	"rule": "safety-setting-change",
	"statement": s.index,
	"message": sprintf("changes %s%s", [what, where(s)]),
	"help": "Keep the runner's settings (it sets lock_timeout and statement_timeout itself) and qualify names instead of changing search_path; if the change is intended, get it approved.",
}
