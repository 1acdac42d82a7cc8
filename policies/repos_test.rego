package sqlgate.repos_test

import rego.v1

import data.sqlgate.main

# Org levels, and overrides for acme/lax that try everything, gates included.
levels := {"defaults": {
	"drop-table": "approval",
	"index-not-concurrent": "deny",
	"rename-column": "warn",
	"privileged-grant": "approval",
	"lexing-setting-change": "deny",
	"policy-engine-error": "deny",
}}

repos := {"repositories": {
	"acme/lax": {
		"levels": {
			"index-not-concurrent": "warn",
			"drop-table": "warn",
			"privileged-grant": "warn",
			"lexing-setting-change": "warn",
			"policy-engine-error": "warn",
		},
		"disabled": ["drop-table", "privileged-grant", "lexing-setting-change", "rename-column", "policy-engine-error"],
		"environments": {"staging": {"levels": {"index-not-concurrent": "approval", "privileged-grant": "warn"}, "disabled": ["privileged-role"]}},
	},
	"acme/strict": {"levels": {"drop-table": "deny", "privileged-grant": "deny", "rename-column": "approval"}},
}}

level(repo, env, rule) := l if {
	l := main.level(rule) with input as {"repo": repo, "environment": env}
		with data.sqlgate.config.levels as levels
		with data.sqlgate.config.repos as repos
}

disabled(repo, env, rule) if {
	main.disabled(rule) with input as {"repo": repo, "environment": env}
		with data.sqlgate.config.levels as levels
		with data.sqlgate.config.repos as repos
}

test_override_applies_to_its_repository_only if {
	level("acme/lax", "production", "index-not-concurrent") == "warn"
	level("acme/other", "production", "index-not-concurrent") == "deny"
	level("", "production", "index-not-concurrent") == "deny"
}

test_repository_environment_wins_over_repository if {
	level("acme/lax", "staging", "index-not-concurrent") == "approval"
}

test_repository_may_disable_an_ordinary_rule if {
	disabled("acme/lax", "production", "rename-column")
	not disabled("acme/other", "production", "rename-column")
}

test_repository_may_not_lower_org_gates if {
	every rule in ["drop-table", "privileged-grant", "lexing-setting-change", "policy-engine-error"] {
		level("acme/lax", "production", rule) == level("", "production", rule)
		level("acme/lax", "staging", rule) == level("", "staging", rule)
	}
}

test_repository_may_not_disable_org_gates if {
	every rule in ["drop-table", "privileged-grant", "privileged-role", "lexing-setting-change", "policy-engine-error"] {
		not disabled("acme/lax", "production", rule)
		not disabled("acme/lax", "staging", rule)
	}
}

test_repository_may_raise_org_gates if {
	level("acme/strict", "production", "drop-table") == "deny"
	level("acme/strict", "production", "privileged-grant") == "deny"
	level("acme/strict", "production", "rename-column") == "approval"
}

drop := {"kind": "drop_table", "index": 0, "file": "m/001.sql", "line": 1, "column": 1, "tables": ["t"], "opaque": false}

rename := {"kind": "rename_column", "index": 1, "file": "m/001.sql", "line": 2, "column": "a", "table": "t", "new_name": "b", "opaque": false, "facts": {"table_created_in_set": false}}

decide(repo) := r if {
	r := main.result with input as {"dialect": "postgres", "environment": "production", "repo": repo, "statements": [drop, rename], "facts": {"indexes": []}}
		with data.sqlgate.config.levels as levels
		with data.sqlgate.config.repos as repos
}

test_end_to_end_floor_holds if {
	r := decide("acme/lax")
	r.decision == "needs_approval"
	[[f.rule, f.level] | some f in r.findings] == [["drop-table", "approval"]]
}

test_end_to_end_strict_repository if {
	r := decide("acme/strict")
	r.decision == "deny"
	[[f.rule, f.level] | some f in r.findings] == [["drop-table", "deny"], ["rename-column", "approval"]]
}

# Malformed override data is not understood: evaluation errors (the engine denies), never
# a silently relaxed level. An unknown level string is deny.
test_unknown_level_is_deny if {
	l := main.level("rename-column") with input as {"repo": "acme/x", "environment": "production"}
		with data.sqlgate.config.levels as levels
		with data.sqlgate.config.repos as {"repositories": {"acme/x": {"levels": {"rename-column": "off"}}}}
	l == "deny"
}
