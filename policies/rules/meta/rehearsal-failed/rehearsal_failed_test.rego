package sqlgate.rules.meta.rehearsal_failed_test

import rego.v1

import data.sqlgate.rules.meta.rehearsal_failed

stmt := {"kind": "add_column", "index": 0, "file": "V2__x.sql", "table": "t"}

ev(extra) := object.union(
	{
		"kind": "rehearsal", "evidence_id": "e1", "environment": "staging", "target": "db",
		"passed": false, "error": "", "reconciliation_failed": [],
		"rollback": {"status": "passed", "diff": [], "error": ""},
	},
	extra,
)

run(evidence) := r if {
	r := rehearsal_failed.report with input as {"statements": [stmt], "evidence": evidence}
}

test_reconciliation_difference_is_cited if {
	r := run([ev({"reconciliation_failed": ["V2__x.sql count after migration: before 1 row(s) [(40)], after 1 row(s) [(36)]"]})])
	count(r) == 1
	some f in r
	contains(f.message, "rehearsal e1 in staging/db: reconciliation differs")
	contains(f.message, "after 1 row(s) [(36)]")
}

test_rollback_diff_is_in_the_message if {
	r := run([ev({"rollback": {"status": "failed", "diff": ["+ index public.i: CREATE INDEX i"], "error": ""}})])
	count(r) == 1
	some f in r
	contains(f.message, "+ index public.i")
}

test_failed_migration if {
	r := run([ev({"error": "boom"})])
	some f in r
	contains(f.message, "the migration failed: boom")
}

test_failed_without_reason_is_still_reported if {
	count(run([ev({})])) == 1
}

test_passed_rehearsal_is_quiet if {
	count(run([ev({"passed": true})])) == 0
}

test_no_evidence_is_quiet if {
	count(rehearsal_failed.report) == 0 with input as {"statements": [stmt]}
}
