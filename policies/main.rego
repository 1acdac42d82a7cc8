# METADATA
# title: sqlgate entry point
# description: >-
#   Gathers every rule's report under data.sqlgate.rules (no edit needed for a new rule
#   folder), attaches the level for input.environment and the statement's position, and
#   decides: deny if any finding is deny, else needs_approval if any is approval, else allow.
package sqlgate.main

import rego.v1

rank := {"warn": 1, "approval": 2, "deny": 3}

# The destructive gates and their floor: no environment may lower or disable them, and the
# floor holds even if the data file's defaults are edited below it.
destructive := {
	"drop-table": "approval",
	"drop-column": "approval",
	"truncate": "approval",
	"drop-schema": "approval",
	"delete-without-where": "approval",
	"unbatched-backfill": "deny",
	"unrecognized-statement": "approval",
	# A changed lexing setting makes the executed text differ from the reviewed one.
	"lexing-setting-change": "deny",
}

# Read as a plain reference with a default: `object.get(data, ...)` makes OPA see recursion
# through `data` (this package is under data too).
default config := {}

config := data.sqlgate.config.levels

defaults := object.get(config, "defaults", {})

# The environment's overrides; an unknown (or missing) environment has none: production levels.
env_config := object.get(object.get(config, "environments", {}), [object.get(input, "environment", "")], {})

# A level the policy understands, or deny (fail closed) for anything else.
valid(level) := level if {
	level in object.keys(rank)
} else := "deny"

# A rule without a configured level is denied: fail closed.
default_level(rule) := valid(defaults[rule]) if {
	defaults[rule]
} else := "deny"

env_level(rule) := valid(object.get(env_config, ["levels", rule], default_level(rule)))

max_level(a, b) := a if {
	rank[a] >= rank[b]
} else := b

# Destructive gates: the strictest of the environment's level, the default and the floor.
org_level(rule) := max_level(max_level(env_level(rule), default_level(rule)), destructive[rule]) if {
	destructive[rule]
} else := env_level(rule)

# Per-repository overrides (data/repos.yaml, loaded at data.sqlgate.config.repos), keyed by
# input.repo, which the server resolves from the authenticated principal's binding.
default repos_config := {}

repos_config := data.sqlgate.config.repos

repo_config := object.get(object.get(repos_config, "repositories", {}), [object.get(input, "repo", "")], {})

repo_env_config := object.get(object.get(repo_config, "environments", {}), [object.get(input, "environment", "")], {})

# The org's gates no repository may lower or disable: the destructive gates (lexing
# setting change included), every privileged statement and a policy-engine error.
org_gate(rule) if destructive[rule]

org_gate(rule) if {
	is_string(rule)
	startswith(rule, "privileged-")
}

org_gate(rule) if rule == "policy-engine-error"

# The repository's level for the environment, else its level, else the org's.
repo_level(rule) := valid(object.get(
	repo_env_config, ["levels", rule],
	object.get(repo_config, ["levels", rule], org_level(rule)),
))

# A repository may raise an org gate, never lower it; any other rule takes its level.
level(rule) := max_level(org_level(rule), repo_level(rule)) if {
	org_gate(rule)
} else := repo_level(rule)

disabled(rule) if {
	some r in object.get(env_config, "disabled", [])
	r == rule
	not destructive[rule]
}

disabled(rule) if {
	some r in array.concat(object.get(repo_config, "disabled", []), object.get(repo_env_config, "disabled", []))
	r == rule
	not org_gate(rule)
}

# Every report of every rule package: data.sqlgate.rules.<family>.<rule>.report.
raw contains f if {
	some family, name
	some f in data.sqlgate.rules[family][name].report
}

# Where statement `i` starts. The model puts it in `position` (the top-level `column` key is
# the target column for column actions, contract §1); a finding that points at no
# statement keeps null positions, which the engine wrapper refuses (fail closed) rather
# than dropping the finding here.
position(i) := {
	"file": object.get(s, "file", null),
	"line": object.get(pos, "line", object.get(s, "line", null)),
	"column": object.get(pos, "column", top_level_column(s)),
} if {
	# Direct lookup: the review puts statement i at input.statements[i]. Scanning the array
	# per finding made evaluation quadratic (10k statements exceeded the engine timeout);
	# the equality guard keeps a misnumbered input fail-closed (null position, refused).
	s := input.statements[i]
	s.index == i
	pos := object.get(s, "position", {})
} else := {"file": null, "line": null, "column": null}

top_level_column(s) := s.column if {
	is_number(s.column)
} else := null

# The rule ids that reported, and per id whether it is disabled and its level: computed once
# per rule instead of once per finding (a large set has thousands of findings of few rules).
reported_rules := {object.get(f, "rule", null) | some f in raw}

disabled_rules := {rule | some rule in reported_rules; disabled(rule)}

rule_levels := {rule: level(rule) | some rule in reported_rules}

keyed contains [object.get(f, "statement", null), rule, object.get(f, "message", null), finding] if {
	some f in raw
	rule := object.get(f, "rule", null)
	not rule in disabled_rules
	finding := object.union(
		object.union(
			{
				"rule": rule,
				"level": scaled_level(rule, object.get(f, "statement", null)),
				"statement": object.get(f, "statement", null),
				"message": object.get(f, "message", null),
				"help": object.get(f, "help", null),
			},
			position(object.get(f, "statement", -1)),
		),
		approver(f),
	)
}

# A rule may name who must approve (contract §3: "approver_role", e.g. "security" for the
# privileged-* rules); passed through as given, absent when the rule names nobody.
approver(f) := {"approver_role": f.approver_role} if {
	f.approver_role != null
} else := {}

# Sorted by statement, rule, message: the same input always gives the same list. The
# `sqlgate:ignore` comments are applied here, before the decision (suppress.rego).
findings := [k[3] | some k in sort(keyed | suppression_keyed); not suppressed(k[3])]

decision := "deny" if {
	some f in findings
	f.level == "deny"
} else := "needs_approval" if {
	some f in findings
	f.level == "approval"
} else := "allow"

result := {"decision": decision, "findings": findings, "suppressions": applied_suppressions}
