package sqlgate.main_test

import rego.v1

import data.sqlgate.main

# Statements with the fields main.rego reads; each fires exactly one rule below.
drop := {"kind": "drop_table", "index": 0, "file": "m/001.sql", "line": 1, "column": 1, "tables": ["t"], "opaque": false}

index := {"kind": "create_index", "index": 1, "file": "m/001.sql", "line": 3, "column": 5, "table": "t", "name": "i", "concurrently": true, "in_transaction": false, "opaque": false, "facts": {"lock": "SHARE UPDATE EXCLUSIVE", "table_created_in_set": false}}

blocking_index := object.union(index, {"concurrently": false, "facts": {"lock": "SHARE", "table_created_in_set": false, "lock_timeout_set": true}})

rename := {"kind": "rename_column", "index": 2, "file": "m/002.sql", "line": 7, "column": "a", "position": {"line": 7, "column": 1, "end_line": 7}, "table": "t", "new_name": "b", "opaque": false, "facts": {"table_created_in_set": false}}

levels := {
	"defaults": {"drop-table": "approval", "index-not-concurrent": "deny", "rename-column": "warn", "lock-timeout-missing": "warn"},
	"environments": {
		"dev": {"levels": {"index-not-concurrent": "warn", "drop-table": "warn"}, "disabled": ["drop-table", "rename-column"]},
		"odd": {"levels": {"index-not-concurrent": "fatal"}},
	},
}

run(env, statements) := r if {
	r := main.result with input as {"dialect": "postgres", "environment": env, "statements": statements, "facts": {"indexes": []}}
		with data.sqlgate.config.levels as levels
}

test_allow_when_nothing_fires if {
	run("production", [index]) == {"decision": "allow", "findings": [], "suppressions": []}
}

test_warn_only_is_allow if {
	r := run("production", [rename])
	r.decision == "allow"
	[f.rule | some f in r.findings] == ["rename-column"]
	r.findings[0].level == "warn"
}

test_approval_is_needs_approval if {
	run("production", [drop, rename]).decision == "needs_approval"
}

test_deny_wins if {
	run("production", [drop, blocking_index]).decision == "deny"
}

test_position_attached if {
	r := run("production", [drop, blocking_index, rename])
	f := r.findings[2]
	f.file == "m/002.sql"
	f.line == 7
	f.column == 1
	f.statement == 2
}

# Statement i must sit at input.statements[i] (the review guarantees it); a misnumbered
# input gets null positions, which the engine wrapper refuses rather than guessing.
test_position_null_when_misnumbered if {
	f := run("production", [rename]).findings[0]
	f.file == null
	f.line == null
}

test_position_prefers_position_object if {
	s := object.union(drop, {"position": {"line": 4, "column": 9, "end_line": 4}})
	f := run("production", [s]).findings[0]
	f.line == 4
	f.column == 9
}

test_sorted_by_statement_then_rule if {
	r := run("production", [rename, blocking_index, drop])
	[[f.statement, f.rule] | some f in r.findings] == [[0, "drop-table"], [1, "index-not-concurrent"], [2, "rename-column"]]
}

test_environment_lowers_non_destructive if {
	r := run("dev", [blocking_index])
	r.decision == "allow"
	r.findings[0].level == "warn"
}

test_unknown_environment_gets_production_levels if {
	run("qa-7", [blocking_index]).decision == "deny"
}

test_missing_environment_gets_production_levels if {
	r := main.result with input as {"dialect": "postgres", "statements": [blocking_index], "facts": {"indexes": []}}
		with data.sqlgate.config.levels as levels
	r.decision == "deny"
}

test_destructive_cannot_be_lowered if {
	r := run("dev", [drop])
	r.decision == "needs_approval"
	r.findings[0].level == "approval"
}

test_destructive_cannot_be_disabled_but_others_can if {
	r := run("dev", [drop, rename])
	[f.rule | some f in r.findings] == ["drop-table"]
}

test_destructive_floor_holds_when_defaults_are_lowered if {
	r := main.result with input as {"dialect": "postgres", "environment": "production", "statements": [drop]}
		with data.sqlgate.config.levels as {"defaults": {"drop-table": "warn"}}
	r.findings[0].level == "approval"
}

test_unknown_level_string_is_deny if {
	run("odd", [blocking_index]).decision == "deny"
}

test_rule_without_configured_level_is_deny if {
	r := main.result with input as {"dialect": "postgres", "environment": "production", "statements": [rename]}
		with data.sqlgate.config.levels as {"defaults": {}}
	r.decision == "deny"
}

test_finding_on_missing_statement_keeps_null_position if {
	r := main.result with input as {"dialect": "postgres", "environment": "production", "statements": [{"kind": "drop_table", "index": 9, "tables": ["t"]}]}
		with data.sqlgate.config.levels as levels
	r.findings[0].file == null
	r.findings[0].line == null
}

test_shipped_levels_dev_lowers_locking if {
	r := main.result with input as {"dialect": "postgres", "environment": "dev", "statements": [blocking_index], "facts": {"indexes": []}}
	r.decision == "allow"
}

test_shipped_levels_production_denies_locking if {
	r := main.result with input as {"dialect": "postgres", "environment": "production", "statements": [blocking_index], "facts": {"indexes": []}}
	r.decision == "deny"
}
