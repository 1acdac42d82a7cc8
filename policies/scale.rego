# sqlgate table-size scaling. One package has one METADATA block (OPA refuses a redeclared package
# annotation): the package's is in main.rego.
#
# With a catalog, a lock or index rule on a small table (policy data: size.yaml) is
# lowered to warn: the lock is held for milliseconds. Without a catalog, or when the
# table's size is unknown, the level is the environment's (never lowered). Destructive
# gates are never scaled.
package sqlgate.main

import rego.v1

default size_config := {}

size_config := data.sqlgate.config.size

# The org's small-table limits, overridden by the repository's and then by the
# repository's environment's (repos.yaml `size.small`); org gates are never scaled.
small_limits := object.union(
	object.union(object.get(size_config, "small", {}), object.get(repo_config, ["size", "small"], {})),
	object.get(repo_env_config, ["size", "small"], {}),
)

# Statement i targets a table known to be below both small-table thresholds. Direct lookup
# of statement i (as main.rego's position does): scanning the statements per finding made
# evaluation quadratic; the equality guard keeps a misnumbered input unscaled.
small_table(i) if {
	s := input.statements[i]
	s.index == i
	rows := object.get(s, ["facts", "table_rows"], null)
	bytes := object.get(s, ["facts", "table_bytes"], null)
	is_number(rows)
	is_number(bytes)
	rows < object.get(small_limits, "max_rows", 0)
	bytes < object.get(small_limits, "max_bytes", 0)
}

# The level of `rule` for a finding on statement i: warn on a small table for the rules
# size.yaml lists, the environment's level otherwise.
scaled_level(rule, i) := "warn" if {
	rule in scalable_rules
	small_table(i)
} else := rule_levels[rule]

# The rules size.yaml lets scale, org gates excepted (computed once, not per finding).
scalable_rules := {rule | some rule in object.get(size_config, "small_table_rules", []); not org_gate(rule)}
