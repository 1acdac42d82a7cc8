package sqlgate.rules.meta.environment_not_allowed_test

import rego.v1

import data.sqlgate.rules.meta.environment_not_allowed

stmts := [{"kind": "update", "index": 4, "file": "V3__fix.sql"}, {"kind": "select", "index": 5, "file": "V3__fix.sql"}]

run(env, metadata) := r if {
	r := environment_not_allowed.report with input as {"environment": env, "files": [{"path": "V3__fix.sql", "metadata": metadata}], "statements": stmts}
}

test_fires_outside_the_declared_list if {
	r := run("production", {"environments": ["dev", "staging"]})
	count(r) == 1
	some f in r
	f.statement == 4
	contains(f.message, "dev, staging")
}

test_quiet_inside_the_declared_list if {
	count(run("staging", {"environments": ["dev", "staging"]})) == 0
}

test_quiet_without_a_list if {
	count(run("production", {})) == 0
}
