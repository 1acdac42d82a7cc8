package sqlgate.rules.meta.rollback_missing_test

import rego.v1

import data.sqlgate.rules.meta.rollback_missing

alter := {"kind": "add_column", "index": 1, "file": "V2__x.sql", "table": "t"}

create := {"kind": "create_table", "index": 0, "file": "V2__x.sql", "table": "n"}

run(file) := r if {
	r := rollback_missing.report with input as {"files": [file], "statements": [create, alter]}
}

test_fires_without_rollback_or_down_file if {
	r := run({"path": "V2__x.sql", "metadata": {}, "down_file": null})
	count(r) == 1
	some f in r
	f.statement == 1
}

test_quiet_with_down_file if {
	count(run({"path": "V2__x.sql", "metadata": {}, "down_file": "U2__x.sql"})) == 0
}

test_quiet_with_declared_rollback if {
	count(run({"path": "V2__x.sql", "down_file": null, "metadata": {"rollback": {"strategy": "none", "reason": "r"}}})) == 0
}

test_quiet_when_only_creating if {
	count(rollback_missing.report) == 0 with input as {"files": [{"path": "V2__x.sql", "metadata": {}, "down_file": null}], "statements": [create]}
}
